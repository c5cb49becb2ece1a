/**
 * Linear stencils with constant weights, declared as data: the terms (an
 * offset per dimension and a weight, added in the order given) and, for an
 * explicit time step, the update form `u[i] + s·Σ`. A declared stencil
 * carries both what the WebAssembly SIMD sweep needs (the weights) and the
 * JavaScript point function computing the same operations in the same order —
 * the reference, the set-up probe's function, and the path of hosts without
 * SIMD: both give the same bits.
 *
 * Also which kernel a stencil stage runs and why: the planner's `explain()`
 * label and the ranks' choice come from the same function.
 *
 * Layer: plan (pure).
 */
import { InvalidArgument, InvalidPipeline } from "../errors.ts"
import type { AnyPointFn, ElementType, FieldStage } from "./description.ts"
import type { Dim } from "./grid.ts"

/** One term of a linear stencil: `weight · u[point + offset]`, the offset per dimension. */
export interface LinearTerm {
  /** Offset per dimension, in points (the last dimension fastest). */
  readonly offset: ReadonlyArray<number>
  /** The constant weight. */
  readonly weight: number
}

/**
 * A stencil declared by its weights (see `Stencil`): `Σ_k w_k·u[i + o_k]`,
 * the terms added left to right, or with `increment` s the update
 * `u[i] + s·Σ`. Pass it to `.stencil(…)` in place of a point function.
 */
export interface LinearStencil {
  /** Tells a declared stencil from a point function. */
  readonly kind: "linear"
  /** Grid dimensions the offsets are for. */
  readonly dims: Dim
  /** The family, e.g. `"heat"`, `"jacobi"`, `"linear"` (explain() and the stage's default name). */
  readonly family: string
  /** Its parameters as explain() shows them, e.g. `"r = 0.1"`. */
  readonly params: string
  /** The terms, in the order they are added. */
  readonly terms: ReadonlyArray<LinearTerm>
  /** The update form's factor s: `u[i] + s·Σ` (absent: the plain sum). */
  readonly increment?: number
  /** Farthest offset along any dimension. */
  readonly radius: number
  /** Stability numbers the family implies (`Stencil.heat(r)`: diffusion r), checked by the planner unless the stage's options say otherwise. */
  readonly stability?: { readonly diffusion?: number }
}

/** What `Stencil.linear` takes: the terms as `[offset, weight]`, the offset a number (1-D) or one per dimension. */
export interface LinearOptions {
  /** The weight of the point itself, added first (omit it, or list offset 0 among the terms to add it elsewhere). */
  readonly centre?: number
  /** `[offset, weight]` pairs in the order they are added. */
  readonly offsets: ReadonlyArray<readonly [number | ReadonlyArray<number>, number]>
  /** The update form's factor: `u[i] + increment·Σ`. */
  readonly increment?: number
  /** The family name explain() shows (default `"linear"`). */
  readonly family?: string
}

const finite = (what: string, v: unknown): number => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new InvalidArgument("Stencil", what, v, "must be a finite number")
  return v
}

function make(family: string, params: string, dims: number, terms: ReadonlyArray<LinearTerm>, increment: number | undefined): LinearStencil {
  if (dims !== 1 && dims !== 2 && dims !== 3) throw new InvalidArgument("Stencil", "dims", dims, "must be 1, 2 or 3")
  if (terms.length === 0) throw new InvalidArgument("Stencil", "offsets", "[]", "must list at least one term")
  let radius = 0
  for (const t of terms) {
    if (t.offset.length !== dims) throw new InvalidArgument("Stencil", "offsets", JSON.stringify(t.offset), `must give one offset per dimension (${dims})`)
    for (const o of t.offset) {
      if (!Number.isSafeInteger(o)) throw new InvalidArgument("Stencil", "offsets", o, "must be integers")
      radius = Math.max(radius, Math.abs(o))
    }
    finite("weight", t.weight)
  }
  return { kind: "linear", dims: dims as Dim, family, params, terms, ...(increment === undefined ? {} : { increment: finite("increment", increment) }), radius }
}

const axis = (dims: number, d: number, o: number): number[] => Array.from({ length: dims }, (_, e) => (e === d ? o : 0))

