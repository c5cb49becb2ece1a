/**
 * Where data lives: the rank layout of a grid (a Cartesian arrangement that
 * fits the grid's shape, from decompose, overridable), each rank's block with its ghost frame and
 * neighbours, and the chunks of a range each rank runs (block or cyclic).
 *
 * Layer: plan (pure). Uses comm's pure partition and dims helpers only.
 */
import { blockRange } from "../comm/partition.ts"
import { GridTooSmall, InvalidArgument } from "../errors.ts"
import { decompose } from "./decompose.ts"
import type { Grid } from "./grid.ts"
import { chunkCount, type Range } from "./range.ts"

/** How items are dealt to ranks. */
/**
 * How a range's chunks go to ranks: contiguous blocks, dealt in turn
 * (cyclic), or taken on demand from a shared counter while the run goes
 * (dynamic: uneven chunks balance themselves).
 */
export type Distribution = "block" | "cyclic" | "dynamic"

/** One rank's block of a grid. */
export interface GridBlock {
  readonly rank: number
  /** Position in the rank layout. */
  readonly coords: ReadonlyArray<number>
  /** First global point per dimension. */
  readonly start: ReadonlyArray<number>
  /** Points per dimension (interior, without ghosts). */
  readonly count: ReadonlyArray<number>
  /** Neighbour ranks per dimension, [low, high]; -1 past a non-periodic edge. */
  readonly neighbours: ReadonlyArray<readonly [number, number]>
  /** Whether the block touches the global [low, high] edge per dimension. */
  readonly edge: ReadonlyArray<readonly [boolean, boolean]>
}

/** A grid laid out on ranks. */
export interface GridLayout {
  /** Ranks per dimension. */
  readonly dims: ReadonlyArray<number>
  readonly ghost: number
  readonly blocks: ReadonlyArray<GridBlock>
}

/** Rank coordinates in a row-major layout (the last dimension fastest, as in MPI_Cart_create). */
function coordsOf(rank: number, dims: ReadonlyArray<number>): number[] {
  const coords = new Array<number>(dims.length)
  for (let d = dims.length - 1; d >= 0; d--) {
    coords[d] = rank % dims[d]!
    rank = Math.floor(rank / dims[d]!)
  }
  return coords
}

function rankOf(coords: ReadonlyArray<number>, dims: ReadonlyArray<number>): number {
  return coords.reduce((r, c, d) => r * dims[d]! + c, 0)
}

/**
 * Lays `grid` out on `ranks` ranks: blocks differ by at most one point per
 * dimension, the remainder going to the first ranks. The ranks per dimension
 * are `rankDims` when given, else `decompose`'s choice for the grid's shape
 * (no block thinner than `minimumBlock` when any layout allows it, then the
 * least halo surface). Throws `GridTooSmall` when some block would be
 * thinner than the ghost width (or empty).
 */
export function layoutGrid(grid: Grid, ranks: number, ghost: number, rankDims?: ReadonlyArray<number>): GridLayout {
  const dims = rankDims ?? decompose(ranks, grid.shape, grid.shape.map((_, d) => minimumBlock(grid, d, ghost)))
  if (dims.length !== grid.dims || dims.reduce((a, b) => a * b, 1) !== ranks)
    throw new InvalidArgument("plan", "rank layout", `[${dims.join(", ")}]`, `must have ${grid.dims} entries whose product is ${ranks}`)
  grid.shape.forEach((n, d) => {
    const thinnest = Math.floor(n / dims[d]!)
    if (thinnest < minimumBlock(grid, d, ghost)) throw new GridTooSmall(d, n, dims[d]!, ghost, minimumBlock(grid, d, ghost))
  })
  const blocks = Array.from({ length: ranks }, (_, rank): GridBlock => {
    const coords = coordsOf(rank, dims)
    const ranges = grid.shape.map((n, d) => blockRange(n, dims[d]!, coords[d]!))
    const neighbours = dims.map((p, d): readonly [number, number] => {
      const periodic = grid.boundary[d]![0].kind === "periodic"
      const at = (c: number) => {
        if (c < 0 || c >= p) {
          if (!periodic) return -1
          c = (c + p) % p
        }
        const other = [...coords]
        other[d] = c
        return rankOf(other, dims)
      }
      return [at(coords[d]! - 1), at(coords[d]! + 1)]
    })
    return {
      rank,
      coords,
      start: ranges.map((r) => r[0]),
      count: ranges.map((r) => r[1] - r[0]),
      neighbours,
      edge: coords.map((c, d) => [c === 0, c === dims[d]! - 1] as const),
    }
  })
  return { dims, ghost, blocks }
}

/**
 * The fewest points a block may have along dimension d: the ghost width its
 * neighbours read (at least one point), one more where a Neumann edge mirrors
 * `ghost` points about the edge point.
 */
export function minimumBlock(grid: Grid, d: number, ghost: number): number {
  const mirrors = grid.boundary[d]!.some((b) => b.kind === "neumann")
  return Math.max(1, ghost + (mirrors ? 1 : 0))
}

/** The chunk indices rank `rank` runs, in increasing order (none planned for "dynamic": they are taken at run time). */
export function chunksOf(range: Range, ranks: number, rank: number, distribution: Distribution): number[] {
  const total = chunkCount(range)
  if (distribution === "dynamic") return []
  if (distribution === "cyclic") {
    const out: number[] = []
    for (let c = rank; c < total; c += ranks) out.push(c)
    return out
  }
  const [start, end] = blockRange(total, ranks, rank)
  return Array.from({ length: end - start }, (_, i) => start + i)
}
