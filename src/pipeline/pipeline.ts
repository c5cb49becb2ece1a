/**
 * The pipeline DSL users write: `Pipeline.distribute(grid or range)`, then
 * stages (`haloExchange`, `stencil`, `mapLocal`, `scan`, `iterate`, `until`),
 * then how to collect the result (`gather`, `reduce`, `allreduce`). Each
 * step returns a new immutable value whose type says what comes next; the
 * finished `Pipeline<R>` is a description the planner plans and the
 * executor runs.
 *
 * Layer: pipeline.
 */
import type { Semigroup } from "fp-ts/lib/Semigroup.js"
import type { Comm, Sendable } from "../comm/comm.ts"
import { SUM, type ElementwiseOp, type Loc, type LocOp, type ReduceOp, type TypedArray } from "../comm/ops.ts"
import { InvalidArgument } from "../errors.ts"
import type {
  ArrayOf,
  AnyPointFn,
  Block,
  Chunk,
  Description,
  ElementType,
  Every,
  FieldArray,
  FieldInit,
  FieldsBlock,
  FieldsStencilOptions,
  FieldSpec,
  FieldStage,
  NumberOp,
  PointFn,
  Shape,
  Source,
  StencilFor,
  StencilOptions,
  Terminal,
  View,
} from "../plan/description.ts"
import type { Dim, Grid } from "../plan/grid.ts"
import type { Distribution } from "../plan/layout.ts"
import { plan as planPipeline, type Plan } from "../plan/plan.ts"
import { hostCache } from "./cacheSizes.ts"
import { of as rangeOf, type Range } from "../plan/range.ts"
import { stabilityOf } from "../plan/stability.ts"
import { isLinear, type LinearStencil, linearPointFunction, linearStage } from "../plan/linearStencil.ts"
import { execute, prepare as prepareOn, type ExecuteOptions, type Outcome, type Prepared } from "./execute.ts"
import { checkedOp } from "./operands.ts"

/** A complete pipeline whose result has type R (on rank 0; on every rank after `allreduce`). */
export interface Pipeline<R> {
  readonly _tag: "Pipeline"
  readonly description: Description
  /** Phantom: the result type. */
  readonly _R?: () => R
  /** The same pipeline with `f` applied to its result where it is collected. */
  map<S>(f: (result: R) => S): Pipeline<S>
}

function pipelineOf<R>(description: Description): Pipeline<R> {
  return {
    _tag: "Pipeline",
    description,
    map<S>(f: (result: R) => S): Pipeline<S> {
      const before = description.finish
      const finish = before === undefined ? (v: unknown) => f(v as R) : (v: unknown) => f(before(v) as R)
      return pipelineOf<S>({ ...description, finish })
    },
  }
}

const complete = <R>(source: Source, stages: ReadonlyArray<FieldStage>, terminal: Terminal): Pipeline<R> => pipelineOf<R>({ source, stages, terminal })

/** The initial value of a D-dimensional field as a function of the point's coordinates. */
export type InitFor<D extends Dim> = D extends 1 ? (x: number) => number : D extends 2 ? (x: number, y: number) => number : (x: number, y: number, z: number) => number

/**
 * Where a field's values come from: a function of the coordinates, the whole
 * field as an array in global row-major order (held by rank 0: other ranks
 * may pass undefined), or data made by `Pipeline.fromFile`.
 */
export type InitialValues<D extends Dim> = InitFor<D> | ArrayLike<number> | FileData | undefined

/** A field read from a file, each rank reading its block only: made by `Pipeline.fromFile`. */
export interface FileData {
  readonly _tag: "FileData"
  /** The file's path, as given. */
  readonly path: string
  /** A `.npy` file, or raw little-endian elements. */
  readonly format: "npy" | "raw"
}

/**
 * A field's initial values read from a file in parallel, each rank reading
 * only its block: a `.npy` file (C order, little-endian, of the field's
 * element type and the grid's shape), or `format: "raw"` for bare
 * little-endian elements.
 *
 * @example
 * ```ts
 * import { Grid, Pipeline } from "rankflow"
 * const field = Pipeline.distribute(Grid.line({ n: 5 }), Pipeline.fromFile("u0.npy"))
 * console.log(field.source.kind) // grid
 * ```
 */
