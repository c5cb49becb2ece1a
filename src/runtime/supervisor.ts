/**
 * The rank pool: starts one worker thread per rank on the same entry module,
 * waits for every rank to finish, and always tears the pool down. The pool is
 * an Effect resource (`acquireRelease`), so workers are terminated on
 * success, on failure, on timeout and on interruption (Ctrl-C) alike.
 *
 * Workers start a few per turn of the event loop (a signal or the time
 * limit is never stuck behind the start of 256 threads); each rank's reports
 * arrive as an rxjs stream (`rankEvents`), folded here into the outcome. Fail-fast: a rank's failure aborts the job through shared
 * memory (ranks blocked in comm calls wake up and stop), the other ranks get a
 * short grace to report, and the run fails with every genuine failure, first
 * one first. A deadlock watcher, the time limit, `comm.abort` and an error
 * after a rank's program returned (a rejected promise, a throwing timer) can
 * end the run too.
 *
 * Teardown has a deadline (`teardown.ts`): the outcome is handed to
 * `onOutcome` (which prints it) before any thread is stopped, the job's child
 * processes are killed, and workers stuck in native code are left behind
 * after half a second rather than waited for. Each rank runs under a heap
 * limit (`maxRankHeapMiB`), so a runaway rank fails alone, named.
 *
 * A TypeScript entry reaches the ranks as a plain-JS bundle built once and
 * cached (`bundle.ts`), so workers start without a loader; when it cannot be
 * bundled, each worker registers tsx and loads the sources.
 *
 * Layer: runtime (supervisor side). Loaded only on the main thread.
 */
import { statSync } from "node:fs"
import { totalmem } from "node:os"
import { fileURLToPath } from "node:url"
import { getHeapStatistics } from "node:v8"
import { Worker } from "node:worker_threads"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import {
  DeadlockDetected,
  InvalidOptions,
  JobAborted,
  JobTimeout,
  RankExited,
  RankFailed,
  RankOutOfMemory,
  type RankFailure,
} from "../errors.ts"
import { JOB_VARIABLE, newJobToken } from "./childProcesses.ts"
import { longTimeout, stopJob, track } from "./teardown.ts"
import { watchForDeadlock, watchForLocalCycle } from "./deadlock.ts"
import { abortAll } from "../transport/doorbell.ts"
import { allocateWorldMemory, OUT_OF_MEMORY, RANK_STRIDE, type WorldMemory } from "../transport/memory.ts"
import type { Subscription } from "rxjs"
import { rankEvents, type RankEvent } from "./rankEvents.ts"
import { bundleForRanks } from "./bundle.ts"
import { allocateDashboard } from "./dashboardBuffer.ts"
import type { TraceMode, TraceSummary } from "../comm/trace.ts"
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
  /**
   * Fail with `DeadlockDetected` when every running rank has been blocked this long with no progress (default 1; 0: off).
   * On MPI (`mpi`): when this process's rank threads have been blocked in a wait-for cycle among themselves this long.
   */
  readonly deadlockSeconds?: number
  /** Any single blocking call on a rank fails with `CommTimeout` after this many seconds. */
  readonly commTimeoutSeconds?: number
  /** Receives rank 0's progress reports; ranks send none without it. */
  readonly onProgress?: (label: string, done: number, total: number) => void
  /** Receives each rank's traffic counters when it finishes; ranks count nothing without it. */
  readonly onTrace?: (trace: TraceSummary) => void
  /** With `onTrace`: ranks also record a timeline of their calls, waits and messages (`--trace=FILE.json`); "all": every message in detail (`--trace-messages=all`). */
  readonly traceTimeline?: boolean | "all"
  /**
   * Heap limit of each rank in MiB (V8 old generation); a rank over it fails
   * alone with `RankOutOfMemory`. Default: `RANKFLOW_MAX_RANK_HEAP` (MiB) when
   * set, else a fair share of the machine's memory (`defaultRankHeapMiB`).
   */
  readonly maxRankHeapMiB?: number
  /**
   * Called once with the run's outcome as soon as it is known — success,
   * failure or interruption — before any thread is stopped: report it here
   * so that it is printed at once, whatever the ranks are doing.
   */
  readonly onOutcome?: (exit: Exit.Exit<unknown[], RunError>) => void
  /** Watches the job live (`--dashboard`): ranks then publish their traffic and heap, and every rank event is passed on. */
  readonly watch?: JobWatch
  /**
   * This process is one process of an MPI job (started by mpirun): the
   * pool runs its `ranks` rank threads on the MPI transport (process
   * `rank` of `size`; thread t is rank rank · ranks + t of the job).
   */
  readonly mpi?: { readonly rank: number; readonly size: number }
}