/**
 * Stencils declared by their weights, run by a WebAssembly SIMD sweep (f64x2
 * for Float64 fields, f32x4 for Float32) with the same bits as their
 * JavaScript point function. `.stencil(Stencil.heat(r))` in place of
 * `.stencil((u, i) => u[i]! + r * (u[i - 1]! - 2 * u[i]! + u[i + 1]!))`.
 *
 * @example
 * ```ts
 * import { explain, Grid, Pipeline, Stencil } from "rankflow"
 * const grid = Grid.line({ n: 101, boundary: Grid.dirichlet(0) })
 * const p = Pipeline.distribute(grid, (x) => Math.sin(Math.PI * x)).iterate(10, (s) => s.haloExchange().stencil(Stencil.heat(0.25))).gather()
 * console.log(explain(Pipeline.plan(p, 2)).includes("WebAssembly SIMD f64x2")) // true
 * ```
 */
export const Stencil = {
  /**
   * Any linear stencil with constant weights: `centre·u[i] + Σ w·u[i + offset]`
   * (terms added in the order given), or with `increment` s the explicit update
   * `u[i] + s·(…)`. Offsets are numbers in 1-D, `[d0, d1]` / `[d0, d1, d2]` per
   * dimension otherwise (the last dimension fastest, as `u[i ± 1]`).
   */
  linear(options: LinearOptions): LinearStencil {
    if (typeof options !== "object" || options === null || !Array.isArray(options.offsets)) throw new InvalidArgument("Stencil.linear", "offsets", options, "must be a list of [offset, weight] pairs")
    const first = options.offsets[0]?.[0] ?? 0
    const dims = typeof first === "number" ? 1 : first.length
    const terms: LinearTerm[] = []
    if (options.centre !== undefined) terms.push({ offset: axis(dims, 0, 0), weight: options.centre })
    for (const pair of options.offsets) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new InvalidArgument("Stencil.linear", "offsets", JSON.stringify(pair), "must be [offset, weight] pairs")
      const [o, w] = pair
      terms.push({ offset: typeof o === "number" ? [o] : [...o], weight: w })
    }
    const family = options.family ?? "linear"
    return make(family, `${terms.length} terms${options.increment === undefined ? "" : `, increment ${options.increment}`}`, dims, terms, options.increment)
  },
  /**
   * The explicit heat step `u[i] + r·(Σ neighbours − 2D·u[i])` in `dims`
   * dimensions (r = α·dt/h²; the planner checks r as the stencil's
   * `diffusion` number). Operation order: 1-D `u[i-1] − 2u[i] + u[i+1]`;
   * 2-D and 3-D the neighbours dimension by dimension (−, +), then
   * `− 2D·u[i]`.
   */
  heat(r: number, dims: Dim = 1): LinearStencil {
    finite("r", r)
    const terms: LinearTerm[] =
      dims === 1
        ? [
            { offset: [-1], weight: 1 },
            { offset: [0], weight: -2 },
            { offset: [1], weight: 1 },
          ]
        : [...Array.from({ length: dims }, (_, d) => [-1, 1].map((o) => ({ offset: axis(dims, d, o), weight: 1 }))).flat(), { offset: axis(dims, 0, 0), weight: -2 * dims }]
    return { ...make("heat", `r = ${r}`, dims, terms, r), stability: { diffusion: r } }
  },
  /** The Jacobi (Laplace) sweep: the mean of the 2D neighbours, `Σ (1/2D)·u[neighbour]`, dimension by dimension (−, +). */
  jacobi(dims: Dim = 1): LinearStencil {
    const w = 1 / (2 * dims)
    return make("jacobi", `${2 * dims}-point mean`, dims, Array.from({ length: dims }, (_, d) => [-1, 1].map((o) => ({ offset: axis(dims, d, o), weight: w }))).flat(), undefined)
  },
}

/** Whether a stencil argument is a declared linear stencil. */
export const isLinear = (f: unknown): f is LinearStencil => typeof f === "object" && f !== null && (f as { kind?: unknown }).kind === "linear"

/**
 * The JavaScript point function of a declared stencil: the terms in order,
 * each `w·u[…]`, then the update form — for Float32 fields every operation
 * rounded to single precision (`Math.fround`), as the f32x4 lanes round.
 * Point-function parameters as any stencil's: (u, i), (u, i, stride), (u, i, stride0, stride1).
 */