export function fromFile(path: string, options: { readonly format?: "npy" | "raw" } = {}): FileData {
  if (typeof path !== "string" || path === "") throw new InvalidArgument("Pipeline.fromFile", "path", path, "must be a file path")
  const format = options.format ?? (path.endsWith(".npy") ? "npy" : "raw")
  if (format !== "npy" && format !== "raw") throw new InvalidArgument("Pipeline.fromFile", "format", format, 'must be "npy" or "raw"')
  return { _tag: "FileData", path, format }
}

function fieldInit(op: string, name: string, values: unknown): FieldInit {
  if (typeof values === "function") return { kind: "function", fn: values as (...x: number[]) => number }
  if (values === undefined) return { kind: "array", data: undefined }
  if (typeof values === "object" && values !== null && (values as { _tag?: unknown })._tag === "FileData") {
    const file = values as FileData
    return { kind: "file", path: file.path, format: file.format }
  }
  if (typeof values === "object" && values !== null && typeof (values as ArrayLike<number>).length === "number") return { kind: "array", data: values as ArrayLike<number> }
  throw new InvalidArgument(op, name, values, "must be a function of the point's coordinates, an array of the whole field (on rank 0), or Pipeline.fromFile(…)")
}

const ELEMENT_TYPES: ReadonlyArray<ElementType> = ["float64", "float32", "int32", "uint8"]

function elementType(op: string, name: string, type: unknown): ElementType {
  if (type === undefined) return "float64"
  if (!ELEMENT_TYPES.includes(type as ElementType)) throw new InvalidArgument(op, name, type, `must be one of ${ELEMENT_TYPES.map((t) => `"${t}"`).join(", ")}`)
  return type as ElementType
}

/** Options of a loop. */
export interface LoopOptions<F = Float64Array> {
  /** Observe the gathered field on rank 0 every `every.k` steps. */
  readonly every?: Every<F>
}

/** Options of an `until` loop. */
export interface UntilOptions<D extends Dim, B = Block<D>, F = Float64Array> extends LoopOptions<F> {
  /** Upper bound on the iterations. */
  readonly maxSteps: number
  /** The rank-local measure, e.g. the largest change in the block. */
  readonly measure: (block: B) => number
  /** How local measures combine across ranks (e.g. MAX). */
  readonly op: NumberOp
  /** Stop when this holds for the combined measure. */
  readonly stop: (value: number, step: number) => boolean
  /** Measure every this many steps (default 1): each measure is one allreduce. */
  readonly check?: number
}

/**
 * The ops that reduce values of type A: built-in ops for numbers, typed
 * arrays and `{value, index}` pairs, otherwise a Semigroup (or Monoid) of A.
 */
export type OpFor<A> = [A] extends [number] ? NumberOp : [A] extends [Loc] ? LocOp | Semigroup<A> : [A] extends [TypedArray] ? ElementwiseOp | Semigroup<A> : Semigroup<A>

const positiveInt = (op: string, name: string, v: number): number => {
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgument(op, name, v, "must be a positive integer")
  return v
}

const nameOf = (fn: { name: string }, fallback: string): string => (fn.name === "" ? fallback : fn.name)

function radiusOf(options: StencilOptions): number {
  const radius = options.radius ?? 1
  if (!Number.isSafeInteger(radius) || radius < 0) throw new InvalidArgument("stencil", "radius", radius, "must be an integer ≥ 0")
  return radius
}

/** What every stage list shares: the fields' names, the stages so far, and the stages that do not depend on the fields' types. */
abstract class Stages {
  constructor(
    readonly stages: ReadonlyArray<FieldStage>,
    /** The names of the fields, in the source's order. */
    readonly names: ReadonlyArray<string>,
  ) {}
  protected abstract with(stages: ReadonlyArray<FieldStage>): this

  /** Refreshes every ghost cell from the neighbouring blocks, and boundary ghosts from the boundary conditions (of the fields the next stencils read). */
  haloExchange(): this {
    return this.with([...this.stages, { kind: "haloExchange" }])
  }

  protected push(stage: FieldStage): this {
    return this.with([...this.stages, stage])
  }

  protected stencilStage(outputs: ReadonlyArray<{ field: number; fn: AnyPointFn }>, form: "array" | "view", reads: ReadonlyArray<number>, options: StencilOptions, fallback: { name: string }): FieldStage {
    const name = options.name ?? nameOf(fallback, `stencil#${this.count("stencil") + 1}`)
    return {
      kind: "stencil",
      form,
      outputs,
      reads,
      radius: radiusOf(options),
      name,
      ...stabilityOf(options),
      ...(options.stale === undefined ? {} : { stale: options.stale }),
    }
  }

