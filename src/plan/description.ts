/**
 * A pipeline as data: where the data comes from (a grid or a range), the
 * stages applied to it, and how the result is collected. The pipeline layer
 * builds descriptions; the planner reads them; the user's functions ride
 * along untouched (they are called on ranks only, never shipped).
 *
 * Layer: plan (pure).
 */
import type { Semigroup } from "fp-ts/lib/Semigroup.js"
import type { ElementwiseOp, ReduceOp } from "../comm/ops.ts"
import type { Dim, Grid, PerDim } from "./grid.ts"
import type { Distribution } from "./layout.ts"
import type { LinearStencil } from "./linearStencil.ts"
import type { Range } from "./range.ts"

/**
 * A rank's block of a distributed grid field, as kernels see it: the current
 * values `u` and the output buffer `next` (both with a ghost frame of width
 * `ghost`), row-major with the last dimension fastest. Kernels write points
 * in [lo, hi); the ghost frame belongs to rankflow (exchanges and boundary
 * conditions), so kernels read it but never write it.
 */
export interface Block<D extends Dim = Dim, A extends FieldArray = Float64Array> extends BlockGeometry<D> {
  /** Current values, ghosts included (the first field's, in a pipeline of several). */
  readonly u: A
  /** Where a `mapLocal` kernel writes the new values (swapped with `u` after the stage). */
  readonly next: A
}

/** Element types of grid fields. */
export type ElementType = "float64" | "float32" | "int32" | "uint8"

/** Bytes per element of each field type. */
export const ELEMENT_BYTES: Readonly<Record<ElementType, number>> = { float64: 8, float32: 4, int32: 4, uint8: 1 }

/** The typed array holding a field of each element type. */
export interface ArrayOf {
  /** 8-byte floats. */
  readonly float64: Float64Array
  /** 4-byte floats: half the bytes, about 7 significant digits. */
  readonly float32: Float32Array
  /** 4-byte signed integers: counts, labels. */
  readonly int32: Int32Array
  /** Bytes: cells, masks. */
  readonly uint8: Uint8Array
}

/** Any grid field's array. */
export type FieldArray = ArrayOf[ElementType]

/** One field's buffers in a block: current values, the output buffer, and the previous time level when the field keeps one. */
export interface Levels<A extends FieldArray = FieldArray> {
  /** Current values, ghosts included. */
  readonly u: A
  /** Where an update writes; rotated with `u` after it. */
  readonly next: A
  /** The previous time level (fields declared with `previous` only; never exchanged). */
  readonly prev: A
}

/** A rank's block of several named fields on one grid: the geometry of `Block` and every field's buffers by name. */
export interface FieldsBlock<D extends Dim = Dim, S extends Shape = Shape> extends BlockGeometry<D> {
  /** Each field's buffers. */
  readonly fields: { readonly [K in keyof S]: Levels<S[K]> }
}

/** Field names to their array types, e.g. `{ u: Float64Array; c: Uint8Array }`. */
export type Shape = Readonly<Record<string, FieldArray>>

/** What a block's kernels know of its place in the grid. */
export interface BlockGeometry<D extends Dim = Dim> {
  /** Number of dimensions, 1 to 3. */
  readonly dims: D
  /** Ghost width: points of the neighbours' blocks (or of the boundary) around the interior. */
  readonly ghost: number
  /** Local array shape per dimension, ghosts included. */
  readonly shape: PerDim<D, number>
  /** Element stride per dimension (the last is 1). */
  readonly strides: PerDim<D, number>
  /** Global index of the first interior point per dimension. */
  readonly start: PerDim<D, number>
  /** Interior points per dimension. */
  readonly count: PerDim<D, number>
  /** Local index range [lo, hi) per dimension that an update writes (interior minus fixed Dirichlet edge points). */
  readonly lo: PerDim<D, number>
  /** End (exclusive) of the local index range that an update writes, per dimension. */
  readonly hi: PerDim<D, number>
  /** Coordinate of local index `i` along dimension `d`. */
  readonly x: (d: number, i: number) => number
  /** Completed iterations of the innermost loop (0 before the first). */
  readonly step: number
}

/** A chunk of a range, as a `mapLocal` kernel sees it. */
export interface Chunk {
  /** Chunk number in the whole range (fixed by the range, not by the rank count). */
  readonly index: number
  /** Items [start, end). */
  readonly start: number
  /** End of the chunk's items (exclusive). */
  readonly end: number
  /** This chunk's random stream: the same values on any rank. */
  readonly random: RandomSource
}

/** What a chunk's random stream offers kernels (implemented by the pipeline layer). */
export interface RandomSource {
  /** A uniform double in [0, 1). */
  next(): number
  /** Fills out[from, to) (default: all of it) with uniforms in [0, 1) and returns `out`. */
  fill(out: Float64Array, from?: number, to?: number): Float64Array
}

