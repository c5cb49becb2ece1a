/**
 * The supervisor's command-line main: validate options before any worker
 * starts, run the pool, report the outcome, exit with its code. Ctrl-C and
 * SIGTERM interrupt the run, which terminates every rank before exiting.
 *
 * Layer: runtime (supervisor side).
 */
import { availableParallelism } from "node:os"
import { relative } from "node:path"
import { fileURLToPath } from "node:url"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { parseRuntimeOptions, usage, type ExtraOptions, type ExtraValues } from "../cli/options.ts"
import type { TimelineData } from "../comm/timeline.ts"
import type { TraceSummary } from "../comm/trace.ts"
import { InvalidOptions, isRankflowError, type JobAborted, type RankFailed, type RankFailure, type RankflowError } from "../errors.ts"
import { checkRanks } from "./limits.ts"
import { mpiAddon, mpirunWorld, underMpirun } from "../transport/mpiAddon.ts"
import { progressDisplay } from "./progressBar.ts"
import { startDashboard, type Dashboard } from "./dashboard.ts"
import { runPool } from "./supervisor.ts"
import { exitProcess, threadsSettled } from "./teardown.ts"
import { traceReport } from "./traceReport.ts"
import { checkTraceFile, writeTimeline } from "./traceTimeline.ts"

/** Exit codes of a job, as documented on `init()`: 128 + the signal's number for SIGINT and SIGTERM. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, timeout: 124, interrupted: 130, terminated: 143 } as const

/** What every rank receives from `superviseMain` (`rankArgs()`): the program's own data and what followed `--`. */
export interface Launch {
  readonly args: unknown
  readonly positionals: ReadonlyArray<string>
}

/** How a job ended, for a program that reports it itself (`--json`). */
export interface JobEnd {
  readonly ok: boolean
  readonly exitCode: number
  /** Every rank's trace with `--trace`, in rank order. */
  readonly traces: ReadonlyArray<TraceSummary> | undefined
}

/** What `prepare` asks for: what ranks receive, how many threads, and who reports the end. */
export interface Prepared {
  readonly args: unknown
  readonly threads?: number
  /** Called once the job ended, before the process exits (e.g. to print one JSON document). */
  readonly end?: (end: JobEnd) => void
  /** `end` reports `--trace` itself: no trace table on stderr. */
  readonly ownsTrace?: boolean
}

/** Extra command-line flags a program adds to the runtime's, and what to do with them before ranks start. */
export interface MainHooks {
  readonly options?: ExtraOptions
  /** Usage lines describing the extra flags. */
  readonly usage?: ReadonlyArray<string>
  /** The program's name and description, shown under the usage line. */
  readonly title?: string
  /** rankflow's version, for `--version`. */
  readonly version?: () => string
  /**
   * Warn on stderr when ranks outnumber cores: a communicator program's
   * ranks then wait for a core (pipelines map partitions onto threads instead).
   */
  readonly warnOversubscribed?: boolean
  /**
   * Runs on the supervisor once all options are valid, before any worker
   * starts: returns what every rank receives (`rankArgs()`) and optionally how
   * many threads to start instead of `--ranks`, or an exit code to stop with
   * (e.g. after printing a plan). Throwing a RankflowError exits 2
   * with its message.
   */
  readonly prepare?: (extra: ExtraValues, ranks: number, positionals: ReadonlyArray<string>) => Prepared | { readonly exit: number }
}

/** `usage: pipelines/heat.ts [options] [-- arguments]`, then the program's title. */
function header(entry: string, title: string | undefined): string[] {
  let file = entry
  try {
    file = relative(process.cwd(), fileURLToPath(entry)) || entry
  } catch {
    // not a file URL: show it as it is
  }
  return [`usage: ${file} [options] [-- arguments]`, ...(title === undefined || title === "" ? [] : [title])]
}