  protected mapLocalStage(kernel: (block: never) => void, writes: ReadonlyArray<number>, options: { readonly inPlace?: boolean; readonly name?: string }): FieldStage {
    const name = options.name ?? nameOf(kernel, `mapLocal#${this.count("mapLocal") + 1}`)
    return { kind: "mapLocal", fn: kernel, inPlace: options.inPlace === true, writes, name }
  }

  protected loopStage(steps: number, body: ReadonlyArray<FieldStage>, options: LoopOptions<unknown>): FieldStage {
    positiveInt("iterate", "steps", steps)
    return { kind: "iterate", steps, body, ...every(options) }
  }

  protected untilStage(options: UntilOptions<Dim, never, unknown>, body: ReadonlyArray<FieldStage>): FieldStage {
    positiveInt("until", "maxSteps", options.maxSteps)
    const check = positiveInt("until", "check", options.check ?? 1)
    return { kind: "until", maxSteps: options.maxSteps, body, measure: options.measure, op: checkedOp("until", options.op), stop: options.stop, check, ...every(options) }
  }

  /** The index of field `name`, or an error naming the fields there are. */
  protected fieldIndex(op: string, name: string): number {
    const f = this.names.indexOf(name)
    if (f < 0) throw new InvalidArgument(op, "field", name, `is not a field of this grid (its fields: ${this.names.join(", ")})`)
    return f
  }

  private count(kind: FieldStage["kind"]): number {
    return this.stages.filter((s) => s.kind === kind).length
  }
}

/** The stages of one field of element type A (Float64Array unless declared). */
abstract class FieldStages<D extends Dim, A extends FieldArray = Float64Array> extends Stages {
  /**
   * Updates every point (but fixed Dirichlet edge points) from a per-point
   * function of the current values: `next[i] = f(u, i, …coordinates)`, then
   * swaps the buffers. 1-D: `(u, i, x)`; 2-D: `(u, i, stride, x, y)`;
   * 3-D: `(u, i, stride0, stride1, x, y, z)`, `i` being the flat local index.
   */
  stencil(f: StencilFor<D, A> | LinearStencil, options: StencilOptions = {}): this {
    if (isLinear(f)) return this.push(linearStage(this.stencilStage([{ field: 0, fn: linearPointFunction(f, "float64") }], "array", [0], { ...f.stability, ...options, radius: Math.max(f.radius, options.radius ?? 0) }, { name: f.family }), f, options))
    if (typeof f !== "function") throw new InvalidArgument("stencil", "f", f, "must be a point function or a declared Stencil")
    return this.push(this.stencilStage([{ field: 0, fn: f as unknown as AnyPointFn }], "array", [0], options, f))
  }

  /**
   * A whole-block kernel: reads `block.u`, writes `block.next` on
   * [lo, hi) in every dimension; the buffers are swapped after. With
   * `inPlace`, the kernel updates `block.u` itself and nothing is swapped.
   */
  mapLocal(kernel: (block: Block<D, A>) => void, options: { readonly inPlace?: boolean; readonly name?: string } = {}): this {
    return this.push(this.mapLocalStage(kernel as (block: never) => void, [0], options))
  }

  /** Inclusive prefix reduction along a 1-D field, in global order. */
  scan<S extends FieldStages<1, A>>(this: S, op: NumberOp): S {
    return this.push({ kind: "scan", op: checkedOp("scan", op) })
  }

  /** Runs `body` `steps` times. */
  iterate(steps: number, body: (s: FieldBody<D, A>) => FieldBody<D, A>, options: LoopOptions<A> = {}): this {
    return this.push(this.loopStage(steps, body(new FieldBody<D, A>([], this.names)).stages, options as LoopOptions<unknown>))
  }

  /** Runs `body` until `stop(allreduced measure)` holds, at most `maxSteps` times. */
  until(options: UntilOptions<D, Block<D, A>, A>, body: (s: FieldBody<D, A>) => FieldBody<D, A>): this {
    return this.push(this.untilStage(options as unknown as UntilOptions<Dim, never, unknown>, body(new FieldBody<D, A>([], this.names)).stages))
  }
}

function every(options: LoopOptions<unknown>): { every?: Every<unknown> } {
  if (options.every === undefined) return {}
  positiveInt("every", "k", options.every.k)
  return { every: options.every }
}

