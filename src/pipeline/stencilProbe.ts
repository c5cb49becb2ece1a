/**
 * Checking a stencil's reads against what it declares — its radius, the
 * fields whose neighbours it reads, previous levels at the centre only —
 * and against its grid's dimension, so that a wrong stencil fails at set-up
 * with the offset it read, instead of giving results that depend on the
 * rank count.
 *
 * Layer: pipeline (rank side).
 */
import { StencilMisread, StencilOutOfRadius } from "../errors.ts"
import type { ElementType, FieldArray } from "../plan/description.ts"
import { arrayOf, type FieldBlock, makeView, POINT_PARAMS, type SweepSpec } from "./field.ts"


const PARAM_NAMES = ["", "u, i, x", "u, i, stride, x, y", "u, i, stride0, stride1, x, y, z"] as const

/** A point function with more parameters than the grid's dimension passes was written for another dimension. */
function checkParameters(stencil: ProbeSpec, dims: number): void {
  for (const o of stencil.outputs)
    if (o.fn.length > POINT_PARAMS[dims]!)
      throw new StencilMisread(stencil.name, `its point function takes ${o.fn.length} parameters, more than the ${POINT_PARAMS[dims]} a ${dims}-D grid passes (${PARAM_NAMES[dims]}): a stencil written for ${o.fn.length > 5 ? 3 : 2}-D on a ${dims}-D grid?`)
}

/**
 * The default check, once at set-up: each point function runs on a small
 * window of (2·radius + 3) points per dimension around one centre, in arrays
 * of the fields' own types (so the functions' element loads stay
 * monomorphic). Every point outside what the stencil may read is changed in
 * turn; a result that changes means the stencil read it: `StencilOutOfRadius`
 * with that offset. A result that is not a number before any change means a
 * read outside the window or at a non-integer index: `StencilMisread`.
 * A read that cannot change the result is not reported (it cannot change
 * results either).
 */
export function probeStencil(stencil: ProbeSpec, block: FieldBlock): void {
  const dims = block.dims
  checkParameters(stencil, dims)
  const reach = stencil.radius + 1
  const width = 2 * reach + 1
  const shape = Array.from({ length: dims }, () => width)
  const strides = shape.map((_, d) => width ** (dims - 1 - d))
  const length = width ** dims
  const centre = strides.reduce((a, s) => a + reach * s, 0)
  const base = (type: ElementType, salt: number) => {
    const a = arrayOf(type, length)
    const float = type === "float64" || type === "float32"
    for (let k = 0; k < length; k++) a[k] = float ? 0.5 + (((k + salt) * 7919) % 997) / 997 : 1 + ((k * 7 + salt) % 13)
    return a
  }
  const current = block.levels.map((l, f) => base(l.spec.type, f))
  const previous = block.levels.map((l, f) => base(l.spec.type, 100 + f))
  const view = makeView(block.levels.map((l, f) => ({ spec: l.spec, buffers: l.buffers, u: current[f]!, prev: previous[f]! })))
  // Coordinates of a real point of the block (its middle: the first point of a grid is often at 0, which hides a
  // coordinate used as a stride); strides of the window.
  const x = Array.from({ length: dims }, (_, d) => block.x(d, Math.max(block.lo[d]!, Math.floor((block.lo[d]! + block.hi[d]! - 1) / 2))))
  const args = dims === 1 ? [x[0]!] : dims === 2 ? [strides[0]!, x[0]!, x[1]!] : [strides[0]!, strides[1]!, x[0]!, x[1]!, x[2]!]
  for (const o of stencil.outputs) {
    const fn = o.fn as unknown as (...a: unknown[]) => number
    const first: unknown = stencil.form === "array" ? current[o.field] : view
    const run = () => fn(first, centre, ...args)
    const baseline = run()
    if (typeof baseline !== "number" || Number.isNaN(baseline)) {
      findFarRead(stencil, block, o, x)
      throw new StencilMisread(stencil.name, `on a window of ${stencil.radius + 1} points around its centre it returned ${String(baseline)}: it reads farther than radius ${stencil.radius} + 1, or at an index that is not an integer — are its parameters those of a ${dims}-D stencil (${PARAM_NAMES[dims]})?`)
    }
    const levels: Array<[FieldArray, string, number]> = []
    block.levels.forEach((l, f) => {
      if (stencil.form === "array" && f !== o.field) return
      levels.push([current[f]!, l.spec.name, stencil.reads.includes(f) ? stencil.radius : 0])
      if (l.buffers.length === 3 && stencil.form === "view") levels.push([previous[f]!, `prev.${l.spec.name}`, 0])
    })
    for (const [array, name, allowed] of levels)
      for (let k = 0; k < length; k++) {
        const offset = strides.map((s) => (Math.floor(k / s) % width) - reach)
        if (offset.every((v) => Math.abs(v) <= allowed)) continue
        const kept = array[k]!
        array[k] = array instanceof Float64Array || array instanceof Float32Array ? kept + 1000.5 : kept + 100
        const changed = !Object.is(run(), baseline)
        array[k] = kept
        if (changed) throw new StencilOutOfRadius(stencil.name, offset, allowed, name)
      }
  }
}

/** What the probe checks a stencil against. */
export interface ProbeSpec extends SweepSpec {
  readonly name: string
  readonly radius: number
  /** Fields whose neighbours it may read (the others only at the centre). */
  readonly reads: ReadonlyArray<number>
}