/** Per-point stencils: `u` with ghosts, `i` the flat local index, then strides and coordinates. */
export type Stencil1<A extends FieldArray = Float64Array> = (u: A, i: number, x: number) => number
/** A 2-D stencil: `stride` is the flat distance between neighbours along the first dimension (`u[i ± stride]`), `u[i ± 1]` along the second. */
export type Stencil2<A extends FieldArray = Float64Array> = (u: A, i: number, stride: number, x: number, y: number) => number
/** A 3-D stencil: `stride0`, `stride1` are the flat distances between neighbours along the first and second dimensions, 1 along the third. */
export type Stencil3<A extends FieldArray = Float64Array> = (u: A, i: number, stride0: number, stride1: number, x: number, y: number, z: number) => number
/** The point function of a one-field stencil on a D-dimensional grid. */
export type StencilFor<D extends Dim, A extends FieldArray = Float64Array> = D extends 1 ? Stencil1<A> : D extends 2 ? Stencil2<A> : Stencil3<A>

/**
 * What a stencil of several fields reads: every field's current values by
 * name (ghosts included), and `prev` with the previous level of the fields
 * that keep one.
 */
export type View<S extends Shape, P extends keyof S = never> = { readonly [K in keyof S]: S[K] } & { readonly prev: { readonly [K in P]: S[K] } }

/** A point function of several fields: as `StencilFor`, with the fields' view `f` in place of `u`. */
export type PointFn<D extends Dim, V> = D extends 1
  ? (f: V, i: number, x: number) => number
  : D extends 2
    ? (f: V, i: number, stride: number, x: number, y: number) => number
    : (f: V, i: number, stride0: number, stride1: number, x: number, y: number, z: number) => number

/** Any point function, as the executor calls it. */
export type AnyPointFn = (data: never, i: number, ...rest: number[]) => number

/**
 * The stability numbers an explicit stencil may declare; the planner checks
 * them before any rank starts and refuses a value out of range with
 * `UnstableScheme` (negative where that is meaningless, NaN or ±∞, or above
 * the bound). `explain()` shows the declared numbers.
 *
 * @example
 * ```ts
 * import { Grid, Pipeline, UnstableScheme } from "rankflow"
 * const wave = (c: number) => Pipeline.distribute(Grid.plane({ n: 64 }), () => 0).iterate(10, (s) => s.haloExchange().stencil((u, i) => u[i]!, { wave: c })).gather()
 * console.log(Pipeline.plan(wave(0.7), 2).ranks) // 2
 * try { Pipeline.plan(wave(0.75), 2) } catch (e) { if (e instanceof UnstableScheme) console.log(e.kind, e.coefficient.toFixed(3), e.bound) } // wave 1.061 1
 * ```
 */
export interface Stability {
  /**
   * The explicit diffusion coefficient r = α·dt/dx² of this stencil (forward
   * Euler, centred second differences): 0 ≤ r ≤ 1/(2D) in D dimensions
   * (1/2, 1/4, 1/6). A negative r is the backward heat equation: refused.
   */
  readonly diffusion?: number
  /**
   * The advection Courant number C_d = c_d·dt/dx_d of an explicit upwind
   * stencil: one number for every axis, or one per dimension. The sign is
   * the flow's direction; the bound is Σ_d |C_d| ≤ 1 (in 1-D the CFL
   * condition |C| ≤ 1; in D dimensions the bound of the unsplit donor-cell
   * upwind scheme — LeVeque, *Finite Volume Methods for Hyperbolic Problems*,
   * 2002, ch. 20).
   */
  readonly advection?: number | ReadonlyArray<number>
  /**
   * The wave CFL number C_d = |c|·dt/dx_d of an explicit leapfrog stencil for
   * u_tt = c²·∇²u: one number for every axis, or one per dimension, each
   * ≥ 0. The bound is √(Σ_d C_d²) ≤ 1, i.e. c·dt·√(Σ_d 1/dx_d²) ≤ 1 (1-D:
   * C ≤ 1; 2-D square cells: C ≤ 1/√2 — the Courant limit of the leapfrog
   * (Yee) scheme, Taflove & Hagness, *Computational Electrodynamics*, ch. 4).
   */
  readonly wave?: number | ReadonlyArray<number>
}

/** Options of a stencil stage. */
export interface StencilOptions extends Stability {
  /** Farthest neighbour read, in points (default 1). */
  readonly radius?: number
  /** A name for explain() and errors. */
  readonly name?: string
  /**
   * `"allow"`: this stencil may read ghosts that no exchange refreshed since
   * they last changed (a scheme that wants lagged ghosts). By default that is
   * an error the planner reports before anything runs.
   */
  readonly stale?: "allow"
  /**
   * `"js"`: run a declared linear stencil (`Stencil.heat(r)`, …) through the
   * JavaScript sweep instead of the WebAssembly SIMD one (same bits; for
   * comparing them). Point functions always run the JavaScript sweep.
   */
  readonly kernel?: "js"
}

/** Options of a stencil of several fields. */
export interface FieldsStencilOptions<S extends Shape> extends StencilOptions {
  /**
   * The fields whose neighbours it reads (default: every field). An exchange
   * moves only what the stencils after it read; the set-up probe checks the
   * declaration.
   */
  readonly reads?: ReadonlyArray<keyof S & string>
}