/** The stages of a loop body. */
export class FieldBody<D extends Dim, A extends FieldArray = Float64Array> extends FieldStages<D, A> {
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new FieldBody<D, A>(stages, this.names) as this
  }
}

/** A distributed D-dimensional field of element type A (Float64Array unless declared) and the stages applied to it so far. */
export class Field<D extends Dim, A extends FieldArray = Float64Array> extends FieldStages<D, A> {
  constructor(
    /** Where the field comes from: its grid and initial values. */
    readonly source: Source,
    stages: ReadonlyArray<FieldStage>,
  ) {
    super(stages, ["u"])
  }
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new Field<D, A>(this.source, stages) as this
  }

  /** The whole field on rank 0, in global row-major order. */
  gather(): Pipeline<A> {
    return complete(this.source, this.stages, { kind: "gather" })
  }

  /**
   * Writes the field to `path` in parallel, each rank writing its block: a
   * `.npy` file numpy reads (C order, the grid's shape), or raw little-endian
   * elements for any other name. The result is the path, on rank 0.
   */
  save(path: string): Pipeline<string> {
    return complete(this.source, this.stages, { kind: "save", files: [{ field: 0, path: savePath(path) }] })
  }

  /** Folds every point with `op` (or combines `local(block)` per rank) onto rank 0. */
  reduce(op: NumberOp): Pipeline<number>
  reduce<R>(op: OpFor<R>, local: (block: Block<D, A>) => R): Pipeline<R>
  reduce<R>(op: ReduceOp<R> | NumberOp, local?: (block: Block<D, A>) => R): Pipeline<R> {
    return complete(this.source, this.stages, reduceTerminal(op, false, local))
  }

  /** As `reduce`, with the result on every rank. */
  allreduce(op: NumberOp): Pipeline<number>
  allreduce<R>(op: OpFor<R>, local: (block: Block<D, A>) => R): Pipeline<R>
  allreduce<R>(op: ReduceOp<R> | NumberOp, local?: (block: Block<D, A>) => R): Pipeline<R> {
    return complete(this.source, this.stages, reduceTerminal(op, true, local))
  }
}

// ---- several fields -------------------------------------------------------------

/** One field's declaration in `distribute(grid, { name: … })`: its initial values, or those with an element type and a previous time level. */
export type FieldDecl<D extends Dim> =
  | InitialValues<D>
  | {
      /** The initial values. */
      readonly init: InitialValues<D>
      /** Element type (default "float64"). */
      readonly type?: ElementType
      /** The previous time level's initial values: the field keeps two levels (`f.prev.name`), rotated without copying. */
      readonly previous?: InitialValues<D>
    }

/** The array type a declaration gives. */
export type ArrayOfDecl<T> = T extends { readonly type: infer E extends ElementType } ? ArrayOf[E] : Float64Array

/** Field names to array types, from `distribute`'s record. */
export type ShapeOfDecls<R> = { readonly [K in keyof R]: ArrayOfDecl<R[K]> }

/** The names of the fields that keep a previous level. */
export type PrevOfDecls<R> = { [K in keyof R]: R[K] extends { readonly previous: unknown } ? K : never }[keyof R]

/** Options of a `mapLocal` on several fields. */
export interface FieldsMapOptions<S extends Shape> {
  /** The fields whose `next` it writes, rotated after it (default: every field; none with `inPlace`). */
  readonly writes?: ReadonlyArray<keyof S & string>
  /** It updates the fields' `u` itself: nothing is rotated. */
  readonly inPlace?: boolean
  /** A name for explain() and errors. */
  readonly name?: string
}

/** The point functions of a stencil of several fields: one per field it writes. */
export type Outputs<D extends Dim, S extends Shape, P extends keyof S> = { readonly [K in keyof S]?: PointFn<D, View<S, P>> }