export async function superviseMain(entry: string, argv: ReadonlyArray<string>, hooks: MainHooks = {}): Promise<never> {
  const usageText = () => [usage(header(entry, hooks.title)), ...(hooks.usage ?? [])].join("\n")
  let options
  let prepared: Prepared | undefined
  let threads: number
  /** This process's rank and the job's size when ranks are MPI processes. */
  let mpi: { readonly rank: number; readonly size: number; readonly perProcess: number } | undefined
  try {
    options = parseRuntimeOptions(argv, hooks.options)
    if (options.help) {
      process.stdout.write(`${usageText()}\n`)
      process.exit(ExitCode.ok)
    }
    if (options.version) {
      process.stdout.write(`rankflow ${hooks.version?.() ?? "(unknown version)"}\n`)
      process.exit(ExitCode.ok)
    }
    const result = hooks.prepare?.(options.extra, options.ranks, options.positionals)
    if (result !== undefined && "exit" in result) process.exit(result.exit)
    prepared = result
    threads = prepared?.threads ?? options.ranks
    if (options.transport === "mpi") {
      // The dashboard samples the threads' shared control block, which MPI processes do not share.
      if (options.dashboard !== undefined)
        throw new InvalidOptions("--dashboard", "the dashboard watches ranks on threads only, not on the MPI transport (docs/mpi.md)")
      mpi = mpiJob(options.ranks, prepared?.threads !== undefined, options.ranksPerProcess)
      threads = mpi.size * mpi.perProcess
    }
    checkRanks(prepared?.threads === undefined ? "--ranks" : "--threads", threads)
    if (options.traceFile !== undefined) checkTraceFile(options.traceFile)
  } catch (error) {
    // Structural checks: the program's own copy of rankflow made errors its hooks throw.
    if (!isRankflowError(error)) throw error
    process.stderr.write(`rankflow: ${error.message.split("\n")[0]}\n`)
    process.exit(ExitCode.usage)
  }
  const cores = availableParallelism()
  if (hooks.warnOversubscribed === true && threads > cores && !options.oversubscribe && mpi === undefined)
    process.stderr.write(
      `rankflow: warning: ${threads} ranks on ${cores} cores: ranks take turns on a core (measured 3–11× slower); a pipeline (Pipeline.main) runs --ranks as logical ranks on fewer threads; --oversubscribe silences this\n`,
    )
  const display = options.progress ? progressDisplay() : undefined
  const dashboard = options.dashboard === undefined ? undefined : await openDashboard(options.dashboard, threads, header(entry, undefined)[0]!)
  const controller = new AbortController()
  let signal = ""
  let firstSignalAt = 0
  // Every signal is handled, not only the first (process.once): npx and tsx relay a Ctrl-C a second
  // time 80–190 ms later, which Node's default action would turn into a silent exit. A repeat
  // well after the first is the user asking again: exit at once.
  const onSignal = (name: "SIGINT" | "SIGTERM") => () => {
    if (signal === "") {
      signal = name
      firstSignalAt = performance.now()
      controller.abort()
    } else if (performance.now() - firstSignalAt > 2000) {
      display?.stop()
      process.stderr.write(`rankflow: interrupted by ${name} again; exiting without waiting for the ranks\n`)
      exitProcess(signal === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted)
    }
  }
  process.on("SIGINT", onSignal("SIGINT"))
  process.on("SIGTERM", onSignal("SIGTERM"))
  const traces: TraceSummary[] | undefined = options.trace ? [] : undefined
  const timelines: TimelineData[] = []
  // The outcome is printed as soon as it is known, before ranks are stopped (which has a deadline).
  let code: number | undefined
  const onOutcome = (outcome: Exit.Exit<unknown, RankflowError>): void => {
    display?.stop()
    dashboard?.finish(Exit.isSuccess(outcome), outcomeLine(outcome, signal))
    if (traces !== undefined && traces.length > 0 && prepared?.ownsTrace !== true) process.stderr.write(traceReport(traces))
    if (options.traceFile !== undefined) {
      const events = writeTimeline(options.traceFile, timelines, threads, `rankflow ${header(entry, undefined)[0]!.replace(/^usage: /, "").replace(/ \[options.*$/, "")}`)
      process.stderr.write(`rankflow: trace: ${events} events of ${timelines.length} ranks written to ${options.traceFile} (open it in ui.perfetto.dev)\n`)
    }
    const reported = report(outcome, signal)
    code = reported === ExitCode.interrupted && signal === "SIGTERM" ? ExitCode.terminated : reported
    // On MPI the job's end is reported once, by the process of rank 0 (whose rank wrote the record).
    if (mpi === undefined || mpi.rank === 0) prepared?.end?.({ ok: code === ExitCode.ok, exitCode: code, traces: traces?.sort((a, b) => a.rank - b.rank) })
    // On MPI a job that did not succeed ends on every process at once (a timeout, a signal, comm.abort).
    // (Not on SIGTERM: that is mpirun tearing the job down already.)
    if (mpi !== undefined && code !== ExitCode.ok && signal !== "SIGTERM") mpiAddon().abort(code)
  }
  const exit = await Effect.runPromiseExit(
    runPool({
      ranks: mpi === undefined ? threads : mpi.perProcess,
      ...(mpi === undefined ? {} : { mpi: { rank: mpi.rank, size: mpi.size } }),
      entry,
      args: { args: prepared?.args, positionals: options.positionals } satisfies Launch,
      // On MPI each process watches its own rank threads for a wait-for cycle among them; waits across processes are not seen (docs/mpi.md).
      deadlockSeconds: options.deadlockAfter,
      ...(options.timeout === undefined ? {} : { timeoutSeconds: options.timeout }),
      ...(options.commTimeout === undefined ? {} : { commTimeoutSeconds: options.commTimeout }),
      ...(options.maxRankHeap === undefined ? {} : { maxRankHeapMiB: options.maxRankHeap }),
      ...(display === undefined && dashboard === undefined ? {} : { onProgress: bothProgress(display?.update, dashboard?.progress) }),
      ...(dashboard === undefined ? {} : { watch: dashboard }),
      ...(traces === undefined
        ? {}
        : {
            onTrace: ({ timeline, ...trace }: TraceSummary) => {
              traces.push(trace)
              if (timeline !== undefined) timelines.push(timeline)
            },
            traceTimeline: options.traceFile === undefined ? false : options.traceMessages === "all" ? ("all" as const) : true,
          }),
      onOutcome,
    }),
    { signal: controller.signal },
  )
  if (code === undefined) onOutcome(exit)
  if (dashboard !== undefined) {
    if (options.dashboardKeep && signal === "") {
      process.stderr.write(`rankflow: dashboard kept at ${dashboard.url} (Ctrl-C to exit)\n`)
      await new Promise<void>((resolve) => controller.signal.addEventListener("abort", () => resolve()))
    }
    await dashboard.close()
  }
  // Exits even when a rank's thread is stuck in native code (process.exit would wait for it);
  // without the addon, only after a grace period that keeps the exit code.
  await threadsSettled()
  exitProcess(code ?? ExitCode.failed)
}

