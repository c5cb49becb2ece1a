/**
 * Temporal blocking of declared linear stencils: how many steps a loop of
 * exchange + SIMD stencil runs per ghost exchange (k, with a ghost frame
 * k·radius wide), all k in one kernel call, and the tile along dimension 0
 * that those k steps sweep before moving on so that the tile stays in L2.
 *
 * Two cases gain:
 * - small 1-D blocks (a few thousand points on several ranks, or within L1 on
 *   one): a step costs the exchange's latency and the call's fixed overhead,
 *   not the points — exchange every SMALL_BLOCK_STEPS steps and run them in
 *   one call;
 * - blocks whose two buffers do not fit in L2: a step is one pass over
 *   memory — sweep tiles that fit in half the L2 through k steps (memory
 *   traffic divided by about k).
 *
 * The ghost width (k·radius) must be the same on every rank: ranks on hosts
 * with different L2 sizes could disagree on whether a block fits; set
 * RANKFLOW_CACHE to the same value everywhere for such jobs.
 *
 * Layer: plan (pure).
 */

/** Cache sizes in bytes, per core (what `/sys/devices/system/cpu/cpu0/cache` says, or DEFAULT_CACHE). */
export interface CacheSizes {
  /** Level-1 data cache. */
  readonly l1: number
  /** Level-2 cache. */
  readonly l2: number
}

/** What the planner assumes when the host does not say: 32 KiB L1, 1 MiB L2 (small for current x86 and ARM servers, so tiles stay safe). */
export const DEFAULT_CACHE: CacheSizes = { l1: 32 * 1024, l2: 1024 * 1024 }

/**
 * Most steps per exchange for small 1-D blocks: the exchange (~2–5 µs here,
 * far more when ranks are descheduled) spread over them; step j of k updates
 * (k − 1 − j)·r redundant points per side with a neighbour, so k is also at
 * most points / (8·r): at most ~1/8 extra work. Measured on heat1d_small, 2
 * ranks, loaded machine: 64 steps 1.41–1.62 µs/step against 1.92–2.61 for 32.
 */
export const SMALL_BLOCK_STEPS = 64
/** Blocks up to this many points are latency-bound. */
export const SMALL_BLOCK_POINTS = 1 << 16
/** Steps per exchange (and per tile) for large blocks: 1-D rows are cheap to skew, planes and rows of 2-D/3-D blocks less so. */
export const LARGE_BLOCK_STEPS: Readonly<Record<number, number>> = { 1: 16, 2: 8, 3: 4 }
/** The share of L2 a tile's working set may take (the rest: the next tile's rows streaming in, the stack, the other buffers). */
const L2_SHARE = 0.5

/** What the planner decided for one loop. */
export interface TemporalBlocking {
  /** Steps per exchange and per kernel call (k). */
  readonly steps: number
  /** The ghost width it needs: k · radius. */
  readonly ghost: number
  /** Tile extent along dimension 0 (points in 1-D, rows in 2-D, planes in 3-D); 0: the whole block, untiled. */
  readonly tile: number
  /** For explain(): why. */
  readonly why: string
}

/** What `temporalBlocking` decides from. */
export interface BlockingInput {
  /** Dimensions of the grid (1–3). */
  readonly dims: number
  /** The largest block's interior points per dimension. */
  readonly count: ReadonlyArray<number>
  /** Ranks (logical) the grid is laid out on. */
  readonly ranks: number
  /** The stencil's radius (points each side it reads). */
  readonly radius: number
  /** Bytes per element of the field. */
  readonly elementBytes: number
  /** The loop's step count (k never exceeds it). */
  readonly loopSteps: number
  /** The cache sizes of the host (hostCache()). */
  readonly cache: CacheSizes
}

const kib = (bytes: number): string => (bytes >= 1 << 20 && bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : `${Math.round(bytes / 1024)} KiB`)

/**
 * The temporal blocking of a loop of exchange + declared SIMD stencil on
 * blocks of `count` points, or undefined when neither case applies (a block
 * between L1 and L2 on one rank, or a loop of fewer than 2 steps).
 *
 * @example
 * ```ts
 * import { temporalBlocking } from "rankflow"
 * const b = temporalBlocking({ dims: 2, count: [4096, 4096], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 100, cache: { l1: 48 << 10, l2: 2 << 20 } })
 * console.log(b?.steps, b?.tile) // 8 6
 * ```
 */
export function temporalBlocking(input: BlockingInput): TemporalBlocking | undefined {
  const { dims, count, ranks, radius, elementBytes, loopSteps, cache } = input
  if (radius < 1 || loopSteps < 2) return undefined
  const points = count.reduce((a, c) => a * c, 1)
  if (dims === 1 && points <= SMALL_BLOCK_POINTS && (ranks > 1 || 2 * points * elementBytes <= cache.l1)) {
    const k = Math.min(SMALL_BLOCK_STEPS, Math.max(8, Math.floor(points / (8 * radius))), loopSteps)
    if (k <= 1) return undefined
    return { steps: k, ghost: k * radius, tile: 0, why: `small blocks: ${k} steps per exchange in one kernel call` }
  }
  if (2 * points * elementBytes <= cache.l2) return undefined
  const k = Math.min(LARGE_BLOCK_STEPS[dims] ?? 4, loopSteps)
  const ghost = k * radius
  // A tile's working set over k steps: its rows plus (k + 1)·r skewed ones, in both buffers.
  const row = count.slice(1).reduce((a, c) => a * (c + 2 * ghost), 1) * elementBytes * 2
  const budget = cache.l2 * L2_SHARE
  const tile = Math.floor(budget / row) - (k + 1) * radius
  const unit = dims === 1 ? "points" : dims === 2 ? "rows" : "planes"
  if (tile < 1) return { steps: k, ghost, tile: 0, why: `${k} steps per exchange in one kernel call; untiled: one ${unit.slice(0, -1)} of both buffers (${kib(row)}) does not fit in half the L2 (${kib(cache.l2)})` }
  return { steps: k, ghost, tile, why: `temporal blocking: tiles of ${tile} ${unit} swept through ${k} steps each (working set ${kib((tile + (k + 1) * radius) * row)} in half the L2 of ${kib(cache.l2)})` }
}