/** The stages of several fields S (P: those with a previous level). */
abstract class FieldsStages<D extends Dim, S extends Shape, P extends keyof S> extends Stages {
  /**
   * Updates the fields named in `outputs` at every point (but fixed Dirichlet
   * edge points), all from the current values: `next.v[i] = outputs.v(f, i,
   * …)`, `f` holding every field's current values by name and `f.prev` the
   * previous levels; then the written fields rotate (a field with a previous
   * level: previous ← current ← next, without copying).
   */
  stencil(outputs: Outputs<D, S, P>, options: FieldsStencilOptions<S> = {}): this {
    if (typeof outputs !== "object" || outputs === null) throw new InvalidArgument("stencil", "outputs", outputs, "must be a record of point functions by field name")
    const entries = Object.entries(outputs as Record<string, unknown>).filter(([, fn]) => fn !== undefined)
    if (entries.length === 0) throw new InvalidArgument("stencil", "outputs", "{}", `must name at least one field (${this.names.join(", ")})`)
    const list = entries.map(([name, fn]) => {
      if (typeof fn !== "function") throw new InvalidArgument("stencil", `outputs.${name}`, fn, "must be a point function")
      return { field: this.fieldIndex("stencil", name), fn: fn as AnyPointFn }
    })
    const reads = options.reads === undefined ? this.names.map((_, f) => f) : options.reads.map((name) => this.fieldIndex("stencil", name))
    return this.push(this.stencilStage(list, "view", reads, options, { name: "" })) // an output's function is named for its field: no name for the stencil
  }

  /** A whole-block kernel over `block.fields.name.{u, next, prev}`; the fields in `writes` rotate after it. */
  mapLocal(kernel: (block: FieldsBlock<D, S>) => void, options: FieldsMapOptions<S> = {}): this {
    const writes = (options.writes ?? this.names).map((name) => this.fieldIndex("mapLocal", name))
    return this.push(this.mapLocalStage(kernel as (block: never) => void, writes, options))
  }

  /** Runs `body` `steps` times. */
  iterate(steps: number, body: (s: FieldsBody<D, S, P>) => FieldsBody<D, S, P>, options: LoopOptions<S> = {}): this {
    return this.push(this.loopStage(steps, body(new FieldsBody<D, S, P>([], this.names)).stages, options as LoopOptions<unknown>))
  }

  /** Runs `body` until `stop(allreduced measure)` holds, at most `maxSteps` times. */
  until(options: UntilOptions<D, FieldsBlock<D, S>, S>, body: (s: FieldsBody<D, S, P>) => FieldsBody<D, S, P>): this {
    return this.push(this.untilStage(options as unknown as UntilOptions<Dim, never, unknown>, body(new FieldsBody<D, S, P>([], this.names)).stages))
  }
}

/** The stages of a loop body over several fields. */
export class FieldsBody<D extends Dim, S extends Shape, P extends keyof S = never> extends FieldsStages<D, S, P> {
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new FieldsBody<D, S, P>(stages, this.names) as this
  }
}

/** Several named fields on one D-dimensional grid, and the stages applied to them so far. */
export class Fields<D extends Dim, S extends Shape, P extends keyof S = never> extends FieldsStages<D, S, P> {
  constructor(
    /** The grid and the fields' declarations. */
    readonly source: Source,
    stages: ReadonlyArray<FieldStage>,
  ) {
    super(stages, source.kind === "grid" ? source.fields.map((f) => f.name) : [])
  }
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new Fields<D, S, P>(this.source, stages) as this
  }

  /**
   * Every field (or the named ones) on rank 0, in global row-major order, by
   * name — with `prev` holding the previous levels when every field is
   * gathered; one name gives that field's array.
   */
  gather(): Pipeline<S & { readonly prev: Pick<S, P> }>
  gather<K extends keyof S & string>(name: K): Pipeline<S[K]>
  gather<K extends keyof S & string>(name: K, ...more: K[]): Pipeline<Pick<S, K>>
  gather(...names: string[]): Pipeline<unknown> {
    const fields = names.length === 0 ? this.names.map((_, f) => f) : names.map((n) => this.fieldIndex("gather", n))
    return complete(this.source, this.stages, { kind: "gather", fields, record: names.length !== 1 })
  }

  /**
   * Writes fields in parallel, each rank writing its blocks: `{ u: "u.npy" }`
   * one file per named field (`.npy`, or raw little-endian elements for any
   * other name). The result is the record of paths, on rank 0.
   */
  save<K extends keyof S & string>(paths: { readonly [F in K]: string }): Pipeline<{ readonly [F in K]: string }> {
    if (typeof paths !== "object" || paths === null) throw new InvalidArgument("save", "paths", paths, "must be a record of file paths by field name")
    const files = Object.entries(paths as Record<string, string>).map(([name, path]) => ({ field: this.fieldIndex("save", name), path: savePath(path) }))
    if (files.length === 0) throw new InvalidArgument("save", "paths", "{}", `must name at least one field (${this.names.join(", ")})`)
    return complete(this.source, this.stages, { kind: "save", files })
  }

  /** Folds every point of field `name` with `op` (or combines `local(block)` per rank) onto rank 0. */
  reduce(op: NumberOp, name: keyof S & string): Pipeline<number>
  reduce<R>(op: OpFor<R>, local: (block: FieldsBlock<D, S>) => R): Pipeline<R>
  reduce<R>(op: ReduceOp<R> | NumberOp, what: string | ((block: FieldsBlock<D, S>) => R)): Pipeline<R> {
    return complete(this.source, this.stages, this.fieldsTerminal(op, false, what))
  }

  /** As `reduce`, with the result on every rank. */
  allreduce(op: NumberOp, name: keyof S & string): Pipeline<number>
  allreduce<R>(op: OpFor<R>, local: (block: FieldsBlock<D, S>) => R): Pipeline<R>
  allreduce<R>(op: ReduceOp<R> | NumberOp, what: string | ((block: FieldsBlock<D, S>) => R)): Pipeline<R> {
    return complete(this.source, this.stages, this.fieldsTerminal(op, true, what))
  }

  private fieldsTerminal<R>(op: ReduceOp<R> | NumberOp, all: boolean, what: string | ((block: FieldsBlock<D, S>) => R)): Terminal {
    if (typeof what === "string") return { ...reduceTerminal(op, all), field: this.fieldIndex(all ? "allreduce" : "reduce", what) } as Terminal
    if (typeof what !== "function") throw new InvalidArgument(all ? "allreduce" : "reduce", "field", what, `must name a field (${this.names.join(", ")}) or be a function of the block`)
    return reduceTerminal(op, all, what)
  }
}