/** Serves the dashboard (exit 2 when it cannot be) and prints its URL. */
async function openDashboard(port: number, ranks: number, usageLine: string): Promise<Dashboard> {
  try {
    const dashboard = await startDashboard({ ranks, port, title: usageLine.replace(/^usage: /, "").replace(/ \[options.*$/, "") })
    process.stderr.write(`rankflow: dashboard at ${dashboard.url}${dashboard.port === port || port === 0 ? "" : ` (port ${port} is in use)`}\n`)
    return dashboard
  } catch (error) {
    if (!isRankflowError(error)) throw error
    process.stderr.write(`rankflow: ${error.message}\n`)
    process.exit(ExitCode.usage)
  }
}

/** One progress report to both the terminal and the dashboard. */
function bothProgress(a: ((label: string, done: number, total: number) => void) | undefined, b: ((label: string, done: number, total: number) => void) | undefined) {
  return (label: string, done: number, total: number): void => {
    a?.(label, done, total)
    b?.(label, done, total)
  }
}

/** The outcome in one line, for the dashboard. */
function outcomeLine(exit: Exit.Exit<unknown, RankflowError>, signal: string): string {
  if (Exit.isSuccess(exit)) return "the job succeeded"
  if (Cause.hasInterruptsOnly(exit.cause)) return `interrupted by ${signal || "interrupt"}`
  const error = Cause.squash(exit.cause)
  return error instanceof Error ? error.message.split("\n")[0]! : String(error)
}

/**
 * The MPI job this process belongs to, checked before any rank starts: the
 * addon loads (else `MpiUnavailable`, naming what is missing), and the rank
 * count fits one rank per process — for a pipeline, at least one partition
 * per process.
 */
function mpiJob(ranks: number, pipeline: boolean, perProcess: number): { readonly rank: number; readonly size: number; readonly perProcess: number } {
  mpiAddon()
  const world = mpirunWorld()
  const total = world.size * perProcess
  if (!underMpirun() && ranks !== perProcess)
    throw new InvalidOptions("--transport", `mpi runs ${perProcess === 1 ? "one rank" : `${perProcess} ranks`} per MPI process: start the program with mpirun -np ${Math.ceil(ranks / perProcess)} (see docs/mpi.md)`)
  const each = perProcess === 1 ? "each process is one rank" : `each process runs ${perProcess} ranks`
  if (pipeline ? ranks < total : ranks !== total)
    throw new InvalidOptions("--ranks", `${ranks} does not match the ${total} ranks of ${world.size} MPI processes: on MPI ${each}${pipeline ? " (a pipeline may have more partitions than ranks)" : " (leave --ranks out)"}`)
  return { ...world, perProcess }
}

/** The first line of a rank's failure names the rank and the cause; the stack's frames follow. */
function failureText(f: RankFailure): string {
  const cause = `${f.name}: ${f.message}`
  const frames = f.stack.startsWith(`${f.name}: ${f.message}`) ? f.stack.slice(cause.length).replace(/^\n/, "") : f.stack
  return `rankflow: rank ${f.rank} failed: ${cause}\n${frames === "" ? "" : `${frames}\n`}`
}

/** Prints the outcome of a run on stderr (first line: the rank and the cause) and returns the exit code. */
function report(exit: Exit.Exit<unknown, RankflowError>, signal: string): number {
  if (Exit.isSuccess(exit)) return ExitCode.ok
  if (Cause.hasInterruptsOnly(exit.cause)) {
    process.stderr.write(`rankflow: interrupted by ${signal || "interrupt"}; all ranks stopped\n`)
    return ExitCode.interrupted
  }
  const error = Cause.squash(exit.cause)
  if (isRankflowError(error) && error._tag === "RankFailed") {
    for (const f of (error as RankFailed).failures) process.stderr.write(failureText(f))
    return ExitCode.failed
  }
  if (isRankflowError(error)) {
    process.stderr.write(`rankflow: ${error.message}\n`)
    if (error._tag === "JobAborted") return (error as JobAborted).exitCode
    return error._tag === "JobTimeout" ? ExitCode.timeout : ExitCode.failed
  }
  process.stderr.write(`rankflow: internal error: ${Cause.pretty(exit.cause)}\n`)
  return ExitCode.failed
}
