/**
 * The supervisor's command-line main: validate options before any worker
 * starts, run the pool, report the outcome, exit with its code. Ctrl-C and
 * SIGTERM interrupt the run, which terminates every rank before exiting.
 *
 * Layer: runtime (supervisor side).
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { parseRuntimeOptions, usage, type ExtraOptions, type ExtraValues } from "../cli/options.ts"
import type { TraceSummary } from "../comm/trace.ts"
import { isRankflowError, type JobAborted, type RankFailed, type RankFailure, type RankflowError } from "../errors.ts"
import { progressDisplay } from "./progressBar.ts"
import { runPool } from "./supervisor.ts"
import { exitProcess } from "./teardown.ts"
import { traceReport } from "./traceReport.ts"

/** Exit codes of a job, as documented on `init()`. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, timeout: 124, interrupted: 130 } as const

/** Extra command-line flags a program adds to the runtime's, and what to do with them before ranks start. */
export interface MainHooks {
  readonly options?: ExtraOptions
  /** Usage lines describing the extra flags. */
  readonly usage?: ReadonlyArray<string>
  /**
   * Runs on the supervisor once all options are valid, before any worker
   * starts: returns what every rank receives (`rankArgs()`) and optionally how
   * many threads to start instead of `--ranks`, or an exit code to stop with
   * (e.g. after printing a plan). Throwing a RankflowError exits 2
   * with its message.
   */
  readonly prepare?: (extra: ExtraValues, ranks: number) => { readonly args: unknown; readonly threads?: number } | { readonly exit: number }
}

export async function superviseMain(entry: string, argv: ReadonlyArray<string>, hooks: MainHooks = {}): Promise<never> {
  const usageText = () => [usage(), ...(hooks.usage ?? [])].join("\n")
  let options
  let args: unknown
  let threads: number | undefined
  try {
    options = parseRuntimeOptions(argv, hooks.options)
    if (options.help) {
      process.stdout.write(`${usageText()}\n`)
      process.exit(ExitCode.ok)
    }
    const prepared = hooks.prepare?.(options.extra, options.ranks)
    if (prepared !== undefined && "exit" in prepared) process.exit(prepared.exit)
    args = prepared?.args
    threads = prepared?.threads
  } catch (error) {
    // Structural checks: the program's own copy of rankflow made errors its hooks throw.
    if (!isRankflowError(error)) throw error
    process.stderr.write(`rankflow: ${error.message}\n${error._tag === "InvalidOptions" ? `\n${usageText()}\n` : ""}`)
    process.exit(ExitCode.usage)
  }
  const controller = new AbortController()
  let signal = ""
  const onSignal = (name: string) => () => {
    signal = name
    controller.abort()
  }
  process.once("SIGINT", onSignal("SIGINT"))
  process.once("SIGTERM", onSignal("SIGTERM"))
  const display = options.progress ? progressDisplay() : undefined
  const traces: TraceSummary[] | undefined = options.trace ? [] : undefined
  // The outcome is printed as soon as it is known, before ranks are stopped (which has a deadline).
  let code: number | undefined
  const onOutcome = (outcome: Exit.Exit<unknown, RankflowError>): void => {
    display?.stop()
    if (traces !== undefined && traces.length > 0) process.stderr.write(traceReport(traces))
    code = report(outcome, signal)
  }
  const exit = await Effect.runPromiseExit(
    runPool({
      ranks: threads ?? options.ranks,
      entry,
      ...(args === undefined ? {} : { args }),
      deadlockSeconds: options.deadlockAfter,
      ...(options.timeout === undefined ? {} : { timeoutSeconds: options.timeout }),
      ...(options.commTimeout === undefined ? {} : { commTimeoutSeconds: options.commTimeout }),
      ...(display === undefined ? {} : { onProgress: display.update }),
      ...(traces === undefined ? {} : { onTrace: (trace: TraceSummary) => void traces.push(trace) }),
      onOutcome,
    }),
    { signal: controller.signal },
  )
  if (code === undefined) onOutcome(exit)
  // Exits even when a rank's thread is stuck in native code (process.exit would wait for it).
  exitProcess(code ?? ExitCode.failed)
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