function savePath(path: unknown): string {
  if (typeof path !== "string" || path === "") throw new InvalidArgument("save", "path", path, "must be a file path")
  return path
}

function reduceTerminal<R>(op: ReduceOp<R> | NumberOp, all: boolean, local?: (block: never) => R): Terminal {
  return { kind: "reduce", op: checkedOp(all ? "allreduce" : "reduce", op) as ReduceOp<unknown>, all, ...(local === undefined ? {} : { local: local as (block: never) => unknown }) }
}

/** Reserved: the view's record of previous levels. */
const RESERVED = new Set(["prev"])

function fieldSpecs<D extends Dim>(decls: Readonly<Record<string, FieldDecl<D>>>): FieldSpec[] {
  const op = "Pipeline.distribute"
  const names = Object.keys(decls)
  if (names.length === 0) throw new InvalidArgument(op, "fields", "{}", "must declare at least one field")
  return names.map((name) => {
    if (RESERVED.has(name) || !/^[A-Za-z_$][\w$]*$/.test(name)) throw new InvalidArgument(op, "field name", name, `must be an identifier other than ${[...RESERVED].map((r) => `"${r}"`).join(", ")}`)
    const decl = decls[name]
    const full = typeof decl === "object" && decl !== null && "init" in decl ? decl : { init: decl as InitialValues<D> }
    const type = elementType(op, `${name}.type`, (full as { type?: unknown }).type)
    const previous = (full as { previous?: InitialValues<D> }).previous
    return {
      name,
      type,
      init: fieldInit(op, name, full.init),
      ...("previous" in full && previous !== undefined ? { previous: fieldInit(op, `${name}.previous`, previous) } : {}),
    }
  })
}

/** A distributed range, waiting for its per-chunk function. */
export class Ranged {
  constructor(
    /** The range, cut into its fixed chunks. */
    readonly range: Range,
    /** How chunks are dealt to ranks: `"block"`, `"cyclic"` or `"dynamic"` (on demand). */
    readonly distribution: Distribution,
  ) {}

  /**
   * Computes one value per chunk: `f({ index, start, end, random })`. The
   * chunk and its random stream do not depend on the rank count.
   */
  mapLocal<A>(f: (chunk: Chunk) => Sendable<A>): Chunks<A> {
    return new Chunks<A>({ kind: "range", range: this.range, distribution: this.distribution, map: f })
  }
}

/**
 * A collection dealt to ranks item by item (in blocks, or cyclically). Every
 * rank must hold the same items — build them at the module's top level, as
 * every rank runs it; only results travel.
 */
export class Items<T> {
  constructor(
    /** The items, the same on every rank. */
    readonly items: ReadonlyArray<T>,
    /** How items are dealt to ranks: `"block"`, `"cyclic"` or `"dynamic"` (on demand). */
    readonly distribution: Distribution,
  ) {}

