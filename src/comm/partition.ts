/**
 * Block partitions: n items over `parts` parts, sizes differing by at most one,
 * the remainder going to the first parts (MPI's and the planner's convention).
 * Pure functions; used by scatter/scatterv here and by the planner.
 *
 * Layer: comm (pure, no I/O).
 */

/**
 * The half-open range [start, end) of block `index` of n items split into
 * `parts` (`0 ≤ index < parts`): blocks differ in size by at most one, the first
 * `n mod parts` blocks get the extra item. With `parts = comm.size` and
 * `index = comm.rank`, a rank's share of a loop `for (i = start; i < end; i++)`
 * — the same split `scatter` makes of a typed array.
 *
 * @example
 * ```ts
 * import { blockRange } from "rankflow"
 * console.log(blockRange(10, 3, 0), blockRange(10, 3, 2)) // [0, 4] [7, 10]
 * ```
 */
export function blockRange(n: number, parts: number, index: number): [number, number] {
  const base = Math.floor(n / parts)
  const extra = n % parts
  const start = index * base + Math.min(index, extra)
  return [start, start + base + (index < extra ? 1 : 0)]
}

/**
 * The size of every block of n items split into `parts`: `blockCounts(n, p)[i]`
 * is `end − start` of `blockRange(n, p, i)`; they sum to n. The `counts` of
 * `scatterv` (and of `alltoallv`) for an even split.
 *
 * @example
 * ```ts
 * import { blockCounts } from "rankflow"
 * console.log(blockCounts(10, 4)) // [3, 3, 2, 2]
 * ```
 */
export function blockCounts(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => {
    const [start, end] = blockRange(n, parts, i)
    return end - start
  })
}

/**
 * Offsets of consecutive blocks of the given sizes (exclusive prefix sums):
 * block i starts at `displacements(counts)[i]`. The `displs` of `scatterv`,
 * and where rank i's block sits in what `gatherv` returns on the root.
 *
 * @example
 * ```ts
 * import { blockCounts, displacements } from "rankflow"
 * const counts = blockCounts(10, 4) // [3, 3, 2, 2]
 * console.log(displacements(counts)) // [0, 3, 6, 8]
 * ```
 */
export function displacements(counts: ReadonlyArray<number>): number[] {
  const out: number[] = []
  let offset = 0
  for (const c of counts) {
    out.push(offset)
    offset += c
  }
  return out
}
