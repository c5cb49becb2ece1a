/**
 * The rank pool: starts one worker thread per rank on the same entry module,
 * waits for every rank to finish, and always tears the pool down. The pool is
 * an Effect resource (`acquireRelease`), so workers are terminated on
 * success, on failure, on timeout and on interruption (Ctrl-C) alike.
 *
 * The ranks' reports arrive as one rxjs stream (`rankEvents`), folded here
 * into the outcome. Fail-fast: a rank's failure aborts the job through shared
 * memory (ranks blocked in comm calls wake up and stop), the other ranks get a
 * short grace to report, and the run fails with every genuine failure, first
 * one first. A deadlock watcher and the time limit can end the run too.
 *
 * A TypeScript entry reaches the ranks as a plain-JS bundle built once and
 * cached (`bundle.ts`), so workers start without a loader; when it cannot be
 * bundled, each worker registers tsx and loads the sources.
 *
 * Layer: runtime (supervisor side). Loaded only on the main thread.
 */
import { Worker } from "node:worker_threads"
import * as Effect from "effect/Effect"
import { DeadlockDetected, JobTimeout, RankExited, RankFailed, type RankFailure } from "../errors.ts"
import { watchForDeadlock } from "./deadlock.ts"
import { abortAll } from "../transport/doorbell.ts"
import { allocateWorldMemory, type WorldMemory } from "../transport/memory.ts"
import type { Subscription } from "rxjs"
import { rankEvents, type RankEvent } from "./rankEvents.ts"
import { bundleForRanks } from "./bundle.ts"
import type { TraceSummary } from "../comm/trace.ts"
import type { RankStart } from "./rankContext.ts"

/** What to run on the pool. */
export interface PoolOptions {
  readonly ranks: number
  /** URL of the module every rank imports. */
  readonly entry: string
  /** Export of `entry` to call with (comm, args) on every rank; its results are returned. */
  readonly exportName?: string
  /** What every rank receives: the export's second argument, and `rankArgs()` for a module's top level. */
  readonly args?: unknown
  /** Fail with `JobTimeout` when the run takes longer (seconds). */
  readonly timeoutSeconds?: number
  /** Fail with `DeadlockDetected` when every running rank has been blocked this long with no progress (default 1; 0: off). */
  readonly deadlockSeconds?: number
  /** Any single blocking call on a rank fails with `CommTimeout` after this many seconds. */
  readonly commTimeoutSeconds?: number
  /** Receives rank 0's progress reports; ranks send none without it. */
  readonly onProgress?: (label: string, done: number, total: number) => void
  /** Receives each rank's traffic counters when it finishes; ranks count nothing without it. */
  readonly onTrace?: (trace: TraceSummary) => void
}

/** Every way a run can fail. */
export type RunError = RankFailed | RankExited | JobTimeout | DeadlockDetected

/** How long ranks may take to report after the first failure, before the run fails without them. */
const FAILURE_GRACE_MS = 300
/** How long a finished rank may keep its thread alive (open handles) before it is terminated. */
const EXIT_GRACE_MS = 2000

const ownUrl = import.meta.url
const ext = ownUrl.endsWith(".ts") ? ".ts" : ".js"
const BOOTSTRAP_URL = new URL(`./rankEntry${ext}`, ownUrl).href
const isTypeScript = (url: string): boolean => /\.[mc]?tsx?$/.test(new URL(url).pathname)

/**
 * Eval'd first in each worker: on Node 20 a worker does not inherit tsx's
 * loader, so register it here before importing anything written in TypeScript.
 */
const WORKER_BOOT = `
const { workerData } = require("node:worker_threads");
(async () => {
  if (workerData.tsx !== undefined) (await import(workerData.tsx)).register();
  await import(workerData.bootstrap);
})().catch((error) => { process.nextTick(() => { throw error }) });
`

/** Eval'd first in each worker running a bundle: plain JS, with stack traces mapped back to the sources. */
const BUNDLE_BOOT = `
const { workerData } = require("node:worker_threads");
process.setSourceMapsEnabled(true);
import(workerData.bootstrap).catch((error) => { process.nextTick(() => { throw error }) });
`

/** How the ranks load their code: which boot script, which bootstrap and entry URLs, and whether through tsx. */
interface RankCode {
  readonly boot: string
  readonly bootstrap: string
  readonly entry: string
  readonly tsx?: string
}

/**
 * A TypeScript entry (or rankflow running from source) is bundled once into
 * plain JS so that ranks need no loader; when it cannot be, ranks register
 * tsx and load the sources as they are.
 */
async function rankCode(entry: string): Promise<RankCode> {
  if (!isTypeScript(entry) && ext !== ".ts") return { boot: WORKER_BOOT, bootstrap: BOOTSTRAP_URL, entry }
  const bundle = await bundleForRanks(entry, ext === ".ts" ? BOOTSTRAP_URL : undefined)
  if (bundle._tag === "Bundled") return { boot: BUNDLE_BOOT, bootstrap: bundle.bootstrap ?? BOOTSTRAP_URL, entry: bundle.entry }
  return { boot: WORKER_BOOT, bootstrap: BOOTSTRAP_URL, entry, tsx: import.meta.resolve("tsx/esm/api") }
}