  /** One value per item: `f(item, index)`; collected in item order. */
  map<A>(f: (item: T, index: number) => Sendable<A>): Chunks<A> {
    const items = this.items
    return new Ranged(rangeOf(items.length, { chunk: 1 }), this.distribution).mapLocal((c) => f(items[c.start]!, c.start))
  }
}

/** One value per chunk, to be collected. Values combine in chunk order: the result is the same on any rank count. */
export class Chunks<A> {
  constructor(
    /** The range and the per-chunk function. */
    readonly source: Source,
  ) {}

  /** Every chunk's value on rank 0, in chunk order. */
  gather(): Pipeline<A[]> {
    return complete(this.source, [], { kind: "gather" })
  }

  /** The chunk values folded with `op` in chunk order, on rank 0. */
  reduce(this: Chunks<number>, op?: NumberOp): Pipeline<number>
  reduce(op: OpFor<A>): Pipeline<A>
  reduce(op?: ReduceOp<A> | NumberOp): Pipeline<never> {
    return complete(this.source, [], { kind: "reduce", op: checkedOp("reduce", op ?? SUM_NUMBERS) as ReduceOp<unknown>, all: false })
  }

  /** As `reduce`, with the result on every rank. */
  allreduce(this: Chunks<number>, op?: NumberOp): Pipeline<number>
  allreduce(op: OpFor<A>): Pipeline<A>
  allreduce(op?: ReduceOp<A> | NumberOp): Pipeline<never> {
    return complete(this.source, [], { kind: "reduce", op: checkedOp("allreduce", op ?? SUM_NUMBERS) as ReduceOp<unknown>, all: true })
  }

  /** Inclusive prefixes of the chunk values in chunk order, on rank 0. */
  scan(op: OpFor<A>): Pipeline<A[]> {
    return complete(this.source, [], { kind: "scan", op: checkedOp("scan", op) as ReduceOp<unknown> })
  }
}

/** The default fold: the built-in SUM, which refuses a non-number (from plain JS) with ReduceTypeMismatch instead of concatenating strings. */
const SUM_NUMBERS: ReduceOp<unknown> = SUM

/** Options of `distribute`. */
export interface DistributeOptions {
  /**
   * How chunks of a range (or items) go to ranks: "block" (default), "cyclic"
   * (evens out work that grows along the range), or "dynamic" (a free rank
   * takes the next chunk at run time: any unevenness). Results are the same.
   */
  readonly distribution?: Distribution
  /** Ranks per grid dimension (default: computeDims). */
  readonly rankDims?: ReadonlyArray<number>
}

/** Options of `distribute` for one grid field. */
export interface FieldOptions<E extends ElementType> extends DistributeOptions {
  /** Element type (default "float64"): Float32 halves the bytes, Int32 and Uint8 hold counts, labels and cells. */
  readonly type?: E
}

const isRecordOfFields = (v: unknown): boolean =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && (v as { _tag?: unknown })._tag !== "FileData" && typeof (v as { length?: unknown }).length !== "number"

/**
 * Starts a pipeline: a grid with the initial value of every point (one field,
 * or a record of named fields), or a range whose chunks a `mapLocal` will
 * compute.
 *
 * @example
 * ```ts
 * import { Grid, Pipeline, Range } from "rankflow"
 * const comm = await (await import("rankflow")).init()
 * const total = Pipeline.run(Pipeline.distribute(Range.of(100)).mapLocal((c) => c.end - c.start).allreduce(), comm)
 * const field = Pipeline.run(Pipeline.distribute(Grid.line({ n: 5 }), (x) => 4 * x).gather(), comm)
 * const both = Pipeline.run(Pipeline.distribute(Grid.line({ n: 3 }), { u: (x) => x, c: { init: () => 7, type: "uint8" } }).gather(), comm)
 * if (comm.rank === 0) console.log(total, field, both.c) // 100 Float64Array(5) [ 0, 1, 2, 3, 4 ] Uint8Array(3) [ 0, 7, 0 ]
 * ```
 */