export function linearPointFunction(s: LinearStencil, type: ElementType): AnyPointFn {
  const f32 = type === "float32"
  const r = (e: string) => (f32 ? `F(${e})` : `(${e})`)
  const index = (o: ReadonlyArray<number>) => {
    const parts = ["i"]
    o.forEach((v, d) => {
      if (v === 0) return
      const step = d === s.dims - 1 ? `${v}` : `${v} * s${d}`
      parts.push(step.startsWith("-") ? `- ${step.slice(1)}` : `+ ${step}`)
    })
    return parts.join(" ")
  }
  let sum = ""
  s.terms.forEach((t, k) => {
    const term = r(`w${k} * u[${index(t.offset)}]`)
    sum = k === 0 ? term : r(`${sum} + ${term}`)
  })
  const body = s.increment === undefined ? sum : r(`u[i] + ${r(`inc * ${sum}`)}`)
  const params = ["u", "i", ...Array.from({ length: s.dims - 1 }, (_, d) => `s${d}`)]
  const weights = s.terms.map((t) => (f32 ? Math.fround(t.weight) : t.weight))
  const inc = s.increment === undefined ? 0 : f32 ? Math.fround(s.increment) : s.increment
  const names = weights.map((_, k) => `w${k}`)
  return new Function("F", "inc", ...names, `"use strict"; return function ${s.family}Point(${params.join(", ")}) { return ${body} }`)(Math.fround, inc, ...weights) as AnyPointFn
}

/** A stencil stage built for a declared stencil: it carries the weights (and the user's `kernel` choice). */
export function linearStage(stage: FieldStage, linear: LinearStencil, options: { readonly kernel?: "js" }): FieldStage {
  if (stage.kind !== "stencil") throw new Error("unreachable")
  if (options.kernel !== undefined && options.kernel !== "js") throw new InvalidArgument("stencil", "kernel", options.kernel, 'must be "js" or left out')
  return { ...stage, linear, ...(options.kernel === undefined ? {} : { kernel: options.kernel }) }
}

/** Which sweep a stencil stage runs. */
export interface SweepKernel {
  readonly kind: "simd" | "js"
  /** For explain(): the kernel and why. */
  readonly label: string
}

/**
 * The kernel of a stencil stage on a grid of `dims` dimensions whose output
 * field has element type `type`: the WebAssembly SIMD sweep for a declared
 * linear stencil of a Float64 or Float32 field, the compiled JavaScript sweep
 * otherwise (saying why). Refuses a declared stencil for other dimensions.
 */
export function sweepKernel(s: Extract<FieldStage, { kind: "stencil" }>, dims: number, type: ElementType): SweepKernel {
  const linear = s.linear
  if (linear === undefined) return { kind: "js", label: "JavaScript sweep (a point function)" }
  if (linear.dims !== dims) throw new InvalidPipeline("stencil", `${s.name} is declared for ${linear.dims} dimension${linear.dims === 1 ? "" : "s"} but the grid has ${dims}`)
  if (s.kernel === "js") return { kind: "js", label: 'JavaScript sweep (kernel: "js" requested)' }
  if (type !== "float64" && type !== "float32") return { kind: "js", label: `JavaScript sweep (${type} field: the SIMD kernels are for float64 and float32)` }
  const lanes = type === "float64" ? "f64x2" : "f32x4"
  const unrolled = [3, 5, 7, 9].includes(linear.terms.length) ? `${linear.terms.length} terms unrolled` : `${linear.terms.length} terms from a table`
  const [a, b, c] = linear.terms
  // The kernel's rule for stencil.wat's pair3u_f64 (kernels/stencil.ts): u[i−1] + w·u[i] + u[i+1], Float64, in 1-D.
  const paired = dims === 1 && type === "float64" && linear.terms.length === 3 && a!.offset[0] === -1 && b!.offset[0] === 0 && c!.offset[0] === 1 && a!.weight === 1 && c!.weight === 1
  const pairs = paired ? "; in windows of several steps, two steps per pass over the block" : ""
  return { kind: "simd", label: `WebAssembly SIMD ${lanes} sweep (linear, constant weights, ${unrolled}${linear.increment === undefined ? "" : ", update form"}${pairs})` }
}
