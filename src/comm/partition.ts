/**
 * Block partitions: n items over `parts` parts, sizes differing by at most one,
 * the remainder going to the first parts (MPI's and the planner's convention).
 * Pure functions; used by scatter/scatterv here and by the planner.
 *
 * Layer: comm (pure, no I/O).
 */

/**
 * The half-open range [start, end) of block `index` of n items split into `parts`.
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
 * The size of every block of n items split into `parts`.
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

/** Offsets of consecutive blocks of the given sizes (exclusive prefix sums). */
export function displacements(counts: ReadonlyArray<number>): number[] {
  const out: number[] = []
  let offset = 0
  for (const c of counts) {
    out.push(offset)
    offset += c
  }
  return out
}