/** Something that watches a job as it runs (the dashboard). */
export interface JobWatch {
  /** Before any rank starts: the job's shared memory, and the buffer ranks publish traffic and heap into (dashboardBuffer.ts). */
  readonly started: (memory: WorldMemory, counters: SharedArrayBuffer) => void
  /** Every rank event, in order, until the outcome is settled. */
  readonly event: (event: RankEvent) => void
}

/** What each rank records for `onTrace`: counts, and a timeline when `traceTimeline` asks for one. */
const traceMode = (timeline: boolean | "all" | undefined): TraceMode => (timeline === "all" ? "timeline-all" : timeline === true ? "timeline" : true)

/** The job's number of this pool's rank thread `rank`: on MPI, process · ranks per process + thread. */
const globalRank = (options: PoolOptions, rank: number): number => (options.mpi === undefined ? rank : options.mpi.rank * options.ranks + rank)

/** Every way a run can fail. */
export type RunError = RankFailed | RankExited | JobTimeout | DeadlockDetected | JobAborted | InvalidOptions

/** The smallest default heap limit of a rank, however many ranks share the machine. */
const MIN_DEFAULT_RANK_HEAP_MIB = 128
const MiB = 1024 * 1024

/**
 * The default heap limit of each of `ranks` ranks: an equal share of the
 * machine's memory, at most what V8 gives the main thread, at least 128 MiB.
 */
export function defaultRankHeapMiB(ranks: number): number {
  const v8Limit = Math.floor(getHeapStatistics().heap_size_limit / MiB)
  const share = Math.floor(totalmem() / MiB / Math.max(1, ranks))
  return Math.max(MIN_DEFAULT_RANK_HEAP_MIB, Math.min(v8Limit, share))
}

/** The heap limit the ranks of a run get: the option, else RANKFLOW_MAX_RANK_HEAP, else the default. */
export function rankHeapMiB(options: Pick<PoolOptions, "ranks" | "maxRankHeapMiB">): number {
  const given = options.maxRankHeapMiB
  if (given !== undefined) {
    if (!(Number.isFinite(given) && given >= 16)) throw new InvalidOptions("maxRankHeapMiB", `expected a number of MiB ≥ 16, got ${String(given)}`)
    return Math.floor(given)
  }
  const variable = process.env.RANKFLOW_MAX_RANK_HEAP
  if (variable !== undefined && variable !== "") {
    const value = Number(variable)
    if (!(Number.isFinite(value) && value >= 16)) throw new InvalidOptions("RANKFLOW_MAX_RANK_HEAP", `expected a number of MiB ≥ 16, got "${variable}"`)
    return Math.floor(value)
  }
  return defaultRankHeapMiB(options.ranks)
}

/** How long ranks may take to report after the first failure, before the run fails without them. */
const FAILURE_GRACE_MS = 300
/** How long a finished rank may keep its thread alive (open handles) before it is terminated. */
const EXIT_GRACE_MS = 2000

const ownUrl = import.meta.url
const ext = ownUrl.endsWith(".ts") ? ".ts" : ".js"
const BOOTSTRAP_URL = prebuiltRankEntry() ?? new URL(`./rankEntry${ext}`, ownUrl).href

/**
 * The rank bootstrap bundled with the library (one shared chunk, fp-ts's ESM
 * build inlined; scripts/build.mjs), when rankflow runs from a dist/ that has
 * it and bundles are not turned off: a rank then loads three files instead of
 * ~60 modules. Undefined from source (the cache's bundle holds the bootstrap).
 */
function prebuiltRankEntry(): string | undefined {
  if (process.env.RANKFLOW_BUNDLE === "0" || ext === ".ts") return undefined
  const url = new URL("./rankEntry.bundle.js", ownUrl)
  // Older than the module it was built from: dist/ was recompiled by tsc alone since (a stale bundle).
  const built = statSync(fileURLToPath(url), { throwIfNoEntry: false })?.mtimeMs
  const source = statSync(fileURLToPath(new URL("./rankEntry.js", ownUrl)), { throwIfNoEntry: false })?.mtimeMs
  return built !== undefined && (source === undefined || built >= source) ? url.href : undefined
}
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

