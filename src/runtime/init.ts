/**
 * `init()`: MPI_Init for rankflow. On a rank it returns the world
 * communicator at once. On the main thread it becomes the supervisor: parses
 * the command line, re-launches the entry module on `--ranks` worker threads,
 * waits for them and exits the process with the job's exit code — so the
 * module's top level, after `await init()`, runs on every rank, as under
 * `mpirun`.
 *
 * Layer: runtime. The supervisor half is imported lazily so that ranks never
 * load it (or Effect).
 */
import { readFileSync } from "node:fs"
import { isMainThread } from "node:worker_threads"
import { supervisorSide } from "./loadSupervisor.ts"
import { fileURLToPath, pathToFileURL } from "node:url"
import { dirname, join, resolve } from "node:path"
import type { Comm } from "../comm/comm.ts"
import { InvalidOptions } from "../errors.ts"
import { checkParamNames, splitAtTerminator } from "../cli/names.ts"
import { defaults, type Params } from "../cli/paramSpec.ts"
import type { Launch, MainHooks } from "./main.ts"
import { rankArgs, rankState, worldComm } from "./rankContext.ts"

/**
 * Starts the program on every rank and returns this rank's world
 * communicator. Run the program as `tsx program.ts --ranks 4`.
 *
 * **Details**: on the main thread `init()` never returns — it runs the job and
 * exits with 0 on success, 1 when a rank failed (its error and stack are
 * printed), 2 for bad options, 124 on `--timeout`, 130 on Ctrl-C (SIGINT),
 * 143 on SIGTERM, and the code a rank gave `comm.abort(code, reason)`.
 * Started with more ranks than cores, it warns once on stderr: ranks then
 * take turns on a core.
 *
 * @example
 * ```ts
 * import { init } from "rankflow"
 * const comm = await init()
 * console.log(`Hello from rank ${comm.rank} of ${comm.size}`)
 * ```
 */
export async function init(): Promise<Comm> {
  const state = rankState()
  if (state !== undefined) return worldComm(state)
  return supervise()
}

/**
 * `init()` for a program with its own command-line parameters, declared with
 * `Param` and given as `--name value` (decoded and validated on the
 * supervisor, with Effect Schema, before any rank starts; listed by
 * `--help`). Every rank gets the same values.
 *
 * @example
 * ```ts
 * import { initWithParams, Param } from "rankflow"
 * const { comm, params } = await initWithParams({ n: Param.int(1000, "values", { min: 1 }) })
 * if (comm.rank === 0) console.log(`n = ${params.n} on ${comm.size} ranks`)
 * ```
 */
export async function initWithParams<P>(declared: Params<P>): Promise<{ readonly comm: Comm; readonly params: P }> {
  const state = rankState()
  if (state !== undefined) return { comm: worldComm(state), params: (launchArgs() as P | undefined) ?? defaults(declared) }
  const { decodeParams, paramOptions, paramUsage } = await supervisorSide()
  return supervise({
    options: paramOptions(declared),
    usage: paramUsage(declared),
    prepare: (extra) => {
      checkParamNames(Object.keys(declared), false) // a parameter named like a runtime option: exit 2 naming both
      return { args: decodeParams(declared, extra) }
    },
  })
}

/** What the program's supervisor handed this rank (`Launch.args`), or undefined off a launched rank. */
export function launchArgs(): unknown {
  return (rankArgs() as Launch | undefined)?.args
}

/**
 * The program's positional arguments: what followed `--` on its command line
 * (`tsx prog.ts --ranks 4 -- in.csv out.csv` gives `["in.csv", "out.csv"]`),
 * the same on every rank and on the supervisor (where a `Pipeline.program`'s
 * `build` runs). Empty when there was no `--`.
 *
 * @example
 * ```ts
 * import { init, positionals } from "rankflow"
 * const comm = await init()
 * if (comm.rank === 0) console.log(`files: ${positionals().join(", ") || "none"}`) // files: none
 * ```
 */
export function positionals(): ReadonlyArray<string> {
  if (rankState() !== undefined) return (rankArgs() as Launch | undefined)?.positionals ?? []
  return splitAtTerminator(process.argv.slice(2)).positionals
}

/**
 * rankflow's version, read from its package.json: the nearest one named
 * "rankflow" above this module, so it is found from src/ and dist/ alike.
 */
export function rankflowVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string }
      if (pkg.name === "rankflow" && typeof pkg.version === "string") return pkg.version
    } catch {
      // no package.json here: look higher
    }
    if (dirname(dir) === dir) return "(unknown version)"
  }
}

/**
 * The supervisor's side of a program (`init`, `initWithParams`,
 * `Pipeline.main`): re-launches the entry script on the ranks with the
 * program's own flags (`hooks`), runs the job and exits — never returns.
 */
export async function supervise(hooks?: MainHooks): Promise<never> {
  if (!isMainThread) throw new InvalidOptions("", "init() must be called on the main thread or on a rank started by rankflow")
  const script = process.argv[1]
  if (script === undefined) throw new InvalidOptions("", "init() needs an entry script (run it as `tsx program.ts`)")
  const { superviseMain } = await supervisorSide()
  return superviseMain(pathToFileURL(resolve(script)).href, process.argv.slice(2), { warnOversubscribed: true, version: rankflowVersion, ...hooks })
}

/**
 * True on a rank thread started by rankflow, false on the supervisor: guards
 * what only the main thread should do, e.g. a `runRanks` call in a module the
 * ranks import too.
 *
 * @example
 * ```ts
 * import { isRank } from "rankflow"
 * console.log(isRank()) // false: this program never calls init(), so it stays on the main thread
 * ```
 */
export function isRank(): boolean {
  return rankState() !== undefined
}
