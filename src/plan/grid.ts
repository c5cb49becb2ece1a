/**
 * Grids: the regular 1-D, 2-D and 3-D point sets a pipeline distributes, with
 * physical extent, spacing, ghost width and a boundary condition per side.
 * A grid is plain data; the planner decides how it is cut across ranks.
 *
 * Points sit at x_i = origin + i·dx. A non-periodic side includes its end
 * point (dx = length / (n − 1)); a periodic dimension does not repeat it
 * (dx = length / n).
 *
 * Layer: plan (pure).
 */
import { InvalidArgument } from "../errors.ts"

/** A boundary condition, applied on the global edge of a grid only. */
export type Boundary =
  | { readonly kind: "dirichlet"; readonly value: number }
  | { readonly kind: "neumann" }
  | { readonly kind: "periodic" }

/** Grid dimensions rankflow supports. */
export type Dim = 1 | 2 | 3

/** Per-dimension values: a tuple of length D. */
export type PerDim<D extends Dim, T> = D extends 1 ? readonly [T] : D extends 2 ? readonly [T, T] : readonly [T, T, T]

/** A regular grid of dimension D. */
export interface Grid<D extends Dim = Dim> {
  readonly _tag: "Grid"
  /** Number of dimensions, 1 to 3. */
  readonly dims: D
  /** Points per dimension. */
  readonly shape: PerDim<D, number>
  /** Coordinate of the first point per dimension. */
  readonly origin: PerDim<D, number>
  /** Distance between neighbouring points per dimension (dx). */
  readonly spacing: PerDim<D, number>
  /** Ghost width requested by the user; undefined: derived from the stencils' radius. */
  readonly ghost: number | undefined
  /** [low side, high side] per dimension. */
  readonly boundary: PerDim<D, readonly [Boundary, Boundary]>
}

/**
 * A boundary holding the value `value` on the edge points (and the ghosts beyond them).
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * console.log(Grid.line({ n: 11, boundary: Grid.dirichlet(0) }).spacing) // [ 0.1 ]
 * ```
 */
export function dirichlet(value: number): Boundary {
  if (!Number.isFinite(value)) throw new InvalidArgument("Grid.dirichlet", "value", value, "must be a finite number")
  return { kind: "dirichlet", value }
}

/** Zero normal derivative: the ghosts mirror the points next to the edge (u[−k] = u[k]). */
export const neumann: Boundary = { kind: "neumann" }

/** The grid wraps around: the ghosts past one end come from the other end. */
export const periodic: Boundary = { kind: "periodic" }

/** A boundary for every side, or [low, high] per side. */
export type BoundarySpec = Boundary | readonly [Boundary, Boundary]

interface CommonOptions {
  /** Ghost width; by default the largest radius of the pipeline's stencils. */
  readonly ghost?: number
}

/** Options of `Grid.line`: points, extent, boundary and ghost width. */
export interface LineOptions extends CommonOptions {
  /** Number of points, including both ends of a non-periodic line. */
  readonly n: number
  /** Physical length (default 1). */
  readonly length?: number
  /** Coordinate of the first point (default 0). */
  readonly origin?: number
  /** Default: `dirichlet(0)` on both ends. */
  readonly boundary?: BoundarySpec
}

/** Options of `Grid.plane`: each may be one value for both dimensions or a pair. */
export interface PlaneOptions extends CommonOptions {
  /** Points per dimension: one number for a square grid. */
  readonly n: number | readonly [number, number]
  /** Physical length per dimension (default 1): one number for both, or a pair. */
  readonly length?: number | readonly [number, number]
  /** Coordinate of the first point per dimension (default 0): one number for both, or a pair. */
  readonly origin?: number | readonly [number, number]
  /** One spec for all sides or one per dimension. */
  readonly boundary?: BoundarySpec | readonly [BoundarySpec, BoundarySpec]
}

/** Options of `Grid.box`: each may be one value for all three dimensions or a triple. */
export interface BoxOptions extends CommonOptions {
  /** Points per dimension: one number for a cube, or a triple. */
  readonly n: number | readonly [number, number, number]
  /** Physical length per dimension (default 1): one number for all, or a triple. */
  readonly length?: number | readonly [number, number, number]
  /** Coordinate of the first point per dimension (default 0): one number for all, or a triple. */
  readonly origin?: number | readonly [number, number, number]
  /** One spec for all sides or one per dimension (default: `dirichlet(0)` everywhere). */
  readonly boundary?: BoundarySpec | readonly [BoundarySpec, BoundarySpec, BoundarySpec]
}

/**
 * A 1-D grid of `n` points on [origin, origin + length].
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * const g = Grid.line({ n: 1001, length: 1, boundary: Grid.dirichlet(0) })
 * console.log(g.shape, g.spacing) // [ 1001 ] [ 0.001 ]
 * ```
 */
export function line(options: LineOptions): Grid<1> {
  return make("Grid.line", 1, options) as Grid<1>
}

/**
 * A 2-D grid: `n` points per side (or [n0, n1]); dimension 0 is x, 1 is y.
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * const g = Grid.plane({ n: [65, 33], boundary: Grid.dirichlet(0) })
 * console.log(g.shape, g.spacing) // [ 65, 33 ] [ 0.015625, 0.03125 ]
 * ```
 */
export function plane(options: PlaneOptions): Grid<2> {
  return make("Grid.plane", 2, options) as Grid<2>
}

