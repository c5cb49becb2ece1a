/**
 * The names a command line reserves: the runtime's options (every program)
 * and a pipeline's (`Pipeline.main`), how a parameter's name becomes its
 * flag (`maxIter` → `--max-iter`, the camelCase spelling kept as an alias),
 * and the `--` that ends the options. Light on purpose: ranks load it with
 * the parameter declarations, which are checked where they are declared.
 *
 * Layer: cli (no Effect here).
 */
import { ParamNameConflict } from "../errors.ts"

/** Options every rankflow program takes (`init`, `initWithParams`, `Pipeline.main`). */
export const RUNTIME_OPTIONS: ReadonlyArray<string> = ["ranks", "np", "timeout", "deadlock-after", "comm-timeout", "progress", "trace", "help", "version"]

/** Options `Pipeline.main` adds. */
export const PIPELINE_OPTIONS: ReadonlyArray<string> = ["explain", "json", "dry-run", "debug", "threads", "require-converged", "check-finite", "checkpoint-every", "checkpoint-dir", "checkpoint-keep", "restart"]

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

/** Splits a command line at its first `--`: the options before it, the program's positional arguments after. */
export function splitAtTerminator(argv: ReadonlyArray<string>): { readonly options: ReadonlyArray<string>; readonly positionals: ReadonlyArray<string> } {
  const at = argv.indexOf("--")
  return at < 0 ? { options: argv, positionals: [] } : { options: argv.slice(0, at), positionals: argv.slice(at + 1) }
}