/** One run's ranks and what identifies the processes they start. */
interface Job {
  readonly token: string
  readonly heapMiB: number
  readonly code: RankCode
  /** Workers started so far, in rank order (they start in batches). */
  readonly workers: Worker[]
  /** What ranks publish for `options.watch` (dashboardBuffer.ts), when watched. */
  readonly counters?: SharedArrayBuffer
}

/**
 * Workers started per turn of the event loop. Starting one costs milliseconds
 * of the main thread (tens under load); 256 at once held it for 8 s on a
 * loaded machine, with signals and timers waiting behind.
 */
const SPAWN_BATCH = 8

/** Starts rank `rank`'s worker thread. */
function spawnRank(memory: WorldMemory, options: PoolOptions, job: Job, rank: number): Worker {
  const { code } = job
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
    ...(options.onTrace === undefined ? {} : { trace: traceMode(options.traceTimeline) }),
    ...(job.counters === undefined ? {} : { dashboard: job.counters }),
    ...(options.mpi === undefined ? {} : { transport: "mpi" as const, ranksPerProcess: options.ranks }),
  }
  const worker = new Worker(code.boot, {
    eval: true,
    workerData: start,
    name: `rank ${globalRank(options, rank)}`,
    // Every rank's environment marks the processes it starts as this job's (childProcesses.ts).
    env: { ...process.env, [JOB_VARIABLE]: job.token },
    resourceLimits: { maxOldGenerationSizeMb: job.heapMiB },
  })
  track(worker)
  return worker
}

/** Wakes every blocked rank with an abort, then stops the job within the teardown deadline. */
async function stop(memory: WorldMemory, job: Job): Promise<void> {
  abortAll(memory, -1)
  await stopJob(job.token, job.workers)
}

/** A failure that came after the rank's program returned, said so in its message (and its stack's header). */
function afterReturn(failure: RankFailure): RankFailure {
  const header = `${failure.name}: ${failure.message}`
  const message = `${failure.message} (after its program returned)`
  const stack = failure.stack.startsWith(header) ? `${failure.name}: ${message}${failure.stack.slice(header.length)}` : failure.stack
  return { ...failure, message, stack }
}