/**
 * `--debug`: runs the stencil over every point of the block through proxies
 * that record every index it reads, and throws `StencilOutOfRadius` for a
 * read farther than its radius from the centre (or of a neighbour of a field
 * it does not declare, or of a previous level, which is never exchanged),
 * and `StencilMisread` for an index that is not an integer. The proxies make
 * the point functions' element loads polymorphic: slower steps, which is
 * why this is the debug mode and `probeStencil` the default.
 */
export function checkEveryRead(stencil: ProbeSpec, block: FieldBlock): void {
  checkParameters(stencil, block.dims)
  const dims = block.dims
  let centre = 0
  const strides = block.strides as ReadonlyArray<number>
  const probe = (target: FieldArray, what: string, radius: number) => readChecked(stencil.name, dims, strides, () => centre, target, what, radius)
  const radiusOf = (f: number) => (stencil.reads.includes(f) ? stencil.radius : 0)
  const first: unknown =
    stencil.form === "array"
      ? probe(block.levels[stencil.outputs[0]!.field]!.u, block.levels[stencil.outputs[0]!.field]!.spec.name, stencil.radius)
      : makeView(block.levels.map((l, f) => ({ spec: l.spec, buffers: l.buffers, u: probe(l.u, l.spec.name, radiusOf(f)), prev: probe(l.prev, `prev.${l.spec.name}`, 0) })))
  const points = (d: number): number[] => {
    const lo = block.lo[d]!
    const hi = block.hi[d]!
    return Array.from({ length: Math.max(0, hi - lo) }, (_, k) => lo + k)
  }
  const [p0 = [], p1 = [0], p2 = [0]] = Array.from({ length: dims }, (_, d) => points(d))
  for (const a of p0)
    for (const c of dims > 1 ? p1 : [0])
      for (const e of dims > 2 ? p2 : [0]) {
        centre = dims === 1 ? a : dims === 2 ? a * strides[0]! + c : a * strides[0]! + c * strides[1]! + e
        const args = dims === 1 ? [block.x(0, a)] : dims === 2 ? [strides[0]!, block.x(0, a), block.x(1, c)] : [strides[0]!, strides[1]!, block.x(0, a), block.x(1, c), block.x(2, e)]
        for (const o of stencil.outputs) (o.fn as unknown as (...a: unknown[]) => number)(first, centre, ...args)
      }
}

/**
 * `target` behind a proxy that throws `StencilOutOfRadius` for a read farther
 * than `radius` from `centre()` along any dimension, and `StencilMisread` for
 * an index that is not an integer.
 */
function readChecked(stage: string, dims: number, strides: ReadonlyArray<number>, centre: () => number, target: FieldArray, what: string, radius: number): FieldArray {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === "string") {
        const index = Number(key)
        if (key !== "" && !Number.isNaN(index)) {
          if (!Number.isInteger(index)) throw new StencilMisread(stage, `it read ${what}[${key}], not an integer index: are its parameters those of a ${dims}-D stencil (${PARAM_NAMES[dims]})?`)
          const offsets = perDimOffsets(index - centre(), strides)
          if (offsets.some((o) => Math.abs(o) > radius)) throw new StencilOutOfRadius(stage, offsets, radius, what)
          return t[index]
        }
      }
      const value = Reflect.get(t, key, t) as unknown
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value
    },
  })
}

/** How much farther than the probe's window `findFarRead` looks: reads up to radius + FAR from the centre are named by their offset. */
const FAR = 8

/**
 * Why a point function returned no number on the probe's window: most often
 * it read farther than radius + 1 (`u[i + 3]` with radius 1), outside the
 * window. Runs it once more on a window FAR points wider, through proxies that
 * check every read as `--debug` does, and throws `StencilOutOfRadius` naming
 * the offset (or `StencilMisread` for an index that is not an integer); returns
 * if every read was allowed. Only on this failure path: a running stencil never
 * sees a proxy.
 */
function findFarRead(stencil: ProbeSpec, block: FieldBlock, output: ProbeSpec["outputs"][number], x: ReadonlyArray<number>): void {
  const dims = block.dims
  const reach = stencil.radius + FAR
  const width = 2 * reach + 1
  const strides = Array.from({ length: dims }, (_, d) => width ** (dims - 1 - d))
  const centre = strides.reduce((a, s) => a + reach * s, 0)
  const check = (type: ElementType, what: string, radius: number) => readChecked(stencil.name, dims, strides, () => centre, arrayOf(type, width ** dims).fill(1), what, radius)
  const level = block.levels[output.field]!
  const first: unknown =
    stencil.form === "array"
      ? check(level.spec.type, level.spec.name, stencil.radius)
      : makeView(block.levels.map((l, f) => ({ spec: l.spec, buffers: l.buffers, u: check(l.spec.type, l.spec.name, stencil.reads.includes(f) ? stencil.radius : 0), prev: check(l.spec.type, `prev.${l.spec.name}`, 0) })))
  const args = dims === 1 ? [x[0]!] : dims === 2 ? [strides[0]!, x[0]!, x[1]!] : [strides[0]!, strides[1]!, x[0]!, x[1]!, x[2]!]
  try {
    ;(output.fn as unknown as (...a: unknown[]) => unknown)(first, centre, ...args)
  } catch (e) {
    if (e instanceof StencilOutOfRadius || e instanceof StencilMisread) throw e
  }
}

/** Splits a flat offset into per-dimension offsets (nearest decomposition). */
function perDimOffsets(flat: number, strides: ReadonlyArray<number>): number[] {
  const out: number[] = []
  for (const s of strides) {
    const o = Math.round(flat / s)
    out.push(o)
    flat -= o * s
  }
  return out
}

