/**
 * Cartesian topologies (MPI_Cart_*): ranks laid out on a d-dimensional grid,
 * row-major (the last dimension varies fastest), with neighbour lookup by
 * `shift` — PROC_NULL past a non-periodic edge, so halo code needs no edge
 * special cases — and sub-grids by `sub`.
 *
 * `comm.cart(dims, periods)` is added to Comm here (module augmentation), so
 * this module is loaded wherever a communicator is made.
 *
 * Layer: comm.
 */
import { InvalidArgument } from "../errors.ts"
import { Comm, PROC_NULL } from "./comm.ts"
import type { Engine } from "./engine.ts"

/** The ranks a shift along one dimension exchanges with. */
export interface Shift {
  /** Rank to receive from (PROC_NULL past a non-periodic edge). */
  readonly source: number
  /** Rank to send to (PROC_NULL past a non-periodic edge). */
  readonly dest: number
}

declare module "./comm.ts" {
  interface Comm {
    /**
     * A Cartesian communicator over the first ∏dims ranks (MPI_Cart_create,
     * no reordering); ranks beyond the grid get null. Collective.
     *
     * @example
     * ```ts
     * import { computeDims, init } from "rankflow"
     * const comm = await init()
     * const grid = comm.cart(computeDims(comm.size, 2), [true, false])!
     * const { source, dest } = grid.shift(0, 1) // up/down neighbours
     * console.log(grid.coords, source, dest)
     * ```
     */
    cart(dims: ReadonlyArray<number>, periods?: ReadonlyArray<boolean>): CartComm | null
  }
}

/** A communicator whose ranks sit on a Cartesian grid. */
export class CartComm extends Comm {
  /** This rank's coordinates on the grid. */
  readonly coords: ReadonlyArray<number>

  /** @internal */
  constructor(
    engine: Engine,
    context: number,
    group: Int32Array,
    /** Grid extent in each dimension. */
    readonly dims: ReadonlyArray<number>,
    /** Whether each dimension wraps around. */
    readonly periods: ReadonlyArray<boolean>,
  ) {
    super(engine, context, group)
    this.coords = this.coordsOf(this.rank)
  }

  /** The coordinates of `rank` (MPI_Cart_coords). */
  coordsOf(rank: number): number[] {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size)
      throw new InvalidArgument("coordsOf", "rank", rank, `must be a rank in [0, ${this.size})`)
    const coords = new Array<number>(this.dims.length)
    for (let d = this.dims.length - 1; d >= 0; d--) {
      coords[d] = rank % this.dims[d]!
      rank = Math.floor(rank / this.dims[d]!)
    }
    return coords
  }

  /** The rank at `coords` (MPI_Cart_rank); periodic dimensions wrap, others give PROC_NULL outside the grid. */
  rankOf(coords: ReadonlyArray<number>): number {
    if (coords.length !== this.dims.length)
      throw new InvalidArgument("rankOf", "coords", `[${coords.join(", ")}]`, `must have ${this.dims.length} entries`)
    let rank = 0
    for (let d = 0; d < this.dims.length; d++) {
      const n = this.dims[d]!
      let c = coords[d]!
      if (!Number.isInteger(c)) throw new InvalidArgument("rankOf", "coords", `[${coords.join(", ")}]`, "must be integers")
      if (this.periods[d]) c = ((c % n) + n) % n
      else if (c < 0 || c >= n) return PROC_NULL
      rank = rank * n + c
    }
    return rank
  }

  /** Neighbours `disp` steps along dimension `dim` (MPI_Cart_shift): receive from `source`, send to `dest`. */
  shift(dim: number, disp = 1): Shift {
    if (!Number.isInteger(dim) || dim < 0 || dim >= this.dims.length)
      throw new InvalidArgument("shift", "dim", dim, `must be a dimension in [0, ${this.dims.length})`)
    const at = (delta: number): number => this.rankOf(this.coords.map((c, d) => (d === dim ? c + delta : c)))
    return { source: at(-disp), dest: at(disp) }
  }

  /**
   * The sub-grid through this rank keeping the dimensions where `remain` is
   * true (MPI_Cart_sub): e.g. `[false, true]` gives this rank's row. Collective.
   */
  sub(remain: ReadonlyArray<boolean>): CartComm {
    if (remain.length !== this.dims.length)
      throw new InvalidArgument("sub", "remain", `[${remain.join(", ")}]`, `must have ${this.dims.length} entries`)
    // Ranks with equal coordinates in the dropped dimensions share a sub-grid.
    const color = this.coords.reduce((acc, c, d) => (remain[d] ? acc : acc * this.dims[d]! + c), 0)
    const key = this.coords.reduce((acc, c, d) => (remain[d] ? acc * this.dims[d]! + c : acc), 0)
    const row = this.split(color, key)!
    return new CartComm(
      this.engine,
      row["context"],
      row["memberWorldRanks"](),
      this.dims.filter((_, d) => remain[d]),
      this.periods.filter((_, d) => remain[d]),
    )
  }
}

Comm.prototype.cart = function (this: Comm, dims: ReadonlyArray<number>, periods: ReadonlyArray<boolean> = []): CartComm | null {
  if (dims.length === 0 || dims.some((d) => !Number.isInteger(d) || d < 1))
    throw new InvalidArgument("cart", "dims", `[${dims.join(", ")}]`, "must be positive integers")
  const cells = dims.reduce((a, b) => a * b, 1)
  if (cells > this.size)
    throw new InvalidArgument("cart", "dims", `[${dims.join(", ")}]`, `need ${cells} ranks, the communicator has ${this.size}`)
  const wraps = dims.map((_, d) => periods[d] ?? false)
  const context = this["agreeOnContext"]()
  if (this.rank >= cells) return null
  const members = this["memberWorldRanks"]().subarray(0, cells)
  return new CartComm(this["engine"], context, members, [...dims], wraps)
}