export function distribute<D extends Dim, E extends ElementType = "float64">(grid: Grid<D>, init: InitialValues<D>, options?: FieldOptions<E>): Field<D, ArrayOf[E]>
export function distribute<D extends Dim, const R extends Readonly<Record<string, FieldDecl<D>>>>(grid: Grid<D>, fields: R, options?: DistributeOptions): Fields<D, ShapeOfDecls<R>, PrevOfDecls<R>>
export function distribute(range: Range, options?: DistributeOptions): Ranged
export function distribute<T>(items: ReadonlyArray<T>, options?: DistributeOptions): Items<T>
export function distribute<D extends Dim, T>(what: Grid<D> | Range | ReadonlyArray<T>, second?: unknown, third?: FieldOptions<ElementType>): Field<D, FieldArray> | Fields<D, Shape> | Ranged | Items<T> {
  if (Array.isArray(what)) {
    if (what.length === 0) throw new InvalidArgument("Pipeline.distribute", "items", "[]", "must hold at least one item")
    return new Items<T>(what as ReadonlyArray<T>, (second as DistributeOptions | undefined)?.distribution ?? "block")
  }
  const grid = what as Grid<D> | Range
  if (grid._tag === "Range") return new Ranged(grid, (second as DistributeOptions | undefined)?.distribution ?? "block")
  const rankDims = third?.rankDims
  const layout = rankDims === undefined ? {} : { rankDims }
  if (isRecordOfFields(second)) return new Fields<D, Shape>({ kind: "grid", grid, fields: fieldSpecs(second as Record<string, FieldDecl<D>>), ...layout }, [])
  const op = "Pipeline.distribute"
  const spec: FieldSpec = {
    name: "u",
    type: elementType(op, "type", third?.type),
    init: fieldInit(op, "init", second),
  }
  return new Field<D, FieldArray>({ kind: "grid", grid, fields: [spec], ...layout }, [])
}

/**
 * Plans a pipeline for `ranks` ranks (pure: no threads); `explain()` prints it.
 *
 * @example
 * ```ts
 * import { Grid, Pipeline } from "rankflow"
 * const p = Pipeline.distribute(Grid.line({ n: 1000 }), Math.sin).iterate(10, (s) => s.haloExchange().stencil((u, i) => u[i]!)).gather()
 * console.log(Pipeline.plan(p, 3).source.kind) // grid
 * ```
 */
export function plan<R>(pipeline: Pipeline<R>, ranks: number): Plan {
  return planPipeline(pipeline.description, ranks, undefined, hostCache())
}

/**
 * Runs a pipeline on this rank (every rank must call it): the result on rank 0
 * (on every rank after `allreduce`), undefined elsewhere.
 *
 * @example
 * ```ts
 * import { init, Pipeline, Range } from "rankflow"
 * const comm = await init()
 * const squares = Pipeline.distribute(Range.of(1000)).mapLocal((c) => {
 *   let s = 0
 *   for (let i = c.start; i < c.end; i++) s += i * i
 *   return s
 * }).reduce()
 * const total = Pipeline.run(squares, comm)
 * if (total !== undefined) console.log(total) // 332833500, on rank 0 only
 * ```
 */
export function run<R>(pipeline: Pipeline<R>, comm: Comm, options: ExecuteOptions = {}): R | undefined {
  return runWithStats(pipeline, comm, options).value as R | undefined
}

/** As `run`, with the timing and iteration count. */
export function runWithStats<R>(pipeline: Pipeline<R>, comm: Comm, options: ExecuteOptions = {}): Outcome {
  return execute(pipeline.description, plan(pipeline, options.partitions ?? comm.size), comm, options)
}

/**
 * Sets a pipeline up on this rank without running it (every rank must call
 * it): `compute()` runs the stages, `collect()` the result, `reset()` restores
 * the initial field — for timing the stages alone, or running them again.
 *
 * @example
 * ```ts
 * import { Grid, init, Pipeline } from "rankflow"
 * const comm = await init()
 * const p = Pipeline.distribute(Grid.line({ n: 101 }), (x) => x * (1 - x)).iterate(100, (s) => s.haloExchange().stencil((u, i) => (u[i - 1]! + u[i + 1]!) / 2)).gather()
 * const prepared = Pipeline.prepare(p, comm)
 * for (let run = 0; run < 3; run++) {
 *   prepared.reset()
 *   const t0 = comm.wtime()
 *   prepared.compute()
 *   if (comm.rank === 0) console.log(`run ${run}: ${((comm.wtime() - t0) * 1e3).toFixed(2)} ms`)
 * }
 * const u = prepared.collect() as Float64Array | undefined
 * if (u !== undefined) console.log(u[50])
 * ```
 */
export function prepare<R>(pipeline: Pipeline<R>, comm: Comm, options: ExecuteOptions = {}): Prepared {
  return prepareOn(pipeline.description, plan(pipeline, options.partitions ?? comm.size), comm, options)
}