function spawn(memory: WorldMemory, options: PoolOptions, code: RankCode): Worker[] {
  const workers: Worker[] = []
  for (let rank = 0; rank < options.ranks; rank++) {
    const start: RankStart = {
      rank,
      size: options.ranks,
      memory,
      entry: code.entry,
      bootstrap: code.bootstrap,
      ...(code.tsx === undefined ? {} : { tsx: code.tsx }),
      ...(options.exportName === undefined ? {} : { exportName: options.exportName }),
      ...(options.args === undefined ? {} : { args: options.args }),
      ...(options.commTimeoutSeconds === undefined ? {} : { commTimeout: options.commTimeoutSeconds }),
      ...(options.onProgress === undefined ? {} : { progress: true }),
      ...(options.onTrace === undefined ? {} : { trace: true }),
    }
    workers.push(new Worker(code.boot, { eval: true, workerData: start, name: `rank ${rank}` }))
  }
  return workers
}

/** Wakes every blocked rank with an abort, then terminates all threads. */
async function stop(memory: WorldMemory, workers: ReadonlyArray<Worker>): Promise<void> {
  abortAll(memory, -1)
  await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)))
}

/** Waits for every rank's outcome: all results in rank order, or the failure. */
function outcomes(memory: WorldMemory, workers: ReadonlyArray<Worker>, options: PoolOptions): Effect.Effect<unknown[], RunError> {
  return Effect.callback<unknown[], RunError>((resume) => {
    const size = workers.length
    const results = new Array<unknown>(size)
    const reported = new Array<boolean>(size).fill(false)
    const exited = new Array<boolean>(size).fill(false)
    const failures: RankFailure[] = []
    const timers: NodeJS.Timeout[] = []
    let settled = false
    let subscription: Subscription | undefined

    const cleanUp = (): void => {
      for (const t of timers) clearTimeout(t)
      stopWatching()
      subscription?.unsubscribe()
    }
    const settle = (effect: Effect.Effect<unknown[], RunError>): void => {
      if (settled) return
      settled = true
      cleanUp()
      resume(effect)
    }
    const quiet = options.deadlockSeconds ?? 1
    const stopWatching =
      quiet > 0
        ? watchForDeadlock(memory, (rank) => !reported[rank], quiet, (error) => {
            abortAll(memory, -1)
            settle(Effect.fail(error))
          })
        : () => undefined
    const failSoon = (): void => {
      if (failures.length === 1) timers.push(setTimeout(() => settle(Effect.fail(new RankFailed([...failures]))), FAILURE_GRACE_MS))
      if (reported.every(Boolean)) settle(Effect.fail(new RankFailed([...failures])))
    }
    const fail = (failure: RankFailure): void => {
      failures.push(failure)
      abortAll(memory, failure.rank)
      failSoon()
    }
    const finishedIfAll = (): void => {
      if (failures.length === 0 && exited.every(Boolean)) settle(Effect.succeed(results))
    }

    const onEvent = (event: RankEvent): void => {
      const rank = event.rank
      if (event.kind === "progress") return options.onProgress?.(event.label, event.done, event.total)
      if (event.kind === "exited") {
        exited[rank] = true
        if (reported[rank]) return finishedIfAll()
        reported[rank] = true
        return fail({ rank, name: "RankExited", message: new RankExited(rank, event.code).message, stack: "" })
      }
      if (reported[rank]) return
      reported[rank] = true
      if (event.kind === "done") {
        results[rank] = event.result
        if (event.trace !== undefined) options.onTrace?.(event.trace)
        // A rank whose program is done but keeps handles open is stopped after a grace period.
        timers.push(
          setTimeout(() => {
            exited[rank] = true
            finishedIfAll()
          }, EXIT_GRACE_MS),
        )
      } else if (event.kind === "aborted") {
        if (failures.length > 0) failSoon()
      } else {
        fail(event.failure)
      }
    }
    subscription = rankEvents(workers).subscribe((event) => {
      if (!settled) onEvent(event)
    })

    const limit = options.timeoutSeconds
    if (limit !== undefined) {
      timers.push(
        setTimeout(() => {
          const pending = reported.flatMap((r, rank) => (r ? [] : [rank]))
          settle(Effect.fail(new JobTimeout(limit, pending)))
        }, limit * 1000),
      )
    }
    return Effect.sync(cleanUp)
  })
}

/**
 * Runs `options.entry` on `options.ranks` worker-thread ranks and returns the
 * per-rank results (of `exportName`, or undefined when the module's top level
 * is the program). Workers never outlive the effect.
 */
export function runPool(options: PoolOptions): Effect.Effect<unknown[], RunError> {
  return Effect.scoped(
    Effect.gen(function* () {
      const code = yield* Effect.promise(() => rankCode(options.entry))
      const memory = allocateWorldMemory(options.ranks)
      const workers = yield* Effect.acquireRelease(
        Effect.sync(() => spawn(memory, options, code)),
        (ws) => Effect.promise(() => stop(memory, ws)),
      )
      return yield* outcomes(memory, workers, options)
    }),
  )
}
