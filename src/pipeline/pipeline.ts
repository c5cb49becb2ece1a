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
import type { Block, Chunk, Description, Every, FieldStage, NumberOp, Source, StencilFor, StencilOptions, Terminal } from "../plan/description.ts"
import type { Dim, Grid } from "../plan/grid.ts"
import type { Distribution } from "../plan/layout.ts"
import { plan as planPipeline, type Plan } from "../plan/plan.ts"
import { of as rangeOf, type Range } from "../plan/range.ts"
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

/** Options of a loop. */
export interface LoopOptions {
  /** Observe the gathered field on rank 0 every `every.k` steps. */
  readonly every?: Every
}

/** Options of an `until` loop. */
export interface UntilOptions<D extends Dim> extends LoopOptions {
  /** Upper bound on the iterations. */
  readonly maxSteps: number
  /** The rank-local measure, e.g. the largest change in the block. */
  readonly measure: (block: Block<D>) => number
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

/** The stages of a field, shared by a whole pipeline and a loop body. */
abstract class FieldStages<D extends Dim> {
  constructor(readonly stages: ReadonlyArray<FieldStage>) {}
  protected abstract with(stages: ReadonlyArray<FieldStage>): this

  /** Refreshes every ghost cell from the neighbouring blocks, and boundary ghosts from the boundary conditions. */
  haloExchange(): this {
    return this.with([...this.stages, { kind: "haloExchange" }])
  }

  /**
   * Updates every point (but fixed Dirichlet edge points) from a per-point
   * function of the current values: `next[i] = f(u, i, …coordinates)`, then
   * swaps the buffers. 1-D: `(u, i, x)`; 2-D: `(u, i, stride, x, y)`;
   * 3-D: `(u, i, stride0, stride1, x, y, z)`, `i` being the flat local index.
   */
  stencil(f: StencilFor<D>, options: StencilOptions = {}): this {
    const radius = options.radius ?? 1
    if (!Number.isSafeInteger(radius) || radius < 0) throw new InvalidArgument("stencil", "radius", radius, "must be an integer ≥ 0")
    const name = options.name ?? nameOf(f, `stencil#${this.count("stencil") + 1}`)
    const stage: FieldStage = { kind: "stencil", fn: f, radius, name, ...(options.diffusion === undefined ? {} : { diffusion: options.diffusion }) }
    return this.with([...this.stages, stage])
  }

  /**
   * A whole-block kernel: reads `block.u`, writes `block.next` on
   * [lo, hi) in every dimension; the buffers are swapped after. With
   * `inPlace`, the kernel updates `block.u` itself and nothing is swapped.
   */
  mapLocal(kernel: (block: Block<D>) => void, options: { readonly inPlace?: boolean; readonly name?: string } = {}): this {
    const name = options.name ?? nameOf(kernel, `mapLocal#${this.count("mapLocal") + 1}`)
    return this.with([...this.stages, { kind: "mapLocal", fn: kernel as (block: Block) => void, inPlace: options.inPlace === true, name }])
  }

  /** Inclusive prefix reduction along a 1-D field, in global order. */
  scan<S extends FieldStages<1>>(this: S, op: NumberOp): S {
    return this.with([...this.stages, { kind: "scan", op: checkedOp("scan", op) }])
  }

  /** Runs `body` `steps` times. */
  iterate(steps: number, body: (s: FieldBody<D>) => FieldBody<D>, options: LoopOptions = {}): this {
    positiveInt("iterate", "steps", steps)
    const stages = body(new FieldBody<D>([])).stages
    return this.with([...this.stages, { kind: "iterate", steps, body: stages, ...every(options) }])
  }

  /** Runs `body` until `stop(allreduced measure)` holds, at most `maxSteps` times. */
  until(options: UntilOptions<D>, body: (s: FieldBody<D>) => FieldBody<D>): this {
    positiveInt("until", "maxSteps", options.maxSteps)
    const check = positiveInt("until", "check", options.check ?? 1)
    const stages = body(new FieldBody<D>([])).stages
    const stage: FieldStage = {
      kind: "until",
      maxSteps: options.maxSteps,
      body: stages,
      measure: options.measure as (block: Block) => number,
      op: checkedOp("until", options.op),
      stop: options.stop,
      check,
      ...every(options),
    }
    return this.with([...this.stages, stage])
  }