/**
 * A 3-D grid: `n` points per side (or [n0, n1, n2]).
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * console.log(Grid.box({ n: 17, boundary: Grid.periodic }).spacing) // [ 0.058823529411764705, 0.058823529411764705, 0.058823529411764705 ]
 * ```
 */
export function box(options: BoxOptions): Grid<3> {
  return make("Grid.box", 3, options) as Grid<3>
}

type AnyOptions = {
  readonly n: number | ReadonlyArray<number>
  readonly length?: number | ReadonlyArray<number>
  readonly origin?: number | ReadonlyArray<number>
  readonly boundary?: BoundarySpec | ReadonlyArray<BoundarySpec>
  readonly ghost?: number
}

function make(op: string, dims: Dim, options: AnyOptions): Grid {
  const shape = perDim(op, "n", options.n, dims)
  const length = perDim(op, "length", options.length ?? 1, dims)
  const origin = perDim(op, "origin", options.origin ?? 0, dims)
  const boundary = boundaries(op, options.boundary ?? dirichlet(0), dims)
  shape.forEach((n, d) => {
    if (!Number.isSafeInteger(n) || n < 2) throw new InvalidArgument(op, dims === 1 ? "n" : `n[${d}]`, n, "must be an integer ≥ 2")
  })
  length.forEach((l, d) => {
    if (!(l > 0) || !Number.isFinite(l)) throw new InvalidArgument(op, dims === 1 ? "length" : `length[${d}]`, l, "must be a positive number")
  })
  origin.forEach((o, d) => {
    if (!Number.isFinite(o)) throw new InvalidArgument(op, dims === 1 ? "origin" : `origin[${d}]`, o, "must be a finite number")
  })
  const ghost = options.ghost
  if (ghost !== undefined && (!Number.isSafeInteger(ghost) || ghost < 0))
    throw new InvalidArgument(op, "ghost", ghost, "must be an integer ≥ 0")
  const spacing = shape.map((n, d) => (boundary[d]![0].kind === "periodic" ? length[d]! / n : length[d]! / (n - 1)))
  return { _tag: "Grid", dims, shape, origin, spacing, ghost, boundary } as unknown as Grid
}

function perDim(op: string, name: string, value: number | ReadonlyArray<number>, dims: Dim): number[] {
  if (typeof value === "number") return Array.from({ length: dims }, () => value)
  if (value.length !== dims) throw new InvalidArgument(op, name, `[${value.join(", ")}]`, `must have ${dims} entries, one per dimension`)
  return [...value]
}

const isBoundary = (b: unknown): b is Boundary => typeof b === "object" && b !== null && "kind" in b

function boundaries(op: string, spec: BoundarySpec | ReadonlyArray<BoundarySpec>, dims: Dim): Array<readonly [Boundary, Boundary]> {
  const sides = (s: BoundarySpec): readonly [Boundary, Boundary] => (isBoundary(s) ? [s, s] : s)
  const perDimension: BoundarySpec[] =
    isBoundary(spec) || (dims !== 2 && (spec as ReadonlyArray<unknown>).length === 2 && isBoundary((spec as ReadonlyArray<unknown>)[0]))
      ? Array.from({ length: dims }, () => spec as BoundarySpec)
      : [...(spec as ReadonlyArray<BoundarySpec>)]
  if (perDimension.length !== dims) throw new InvalidArgument(op, "boundary", `${perDimension.length} specs`, `must give one per dimension (${dims})`)
  return perDimension.map((s, d) => {
    const [lo, hi] = sides(s)
    if ((lo.kind === "periodic") !== (hi.kind === "periodic"))
      throw new InvalidArgument(op, `boundary[${d}]`, `${lo.kind}/${hi.kind}`, "must be periodic on both sides or on neither")
    return [lo, hi] as const
  })
}

/** A readable name of a boundary, e.g. `dirichlet(0)`. */
export function boundaryName(b: Boundary): string {
  return b.kind === "dirichlet" ? `dirichlet(${b.value})` : b.kind
}

/**
 * The coordinate of point `i` along dimension `d`: origin + i·spacing, the
 * formula every rank uses, so values computed from it agree bit for bit.
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * console.log(Grid.coordinate(Grid.line({ n: 5 }), 0, 2)) // 0.5
 * ```
 */
export function coordinate(grid: Grid, d: number, i: number): number {
  return grid.origin[d]! + i * grid.spacing[d]!
}

/**
 * The largest |field − exact(x, y, z)| over a whole gathered field (global
 * row-major order, as `gather()` returns it).
 *
 * @example
 * ```ts
 * import { Grid } from "rankflow"
 * const g = Grid.line({ n: 3 })
 * console.log(Grid.maxError(g, Float64Array.of(0, 0.5, 1.5), (x) => x)) // 0.5
 * ```
 */
export function maxError(grid: Grid, field: ArrayLike<number>, exact: (...coords: number[]) => number): number {
  const shape = grid.shape as ReadonlyArray<number>
  const total = shape.reduce((a, b) => a * b, 1)
  if (field.length !== total) throw new InvalidArgument("Grid.maxError", "field.length", field.length, `must be the grid's ${total} points`)
  const coords = new Array<number>(shape.length)
  let worst = 0
  for (let k = 0; k < total; k++) {
    let rest = k
    for (let d = shape.length - 1; d >= 0; d--) {
      coords[d] = coordinate(grid, d, rest % shape[d]!)
      rest = Math.floor(rest / shape[d]!)
    }
    worst = Math.max(worst, Math.abs(field[k]! - exact(...coords)))
  }
  return worst
}
