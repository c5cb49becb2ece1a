/**
 * Index ranges: n items (samples, integration nodes, rows) cut into fixed
 * chunks. Chunks, not ranks, are the unit of work and of randomness: a chunk's
 * items, its random stream and its place in a reduction do not depend on how
 * many ranks run it — so results are the same for any rank count.
 *
 * Layer: plan (pure).
 */
import { InvalidArgument } from "../errors.ts"

/** `n` items in chunks of `chunk` (the last one may be shorter). */
export interface Range {
  readonly _tag: "Range"
  /** Number of items. */
  readonly n: number
  /** Items per chunk (the last chunk may be shorter). */
  readonly chunk: number
  /** Seed of the chunks' random streams. */
  readonly seed: number
}

/** Options of `Range.of`: the chunk size and the seed of the chunks' random streams. */
export interface RangeOptions {
  /** Items per chunk (default 2^16, or fewer so that there are at least 64 chunks). */
  readonly chunk?: number
  /** Seed of the random streams (default 0). */
  readonly seed?: number
}

const DEFAULT_CHUNK = 1 << 16
const MIN_CHUNKS = 64

/**
 * The index range [0, n) for a pipeline to distribute.
 *
 * @example
 * ```ts
 * import { Range } from "rankflow"
 * const r = Range.of(1_000_000)
 * console.log(r.chunk, Range.chunkCount(r)) // 15625 64
 * ```
 */
export function of(n: number, options: RangeOptions = {}): Range {
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgument("Range.of", "n", n, "must be a positive integer")
  const chunk = options.chunk ?? Math.max(1, Math.min(DEFAULT_CHUNK, Math.ceil(n / MIN_CHUNKS)))
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new InvalidArgument("Range.of", "chunk", chunk, "must be a positive integer")
  const seed = options.seed ?? 0
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InvalidArgument("Range.of", "seed", seed, "must be a non-negative integer")
  return { _tag: "Range", n, chunk, seed }
}

/**
 * Number of chunks of a range.
 *
 * @example
 * ```ts
 * import { Range } from "rankflow"
 * const r = Range.of(10, { chunk: 4 })
 * console.log(Range.chunkCount(r), Range.chunkBounds(r, 2)) // 3 [ 8, 10 ]
 * ```
 */
export function chunkCount(range: Range): number {
  return Math.ceil(range.n / range.chunk)
}

/** The items [start, end) of chunk `index` (the last chunk may be shorter); see `Range.chunkCount`. */
export function chunkBounds(range: Range, index: number): [number, number] {
  const start = index * range.chunk
  return [start, Math.min(range.n, start + range.chunk)]
}