  private count(kind: FieldStage["kind"]): number {
    return this.stages.filter((s) => s.kind === kind).length
  }
}

function every(options: LoopOptions): { every?: Every } {
  if (options.every === undefined) return {}
  positiveInt("every", "k", options.every.k)
  return { every: options.every }
}

/** The stages of a loop body. */
export class FieldBody<D extends Dim> extends FieldStages<D> {
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new FieldBody<D>(stages) as this
  }
}

/** A distributed D-dimensional field and the stages applied to it so far. */
export class Field<D extends Dim> extends FieldStages<D> {
  constructor(
    /** Where the field comes from: its grid and initial values. */
    readonly source: Source,
    stages: ReadonlyArray<FieldStage>,
  ) {
    super(stages)
  }
  /** A copy with these stages: every fluent call returns a new value. */
  protected with(stages: ReadonlyArray<FieldStage>): this {
    return new Field<D>(this.source, stages) as this
  }

  /** The whole field on rank 0, in global row-major order. */
  gather(): Pipeline<Float64Array> {
    return complete(this.source, this.stages, { kind: "gather" })
  }

  /** Folds every point with `op` (or combines `local(block)` per rank) onto rank 0. */
  reduce(op: NumberOp): Pipeline<number>
  reduce<A>(op: OpFor<A>, local: (block: Block<D>) => A): Pipeline<A>
  reduce<A>(op: ReduceOp<A> | NumberOp, local?: (block: Block<D>) => A): Pipeline<A> {
    return complete(this.source, this.stages, reduceTerminal(op, false, local))
  }

  /** As `reduce`, with the result on every rank. */
  allreduce(op: NumberOp): Pipeline<number>
  allreduce<A>(op: OpFor<A>, local: (block: Block<D>) => A): Pipeline<A>
  allreduce<A>(op: ReduceOp<A> | NumberOp, local?: (block: Block<D>) => A): Pipeline<A> {
    return complete(this.source, this.stages, reduceTerminal(op, true, local))
  }
}

function reduceTerminal<A, D extends Dim>(op: ReduceOp<A> | NumberOp, all: boolean, local?: (block: Block<D>) => A): Terminal {
  return { kind: "reduce", op: checkedOp(all ? "allreduce" : "reduce", op) as ReduceOp<unknown>, all, ...(local === undefined ? {} : { local: local as (block: Block) => unknown }) }
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

/**
 * Starts a pipeline: a grid with the initial value of every point, or a range
 * whose chunks a `mapLocal` will compute.
 *
 * @example
 * ```ts
 * import { Grid, Pipeline, Range } from "rankflow"
 * const comm = await (await import("rankflow")).init()
 * const total = Pipeline.run(Pipeline.distribute(Range.of(100)).mapLocal((c) => c.end - c.start).allreduce(), comm)
 * const field = Pipeline.run(Pipeline.distribute(Grid.line({ n: 5 }), (x) => 4 * x).gather(), comm)
 * if (comm.rank === 0) console.log(total, field) // 100 Float64Array(5) [ 0, 1, 2, 3, 4 ]
 * ```
 */
export function distribute<D extends Dim>(grid: Grid<D>, init: InitFor<D>, options?: DistributeOptions): Field<D>
export function distribute(range: Range, options?: DistributeOptions): Ranged
export function distribute<T>(items: ReadonlyArray<T>, options?: DistributeOptions): Items<T>
export function distribute<D extends Dim, T>(what: Grid<D> | Range | ReadonlyArray<T>, second?: InitFor<D> | DistributeOptions, third?: DistributeOptions): Field<D> | Ranged | Items<T> {
  if (Array.isArray(what)) {
    if (what.length === 0) throw new InvalidArgument("Pipeline.distribute", "items", "[]", "must hold at least one item")
    return new Items<T>(what as ReadonlyArray<T>, (second as DistributeOptions | undefined)?.distribution ?? "block")
  }
  const grid = what as Grid<D> | Range
  if (grid._tag === "Range") return new Ranged(grid, (second as DistributeOptions | undefined)?.distribution ?? "block")
  if (typeof second !== "function") throw new InvalidArgument("Pipeline.distribute", "init", second, "must be a function of the point's coordinates")
  const rankDims = third?.rankDims
  return new Field<D>({ kind: "grid", grid, init: second as (...x: number[]) => number, ...(rankDims === undefined ? {} : { rankDims }) }, [])
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
  return planPipeline(pipeline.description, ranks)
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
