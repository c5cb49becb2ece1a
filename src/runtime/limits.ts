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

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`

/**
 * The most ranks a job may start on a machine with `memory`, and why no
 * more: a job's one allocation of rings must fit in the machine's memory
 * (a larger one is refused by the OS), and every thread must fit in what is free.
 */
export function rankLimit(memory: MachineMemory = { total: totalmem(), free: freemem() }): { readonly limit: number; readonly reason: string } {
  const fits = (n: number): boolean => worldMemoryBytes(n).total <= memory.total
  let lo = 1
  let hi = 2 ** 26
  if (!fits(lo)) return { limit: 0, reason: `even one rank's shared memory (${gib(worldMemoryBytes(1).total)}) is more than the machine's ${gib(memory.total)}` }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (fits(mid)) lo = mid
    else hi = mid - 1
  }
  const byThreads = Math.max(1, Math.floor(memory.free / THREAD_BYTES))
  if (byThreads < lo) return { limit: byThreads, reason: `each rank's thread needs about ${THREAD_BYTES / 2 ** 20} MiB and ${gib(memory.free)} of memory is free` }
  const over = worldMemoryBytes(lo + 1)
  return { limit: lo, reason: `${lo + 1} ranks need ${gib(over.total)} of shared memory (a ring per pair of ranks: ${gib(over.rings)}), more than the machine's ${gib(memory.total)}` }
}

/** Refuses a job of `ranks` threads that this machine cannot hold: `ResourceLimit` naming `option`, the limit and why. */
export function checkRanks(option: string, ranks: number, memory?: MachineMemory): void {
  const { limit, reason } = rankLimit(memory)
  if (ranks > limit) throw new ResourceLimit(option, ranks, limit, reason)
}
