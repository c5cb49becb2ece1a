// The rank side of the harness: an SPMD implementation module exports
// `export const rank = spmdEntry(setup)`; harness.ts runs that export on N
// ranks with runRanks. It sets the implementation up and times it with the
// shared loop, barriers around every phase. (A static export rather than a
// dynamic import of the implementation: the rank entry may be bundled, and
// then only what it imports statically is there.)
//
// Rank side: imports only rankflow's (lean) public API and kernel.ts.
import { type Comm, MIN } from "rankflow"
import { type Kernel, type Timings, timeKernel } from "./kernel.ts"

/** The `setup` an SPMD implementation module exports: allocate, then return the kernel. */
export type CommSetup<P, R> = (comm: Comm, params: P, context: { readonly partitions: number }) => Kernel<R> | Promise<Kernel<R>>

/** What the harness sends each rank. */
export interface RankJob<P> {
  readonly params: P
  readonly reps: number
  /** Logical ranks (a pipeline's partitions): the job's thread count, or more. */
  readonly partitions: number
}

/** Rank 0's timings and result (other ranks return undefined). */
export interface RankOutcome<R> {
  readonly timings: Timings
  readonly result: R
}

/** The rank function of an implementation: set it up, time `reps` repetitions, return rank 0's outcome. */
export type RankFunction<P, R> = (comm: Comm, job: RankJob<P>) => Promise<RankOutcome<R> | undefined>

/** A clock all threads share (each thread's performance.now() has its own origin). */
const epochSeconds = (): number => (performance.timeOrigin + performance.now()) / 1000

/** The export name harness.ts runs on the ranks. */
export const RANK_EXPORT = "rank"

/** Makes the rank function of an implementation from its `setup`; export it as `rank`. */
export function spmdEntry<P, R>(setup: CommSetup<P, R>): RankFunction<P, R> {
  return async (comm, job) => {
    const kernel = await setup(comm, job.params, { partitions: job.partitions })
    const timings = await timeKernel(kernel, job.reps, () => comm.barrier(), epochSeconds, (start, end) => {
      // From the first rank out of the opening barrier to the first out of the closing one (all had
      // arrived by then): with more ranks than cores, rank 0 alone may be descheduled at either end.
      const [first, done] = comm.allreduce(Float64Array.of(start, end), MIN) as Float64Array
      return done! - first!
    })
    const result = kernel.result()
    await kernel.close?.()
    return comm.rank === 0 ? { timings, result } : undefined
  }
}
