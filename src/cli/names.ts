/**
 * The names a command line reserves: the runtime's options (every program)
 * and a pipeline's (`Pipeline.main`), how a parameter's name becomes its
 * flag (`maxIter` → `--max-iter`, the camelCase spelling kept as an alias),
 * and the `--` that ends the options. Light on purpose: ranks load it with
 * the parameter declarations, which are checked where they are declared.
 *
 * Layer: cli (no Effect here).
 */
import { writeSync } from "node:fs"
import { isMainThread } from "node:worker_threads"
import { ParamNameConflict } from "../errors.ts"

/** Options every rankflow program takes (`init`, `initWithParams`, `Pipeline.main`). */
export const RUNTIME_OPTIONS: ReadonlyArray<string> = ["ranks", "np", "timeout", "deadlock-after", "comm-timeout", "progress", "trace", "help", "version"]

/** Options `Pipeline.main` adds. */
export const PIPELINE_OPTIONS: ReadonlyArray<string> = ["explain", "json", "dry-run", "debug", "threads", "require-converged", "check-finite", "checkpoint-every", "checkpoint-dir", "checkpoint-keep", "restart", "plot", "plot-field", "plot-every"]

/** `maxIter` → `max-iter`; names already in kebab-case are unchanged. */
export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()
}

/** The spellings of a parameter's flag: its kebab-case name first, then the declared name when it differs. */
export function spellings(name: string): ReadonlyArray<string> {
  const k = kebab(name)
  return k === name ? [name] : [k, name]
}

/**
 * Refuses a parameter whose flag (in either spelling) is also an option of
 * the runtime or of pipelines: the command line would apply it twice.
 * Throws `ParamNameConflict` naming both.
 */
export function checkParamNames(names: Iterable<string>, withPipeline: boolean): void {
  for (const name of names) {
    for (const flag of spellings(name)) {
      if (RUNTIME_OPTIONS.includes(flag)) throw new ParamNameConflict(name, flag, "runtime")
      if (withPipeline && PIPELINE_OPTIONS.includes(flag)) throw new ParamNameConflict(name, flag, "pipeline")
    }
  }
}

/**
 * `checkParamNames` for a declaration that runs at a program module's top
 * level (`Pipeline.program({...})`), before any supervisor exists. The
 * conflict is thrown as ever (a caller may catch it); if nothing catches it,
 * the process ends like any other command-line mistake — one line on
 * stderr, exit 2, no stack — instead of Node's uncaught-error print and
 * exit 1. Only on the main thread: on a rank the error fails the rank.
 */
export function checkDeclaredParamNames(names: Iterable<string>, withPipeline: boolean): void {
  try {
    checkParamNames(names, withPipeline)
  } catch (error) {
    if (isMainThread && error instanceof ParamNameConflict) exitTwoIfUncaught(error)
    throw error
  }
}

/** Conflicts thrown at a declaration; the monitor below ends the process for these only. */
const declaredConflicts = new WeakSet<Error>()
let monitoring = false

/**
 * `uncaughtExceptionMonitor` observes an uncaught error (also a rejected
 * top-level await of the entry module) without handling it, so every other
 * error keeps Node's own behaviour.
 */
function exitTwoIfUncaught(error: ParamNameConflict): void {
  declaredConflicts.add(error)
  if (monitoring) return
  monitoring = true
  process.on("uncaughtExceptionMonitor", (uncaught) => {
    if (!(uncaught instanceof Error) || !declaredConflicts.has(uncaught)) return
    writeSync(2, `rankflow: ${uncaught.message}\n`)
    process.exit(2)
  })
}

/** Splits a command line at its first `--`: the options before it, the program's positional arguments after. */
export function splitAtTerminator(argv: ReadonlyArray<string>): { readonly options: ReadonlyArray<string>; readonly positionals: ReadonlyArray<string> } {
  const at = argv.indexOf("--")
  return at < 0 ? { options: argv, positionals: [] } : { options: argv.slice(0, at), positionals: argv.slice(at + 1) }
}