/** Waits for every rank's outcome: all results in rank order, or the failure. */
function outcomes(memory: WorldMemory, job: Job, options: PoolOptions): Effect.Effect<unknown[], RunError> {
  return Effect.callback<unknown[], RunError>((resume) => {
    const size = options.ranks
    const results = new Array<unknown>(size)
    /** A rank reported its end: done, failed or aborted (its thread may still run). */
    const reported = new Array<boolean>(size).fill(false)
    const finished = new Array<boolean>(size).fill(false)
    const exited = new Array<boolean>(size).fill(false)
    const failures: RankFailure[] = []
    const timers: NodeJS.Timeout[] = []
    const cancels: Array<() => void> = []
    let settled = false
    const subscriptions: Subscription[] = []
    let spawning: NodeJS.Immediate | undefined

    const cleanUp = (): void => {
      settled = true
      clearImmediate(spawning)
      for (const t of timers) clearTimeout(t)
      for (const cancel of cancels) cancel()
      stopWatching()
      for (const s of subscriptions) s.unsubscribe()
    }
    const settle = (effect: Effect.Effect<unknown[], RunError>): void => {
      if (settled) return
      cleanUp()
      resume(effect)
    }
    const quiet = options.deadlockSeconds ?? 1
    const onDeadlock = (error: DeadlockDetected): void => {
      abortAll(memory, -1)
      settle(Effect.fail(error))
    }
    // On MPI this process sees only its own rank threads: a wait-for cycle among them is all it can tell,
    // and a lone rank thread is in none (its watcher would only wake the process every 50 ms).
    const stopWatching =
      quiet <= 0 || (options.mpi !== undefined && memory.size === 1)
        ? () => undefined
        : options.mpi === undefined
          ? watchForDeadlock(memory, (rank) => !reported[rank], quiet, onDeadlock)
          : watchForLocalCycle(memory, options.mpi.rank, (thread) => !reported[thread], quiet, onDeadlock)
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
      switch (event.kind) {
        case "progress":
          return options.onProgress?.(event.label, event.done, event.total)
        case "observation":
          return // for options.watch only
        case "abort":
          // MPI_Abort: the job ends now with the rank's code; nothing else is waited for.
          abortAll(memory, rank)
          return settle(Effect.fail(new JobAborted(globalRank(options, rank), event.code, event.reason)))
        case "exited":
          exited[rank] = true
          // Flagged by the rank's native near-heap-limit callback (rankEntry.ts), which stopped it.
          if (Atomics.load(new Int32Array(memory.control), (rank + 1) * RANK_STRIDE + OUT_OF_MEMORY) !== 0 && !(reported[rank] && !finished[rank]))
            return onEvent({ kind: "outOfMemory", rank })
          if (reported[rank]) return finishedIfAll()
          reported[rank] = true
          return fail({ rank, name: "RankExited", message: new RankExited(rank, event.code).message, stack: "" })
        case "outOfMemory":
          reported[rank] = true
          return fail({ rank, name: "RankOutOfMemory", message: new RankOutOfMemory(rank, job.heapMiB).message, stack: "" })
        case "failed":
          // A failure after the rank's program returned (a rejected promise, a throwing timer) fails the job too.
          if (reported[rank] && !finished[rank]) return
          reported[rank] = true
          if (!finished[rank]) return fail(event.failure)
          finished[rank] = false
          return fail(afterReturn(event.failure))
        case "aborted":
          if (reported[rank]) return
          reported[rank] = true
          if (failures.length > 0) failSoon()
          return
        case "done":
          if (reported[rank]) return
          reported[rank] = finished[rank] = true
          results[rank] = event.result
          if (event.trace !== undefined) options.onTrace?.(event.trace)
          // A rank whose program is done but keeps handles open is stopped after a grace period.
          timers.push(
            setTimeout(() => {
              exited[rank] = true
              finishedIfAll()
            }, EXIT_GRACE_MS),
          )
      }
    }
    // Ranks start a batch per turn of the event loop, each watched from its first event.
    const spawnFrom = (first: number): void => {
      spawning = undefined
      if (settled) return
      const end = Math.min(size, first + SPAWN_BATCH)
      for (let rank = first; rank < end; rank++) {
        const worker = spawnRank(memory, options, job, rank)
        job.workers.push(worker)
        subscriptions.push(
          rankEvents(worker, rank).subscribe((event) => {
            options.watch?.event(event)
            if (!settled) onEvent(event)
          }),
        )
      }
      if (end < size) spawning = setImmediate(spawnFrom, end)
    }
    spawnFrom(0)

    const limit = options.timeoutSeconds
    if (limit !== undefined) {
      cancels.push(
        longTimeout(() => {
          const pending = reported.flatMap((r, rank) => (r ? [] : [globalRank(options, rank)]))
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
 * is the program). The outcome goes to `options.onOutcome` first; then every
 * worker is terminated and the ranks' child processes killed, within a
 * deadline: a worker stuck in native code is left behind (and does not keep
 * the process alive) rather than waited for.
 */
export function runPool(options: PoolOptions): Effect.Effect<unknown[], RunError> {
  return Effect.scoped(
    Effect.gen(function* () {
      const heapMiB = yield* Effect.try({ try: () => rankHeapMiB(options), catch: (error) => error as InvalidOptions })
      const code = yield* Effect.promise(() => rankCode(options.entry))
      const memory = allocateWorldMemory(options.ranks)
      const token = newJobToken()
      const counters = options.watch === undefined ? undefined : allocateDashboard(options.ranks)
      if (counters !== undefined) options.watch?.started(memory, counters)
      // The job's workers start inside `outcomes`, batch by batch; whatever started is stopped.
      const job = yield* Effect.acquireRelease(
        Effect.sync((): Job => ({ token, heapMiB, code, workers: [], ...(counters === undefined ? {} : { counters }) })),
        (j) => Effect.promise(() => stop(memory, j)),
      )
      return yield* outcomes(memory, job, options)
    }).pipe(Effect.onExit((exit) => Effect.sync(() => options.onOutcome?.(exit)))),
  )
}