/** Observing a field every k steps (gathered on rank 0). */
export interface Every<F = Float64Array> {
  /** Observe every `k` steps (a positive integer). */
  readonly k: number
  /** Called on rank 0 with the gathered field (a record of fields, in a pipeline of several) and the step number. */
  readonly observe: (field: F, step: number) => void
}

/** An op that reduces numbers: a built-in elementwise op or any Semigroup<number>. */
export type NumberOp = ElementwiseOp | Semigroup<number>

/** One field a stencil writes, and the point function computing it. */
export interface Output {
  /** Index of the field in the grid source's `fields`. */
  readonly field: number
  readonly fn: AnyPointFn
}

export type FieldStage =
  | {
      readonly kind: "haloExchange"
      /** Set by the planner: the fields this exchange moves (those the stages after it read). */
      readonly fields?: ReadonlyArray<number>
    }
  | ({
      readonly kind: "stencil"
      /** `"array"`: the point functions take the field's array (one field); `"view"`: the view of every field by name. */
      readonly form: "array" | "view"
      readonly outputs: ReadonlyArray<Output>
      /** Fields whose neighbours it reads. */
      readonly reads: ReadonlyArray<number>
      /** Farthest neighbour read, in points. */
      readonly radius: number
      readonly stale?: "allow"
      readonly name: string
      /** A stencil declared by its weights (the WebAssembly SIMD sweep runs it); `outputs[0].fn` is its Float64 point function. */
      readonly linear?: LinearStencil
      /** `"js"`: the declared stencil runs the JavaScript sweep. */
      readonly kernel?: "js"
    } & Stability)
  | {
      readonly kind: "mapLocal"
      readonly fn: (block: never) => void
      readonly inPlace: boolean
      /** Fields whose `next` buffers it writes (rotated after it unless in place). */
      readonly writes: ReadonlyArray<number>
      readonly name: string
    }
  | { readonly kind: "scan"; readonly op: NumberOp }
  | {
      readonly kind: "iterate"
      readonly steps: number
      readonly body: ReadonlyArray<FieldStage>
      readonly every?: Every<unknown>
      /**
       * Set by the planner: exchange ghosts once every this many steps, with a
       * ghost frame that wide, updating the frame redundantly in between.
       */
      readonly exchangeEvery?: number
      /**
       * Set by the planner for a declared SIMD stencil blocked in time (see
       * temporalBlocking.ts): the steps between exchanges run in one kernel
       * call, in tiles this many points/rows/planes along dimension 0 (0: the
       * whole block).
       */
      readonly temporalTile?: number
    }
  | {
      readonly kind: "until"
      readonly maxSteps: number
      readonly body: ReadonlyArray<FieldStage>
      readonly measure: (block: never) => number
      readonly op: NumberOp
      readonly stop: (value: number, step: number) => boolean
      /** Measure every this many steps (default 1). */
      readonly check: number
      readonly every?: Every<unknown>
    }

/** Where a field's initial values come from. */
export type FieldInit =
  | { readonly kind: "function"; readonly fn: (...coords: number[]) => number }
  /** The whole field in global row-major order, held by rank 0 (other ranks may hold undefined): scattered with its ghosts. */
  | { readonly kind: "array"; readonly data: ArrayLike<number> | undefined }
  /** A `.npy` file, or raw little-endian elements of the field's type: each rank reads its block only. */
  | { readonly kind: "file"; readonly path: string; readonly format: "npy" | "raw" }

/** One named field of a grid source. */
export interface FieldSpec {
  readonly name: string
  readonly type: ElementType
  readonly init: FieldInit
  /** The previous time level's initial values: set for fields that keep two levels. */
  readonly previous?: FieldInit
}

export type Source =
  | {
      readonly kind: "grid"
      readonly grid: Grid
      /** The fields on the grid, at least one; a single-field pipeline's is named "u". */
      readonly fields: ReadonlyArray<FieldSpec>
      /** Ranks per dimension, when the user fixes the layout. */
      readonly rankDims?: ReadonlyArray<number>
    }
  | { readonly kind: "range"; readonly range: Range; readonly distribution: Distribution; readonly map: (chunk: Chunk) => unknown }

/** How the result is collected. */
export type Terminal =
  | {
      readonly kind: "gather"
      /** Grid fields gathered: one index gives that field's array, several a record by name (default: the first field). */
      readonly fields?: ReadonlyArray<number>
      readonly record?: boolean
    }
  | {
      /** Each rank writes its blocks of each field into one file per field (`.npy`, or raw elements). */
      readonly kind: "save"
      readonly files: ReadonlyArray<{ readonly field: number; readonly path: string }>
    }
  | {
      readonly kind: "reduce"
      readonly op: ReduceOp<unknown>
      readonly all: boolean
      readonly local?: (block: never) => unknown
      /** The grid field whose points are folded when there is no `local` (default: the first). */
      readonly field?: number
    }
  | { readonly kind: "scan"; readonly op: ReduceOp<unknown> }

export interface Description {
  readonly source: Source
  readonly stages: ReadonlyArray<FieldStage>
  readonly terminal: Terminal
  /** Applied to the collected result, where there is one (rank 0, or every rank after allreduce). */
  readonly finish?: (value: unknown) => unknown
}
