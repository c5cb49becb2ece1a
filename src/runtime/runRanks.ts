/**
 * The programmatic way to run SPMD code: call an exported function of a
 * module on N ranks and get every rank's return value back. Tests use it; so
 * can applications that embed rankflow.
 *
 * Layer: runtime. Loads the supervisor lazily (main thread only).
 */
import { isMainThread } from "node:worker_threads"
import { InvalidOptions } from "../errors.ts"

/** What `runRanks` runs (module and exported function), on how many ranks, with which argument and time limits. */
export interface RunRanksOptions<A = unknown> {
  /** Number of ranks (worker threads), ≥ 1. */
  readonly ranks: number
  /** The module (URL or `import.meta.resolve`d specifier) that exports the function. */
  readonly module: string | URL
  /** Name of the exported function; called on every rank as `fn(comm, args)`. */
  readonly export: string
  /** Structured-cloneable argument passed to every rank. */
  readonly args?: A
  /** Fail with `JobTimeout` after this many seconds. */
  readonly timeoutSeconds?: number
  /** Fail with `DeadlockDetected` once every running rank has been blocked this long (default 1; 0: off). */
  readonly deadlockSeconds?: number
  /** Fail any single blocking call that waits longer than this (`CommTimeout` on that rank). */
  readonly commTimeoutSeconds?: number
  /**
   * Heap limit of each rank in MiB; a rank over it fails alone as `RankOutOfMemory`
   * (default: `RANKFLOW_MAX_RANK_HEAP`, else an equal share of the machine's memory, ≥ 128 MiB).
   */
  readonly maxRankHeapMiB?: number
}

/**
 * Runs `module[export](comm, args)` on `ranks` worker-thread ranks and
 * resolves with the per-rank results in rank order. Rejects with the tagged
 * error of the run (`RankFailed` with the failing rank's error and stack,
 * `RankExited`, `JobTimeout`, `DeadlockDetected`, `JobAborted`); all workers
 * are stopped and the ranks' child processes killed either way. A worker
 * stuck in native code is not waited for beyond a short deadline: its thread
 * lingers until that code returns.
 *
 * @example
 * ```ts
 * import { type Comm, isRank, runRanks } from "rankflow"
 * export const whoAmI = (comm: Comm): number => comm.rank * 10
 * // The module imports itself on every rank: only the main thread launches.
 * if (!isRank()) console.log(await runRanks({ ranks: 4, module: import.meta.url, export: "whoAmI" })) // [0, 10, 20, 30]
 * ```
 */
export async function runRanks<R = unknown, A = unknown>(options: RunRanksOptions<A>): Promise<R[]> {
  if (!isMainThread) throw new InvalidOptions("", "runRanks must be called on the main thread")
  if (!Number.isInteger(options.ranks) || options.ranks < 1)
    throw new InvalidOptions("ranks", `expected a positive integer, got ${String(options.ranks)}`)
  if (options.timeoutSeconds !== undefined && !(options.timeoutSeconds > 0))
    throw new InvalidOptions("timeoutSeconds", `expected a positive number, got ${String(options.timeoutSeconds)}`)
  const [{ runPool }, Effect] = await Promise.all([import("./supervisor.ts"), import("effect/Effect")])
  const results = await Effect.runPromise(
    runPool({
      ranks: options.ranks,
      entry: String(options.module),
      exportName: options.export,
      args: options.args,
      ...(options.timeoutSeconds === undefined ? {} : { timeoutSeconds: options.timeoutSeconds }),
      ...(options.deadlockSeconds === undefined ? {} : { deadlockSeconds: options.deadlockSeconds }),
      ...(options.commTimeoutSeconds === undefined ? {} : { commTimeoutSeconds: options.commTimeoutSeconds }),
      ...(options.maxRankHeapMiB === undefined ? {} : { maxRankHeapMiB: options.maxRankHeapMiB }),
    }),
  )
  return results as R[]
}
