/**
 * How many ranks (worker threads) this machine can hold, computed from what
 * a job allocates — the shared rings of `allocateWorldMemory`, one per pair
 * of ranks, and each rank's thread — against the machine's memory, so that
 * `--ranks 1000` is refused before any worker starts instead of dying in
 * `Array buffer allocation failed` or a V8 fatal error.
 *
 * Layer: runtime (supervisor side).
 */
import { freemem, totalmem } from "node:os"
import { getHeapStatistics } from "node:v8"
import { formatBytes } from "../comm/units.ts"
import { ResourceLimit } from "../errors.ts"
import { worldMemoryBytes } from "../transport/memory.ts"

/**
 * What one rank's thread costs at start (its V8 isolate and heap, the
 * program's bundle), measured: 32 ranks of examples/hello.ts peak at 456 MB
 * of RSS, 2 ranks at 156 MB — about 10 MiB a thread.
 */
export const THREAD_BYTES = 10 * 2 ** 20

/** The machine's memory, in bytes: all of it, and what is free now. */
export interface MachineMemory {
  readonly total: number
  readonly free: number
}

/**
 * The most ranks a job may start on a machine with `memory`, and why no
 * more: a job's one allocation of rings must fit in the machine's memory
 * (a larger one is refused by the OS), and every thread must fit in what is free.
 */
export function rankLimit(memory: MachineMemory = { total: totalmem(), free: freemem() }): { readonly limit: number; readonly reason: string } {
  const fits = (n: number): boolean => worldMemoryBytes(n).total <= memory.total
  let lo = 1
  let hi = 2 ** 26
  if (!fits(lo)) return { limit: 0, reason: `even one rank's shared memory (${formatBytes(worldMemoryBytes(1).total)}) is more than the machine's ${formatBytes(memory.total)}` }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(mid)) lo = mid
    else hi = mid - 1
  }
  const byThreads = Math.max(1, Math.floor(memory.free / THREAD_BYTES))
  if (byThreads < lo) return { limit: byThreads, reason: `each rank's thread needs about ${THREAD_BYTES / 2 ** 20} MiB and ${formatBytes(memory.free)} of memory is free` }
  const over = worldMemoryBytes(lo + 1)
  return { limit: lo, reason: `${lo + 1} ranks need ${formatBytes(over.total)} of shared memory (a ring per pair of ranks: ${formatBytes(over.rings)}), more than the machine's ${formatBytes(memory.total)}` }
}

/** Refuses a job of `ranks` threads that this machine cannot hold: `ResourceLimit` naming `option`, the limit and why. */
export function checkRanks(option: string, ranks: number, memory?: MachineMemory): void {
  const { limit, reason } = rankLimit(memory)
  if (ranks > limit) throw new ResourceLimit(option, ranks, limit, reason)
}

/**
 * What one logical rank of a pipeline costs in each thread's V8 heap (its
 * planned range or block, its place in the schedule), measured: 10⁷ ranks of
 * pipelines/pi.ts peak at 2.57 GB of RSS over the supervisor and 2 threads —
 * about 256 B a rank.
 */
export const PARTITION_BYTES = 256

/**
 * Refuses more logical ranks (`--ranks` of a pipeline) than a V8 heap can
 * plan: `ResourceLimit` with the limit and why (10⁷ fit in the default heap).
 */
export function checkPartitions(ranks: number, heapLimit = getHeapStatistics().heap_size_limit, free = freemem()): void {
  const bytes = Math.min(heapLimit, free)
  const limit = Math.floor(bytes / PARTITION_BYTES)
  if (ranks > limit)
    throw new ResourceLimit("--ranks", ranks, limit, `each logical rank takes about ${PARTITION_BYTES} B of every thread's plan, and ${heapLimit <= free ? `V8's heap holds ${formatBytes(heapLimit)} (--max-old-space-size)` : `${formatBytes(free)} of memory is free`}`)
}
