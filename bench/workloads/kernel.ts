// What every implementation of a workload hands the harness, and the one
// timing loop that measures it — on the main thread (serial-js) and on every
// rank (comm) alike, so both are timed the same way.
//
// Rank side and main side: imports nothing but types, loads nothing heavy.

/**
 * One implementation of a workload, set up and ready to run: everything is
 * allocated before the harness calls it.
 *
 * - `reset` (untimed) puts the state back to its initial value before each
 *   repetition (e.g. the initial temperature field).
 * - `phases` are timed, in order, each bracketed by barriers on ranks; the
 *   repetition's wall time is their sum. Most workloads have one phase
 *   (`run`); matvec has two (`oneshot`, `iterate`).
 * - `result` (untimed) returns the checkable answer after the last
 *   repetition. On ranks every rank calls it (it may use collectives) and
 *   rank 0's value is reported.
 * - `close` releases whatever the implementation holds (a pool, say).
 */
export interface Kernel<R> {
  reset?(): void
  readonly phases: Readonly<Record<string, () => void | Promise<void>>>
  result(): R
  close?(): void | Promise<void>
}

/** Wall seconds of each repetition (the sum of its phases), and each phase's seconds per repetition. */
export interface Timings {
  readonly wall: number[]
  readonly phases: Record<string, number[]>
}

/**
 * Runs `kernel` `reps` times: reset, then each phase between two calls of
 * `sync` (a barrier on ranks, nothing on the main thread), timed with
 * `clock` (seconds). `span` turns this thread's start and end into the
 * phase's seconds (on ranks: across all ranks, see rank.ts).
 */
export async function timeKernel<R>(
  kernel: Kernel<R>,
  reps: number,
  sync: () => void,
  clock: () => number,
  span: (start: number, end: number) => number = (start, end) => end - start,
): Promise<Timings> {
  const wall: number[] = []
  const phases: Record<string, number[]> = {}
  for (let rep = 0; rep < reps; rep++) {
    kernel.reset?.()
    let total = 0
    for (const [name, phase] of Object.entries(kernel.phases)) {
      sync()
      const t0 = clock()
      await phase()
      sync()
      const seconds = span(t0, clock())
      ;(phases[name] ??= []).push(seconds)
      total += seconds
    }
    wall.push(total)
  }
  return { wall, phases }
}

/** The smallest value. */
export const minOf = (values: ReadonlyArray<number>): number => Math.min(...values)

/** The median (the upper one of an even count). */
export function medianOf(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
