/**
 * The command line of every rankflow program: the runtime's options
 * (`--ranks`, `--timeout`, `--help`, `--version`, …), a program's own flags,
 * and the positional arguments after `--`. Tokenized by `node:util`'s
 * `parseArgs`, then read here so that what its strict mode cannot do is
 * done: `--no-X` and `--X=false` for booleans, kebab-case flags with their
 * camelCase alias, `-np N` as mpirun spells it, and an unknown flag answered
 * with the nearest known one. Values are decoded with Effect Schema; a bad
 * value or an unknown flag is refused — one line naming the option — before
 * any worker starts.
 *
 * Layer: cli (supervisor side only).
 */
import { availableParallelism } from "node:os"
import { parseArgs } from "node:util"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { InvalidOptions, ParamNameConflict } from "../errors.ts"
import { splitAtTerminator } from "./names.ts"

export interface RuntimeOptions {
  /** Number of ranks (default: the number of cores; under mpirun, the number of MPI processes). */
  readonly ranks: number
  /**
   * How ranks talk: "threads" (worker threads over shared memory) or "mpi"
   * (one rank per Open MPI process). Default: "mpi" when started by mpirun
   * (its environment says so), else "threads".
   */
  readonly transport: "threads" | "mpi"
  /** With the MPI transport: rank threads per MPI process (hybrid; default 1). */
  readonly ranksPerProcess: number
  /** Time limit of the whole run in seconds. */
  readonly timeout: number | undefined
  /** Quiet period after which all-blocked ranks are reported as deadlocked (0: never). */
  readonly deadlockAfter: number
  /** Time limit of any single blocking communication call, in seconds. */
  readonly commTimeout: number | undefined
  /** Heap limit of each rank in MiB (default: RANKFLOW_MAX_RANK_HEAP, else a fair share of memory). */
  readonly maxRankHeap: number | undefined
  /** More ranks than cores is intended: no warning (mpirun's `--oversubscribe`; also RANKFLOW_OVERSUBSCRIBE=1). */
  readonly oversubscribe: boolean
  /** Draw rank 0's progress on stderr. */
  readonly progress: boolean
  /** Count every rank's traffic and waits, and report them on stderr at the end. */
  readonly trace: boolean
  /** `--trace=FILE.json`: also write a timeline of every rank (Chrome trace-event / Perfetto JSON) there. */
  readonly traceFile: string | undefined
  /** `--trace-messages`: which messages the timeline draws, "sampled" (default: each pair's first 1024, then one in 16) or "all". */
  readonly traceMessages: "sampled" | "all"
  /** `--dashboard[=PORT]`: serve a live page on 127.0.0.1 at this port (or the next free one); undefined: no dashboard. */
  readonly dashboard: number | undefined
  /** `--dashboard-keep`: keep serving the page after the job ended, until Ctrl-C. */
  readonly dashboardKeep: boolean
  readonly help: boolean
  readonly version: boolean
  /** Values of a program's own flags (see `ExtraOptions`), by their declared key. */
  readonly extra: ExtraValues
  /** What followed `--`: the program's own positional arguments. */
  readonly positionals: ReadonlyArray<string>
}

/** One flag a program adds to the runtime's. */
export interface OptionSpec {
  readonly type: "string" | "boolean"
  readonly short?: string
  /** Every value given is kept (`--x 1 --x 2`), not only the last. */
  readonly multiple?: boolean
  /** How the flag is spelled on the command line, first the one usage shows (default: its key). */
  readonly spellings?: ReadonlyArray<string>
}

/** A program's own flags, by the key their values are returned under. */
export type ExtraOptions = Readonly<Record<string, OptionSpec>>
/** Values of a program's own flags: a string, a boolean, every string of a `multiple` flag, or undefined when absent. */
export type ExtraValues = Readonly<Record<string, string | boolean | ReadonlyArray<string> | undefined>>

/** The runtime's own flags, by key. */
const RUNTIME: ExtraOptions = {
  ranks: { type: "string", short: "n" },
  transport: { type: "string" },
  ranksPerProcess: { type: "string", spellings: ["ranks-per-process", "ranksPerProcess"] },
  timeout: { type: "string" },
  deadlockAfter: { type: "string", spellings: ["deadlock-after", "deadlockAfter"] },
  commTimeout: { type: "string", spellings: ["comm-timeout", "commTimeout"] },
  maxRankHeap: { type: "string", spellings: ["max-rank-heap", "maxRankHeap"] },
  oversubscribe: { type: "boolean" },
  progress: { type: "boolean" },
  trace: { type: "boolean" },
  traceMessages: { type: "string", spellings: ["trace-messages", "traceMessages"] },
  dashboard: { type: "boolean" },
  dashboardKeep: { type: "boolean", spellings: ["dashboard-keep", "dashboardKeep"] },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
}

/** A string of plain decimal digits (no "0x10", "1e3" or " 7 ", which Number() would accept). */
const digits = (pattern: RegExp) =>
  Schema.String.check(Schema.makeFilter((s: string) => (pattern.test(s) ? undefined : "malformed")))
const PositiveInt = digits(/^[1-9][0-9]*$/).pipe(Schema.decodeTo(Schema.Int.check(Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER)), SchemaTransformation.numberFromString))
const decimal = digits(/^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/)
const PositiveNumber = decimal.pipe(Schema.decodeTo(Schema.Finite.check(Schema.isGreaterThan(0)), SchemaTransformation.numberFromString))
const RankHeap = decimal.pipe(Schema.decodeTo(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(16)), SchemaTransformation.numberFromString))
const NonNegativeNumber = decimal.pipe(Schema.decodeTo(Schema.Finite, SchemaTransformation.numberFromString))

/** Decodes one option value, naming the option and the value in the error. */
function decode<A>(schema: Schema.Codec<A, string>, option: string, value: string, expected: string): A {
  try {
    return Schema.decodeUnknownSync(schema)(value)
  } catch {
    throw new InvalidOptions(`--${option}`, `expected ${expected}, got '${value}'`)
  }
}

/** A count given as `--option <digits>` (as `--ranks`); throws `InvalidOptions` naming the option and the value. */
export function decodePositiveInt(option: string, value: string): number {
  return decode(PositiveInt, option, value, "a positive integer")
}

/** The edit distance of two short strings (flag names). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

/** The known flag nearest to an unknown one, when one is near enough to be a typo. */
export function nearestOption(unknown: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = k.startsWith(unknown) || unknown.startsWith(k) ? Math.min(1, Math.abs(k.length - unknown.length)) : distance(unknown, k)
    if (d < bestDistance) [best, bestDistance] = [k, d]
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(unknown.length / 3))) ? best : undefined
}

interface Known {
  readonly key: string
  readonly spec: OptionSpec
}

/**
 * Reads a command line against the runtime's flags and `extra`; returns the
 * values by key, and what followed `--`. Throws `InvalidOptions`.
 */
function readArgs(argv: ReadonlyArray<string>, extra: ExtraOptions): { values: Record<string, string | boolean | string[]>; positionals: ReadonlyArray<string> } {
  const { options, positionals } = splitAtTerminator(argv)
  const table = new Map<string, Known>()
  for (const [key, spec] of [...Object.entries(RUNTIME), ...Object.entries(extra)]) {
    for (const spelling of spec.spellings ?? [key]) {
      const taken = table.get(spelling)
      if (taken !== undefined) throw new ParamNameConflict(key, spelling, key in RUNTIME || taken.key in RUNTIME ? "runtime" : "pipeline")
      table.set(spelling, { key, spec })
    }
  }
  const parseOptions: Record<string, { type: "string" | "boolean"; short?: string }> = {}
  for (const [spelling, { key, spec }] of table) {
    const primary = (spec.spellings ?? [key])[0] === spelling
    parseOptions[spelling] = primary && spec.short !== undefined ? { type: spec.type, short: spec.short } : { type: spec.type }
  }
  // mpirun's `-np N`: parseArgs takes no two-letter short option.
  const args = options.map((a) => (a === "-np" ? "--ranks" : a))
  const { tokens } = parseArgs({ args, options: parseOptions, strict: false, allowPositionals: true, tokens: true })
  const values: Record<string, string | boolean | string[]> = {}
  for (const token of tokens) {
    if (token.kind === "positional")
      throw new InvalidOptions("", `unexpected argument '${token.value}': a program's own arguments go after '--' (e.g. -- ${token.value})`)
    if (token.kind !== "option") continue
    const known = table.get(token.name)
    if (known !== undefined && known.spec.type === "string") {
      if (token.value === undefined) throw new InvalidOptions(token.rawName, "expected a value")
      const previous = values[known.key]
      values[known.key] = known.spec.multiple === true ? [...(Array.isArray(previous) ? previous : []), token.value] : token.value
    } else if (known !== undefined) {
      if (token.value === undefined) values[known.key] = true
      else if (token.value === "true" || token.value === "false") values[known.key] = token.value === "true"
      else if (known.key === "trace" && token.value.endsWith(".json") && token.value.length > 5) values[known.key] = token.value // --trace=FILE.json
      else if (known.key === "dashboard") values[known.key] = token.value // --dashboard=PORT, decoded below
      else throw new InvalidOptions(token.rawName, `expected true or false${known.key === "trace" ? " or a FILE.json to write the timeline to" : ""}, got '${token.value}'`)
    } else {
      const negated = token.name.startsWith("no-") ? table.get(token.name.slice(3)) : undefined
      if (negated !== undefined && negated.spec.type === "boolean" && token.value === undefined && token.rawName.startsWith("--")) {
        values[negated.key] = false
        continue
      }
      const near = token.rawName.startsWith("--") ? nearestOption(token.name, [...table.keys()].filter((k) => k.length > 1)) : undefined
      throw new InvalidOptions("", `unknown option '${token.rawName}'${near === undefined ? "" : ` (did you mean --${near}?)`}; see --help for the options`)
    }
  }
  return { values, positionals }
}

/** Started by Open MPI's mpirun: its environment names this process's rank and the job's size. */
const underMpirun = (): boolean => process.env.OMPI_COMM_WORLD_SIZE !== undefined && process.env.OMPI_COMM_WORLD_RANK !== undefined

/** `--transport`: threads or mpi; by default mpi under mpirun. */
function transportOf(given: string | undefined): "threads" | "mpi" {
  if (given === undefined) return underMpirun() ? "mpi" : "threads"
  if (given === "threads" || given === "mpi") return given
  throw new InvalidOptions("--transport", `expected threads or mpi, got '${given}'`)
}

/** The default rank count: the cores on threads, the MPI processes (mpirun -np) on MPI. */
function defaultRanks(transport: "threads" | "mpi"): number {
  if (transport === "threads") return availableParallelism()
  const size = Number(process.env.OMPI_COMM_WORLD_SIZE ?? 1)
  return Number.isInteger(size) && size >= 1 ? size : 1
}

/** Parses and validates the runtime options; throws `InvalidOptions`. */
export function parseRuntimeOptions(argv: ReadonlyArray<string>, extra: ExtraOptions = {}): RuntimeOptions {
  const { values, positionals } = readArgs(argv, extra)
  const text = (key: string): string | undefined => values[key] as string | undefined
  const transport = transportOf(text("transport"))
  const ranksPerProcess = text("ranksPerProcess") === undefined ? 1 : decodePositiveInt("ranks-per-process", text("ranksPerProcess")!)
  if (ranksPerProcess > 1 && transport !== "mpi")
    throw new InvalidOptions("--ranks-per-process", "needs the MPI transport: run the program under mpirun (or with --transport mpi)")
  return {
    ranks: text("ranks") === undefined ? defaultRanks(transport) * ranksPerProcess : decodePositiveInt("ranks", text("ranks")!),
    transport,
    ranksPerProcess,
    timeout: text("timeout") === undefined ? undefined : decode(PositiveNumber, "timeout", text("timeout")!, "a positive number of seconds"),
    deadlockAfter: text("deadlockAfter") === undefined ? 1 : decode(NonNegativeNumber, "deadlock-after", text("deadlockAfter")!, "a number of seconds ≥ 0"),
    commTimeout: text("commTimeout") === undefined ? undefined : decode(PositiveNumber, "comm-timeout", text("commTimeout")!, "a positive number of seconds"),
    maxRankHeap: text("maxRankHeap") === undefined ? undefined : decode(RankHeap, "max-rank-heap", text("maxRankHeap")!, "a number of MiB ≥ 16"),
    oversubscribe: values.oversubscribe === true || (values.oversubscribe === undefined && process.env.RANKFLOW_OVERSUBSCRIBE === "1"),
    progress: values.progress === true,
    trace: values.trace === true || typeof values.trace === "string",
    traceFile: typeof values.trace === "string" ? values.trace : undefined,
    traceMessages: traceMessages(text("traceMessages"), values.trace),
    dashboard: dashboardPort(values.dashboard),
    dashboardKeep: dashboardKeep(values),
    help: values.help === true,
    version: values.version === true,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, values[k]])),
    positionals,
  }
}

/** `--trace-messages=sampled|all`: only with `--trace=FILE.json`, whose timeline it shapes. */
function traceMessages(value: string | undefined, trace: string | boolean | string[] | undefined): "sampled" | "all" {
  if (value === undefined) return "sampled"
  if (value !== "sampled" && value !== "all") throw new InvalidOptions("--trace-messages", `expected sampled or all, got '${value}'`)
  if (typeof trace !== "string") throw new InvalidOptions("--trace-messages", "needs --trace=FILE.json (it says which messages the timeline draws)")
  return value
}

/** The default port of `--dashboard`; a port in use is passed over for the next free one. */
export const DASHBOARD_PORT = 8787

/** `--dashboard` (default port), `--dashboard=PORT` (0: any free port), or undefined (absent, `--no-dashboard`). */
function dashboardPort(value: string | boolean | string[] | undefined): number | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return DASHBOARD_PORT
  const port = /^(?:0|[1-9][0-9]{0,4})$/.test(String(value)) ? Number(value) : NaN
  if (!(port <= 65535)) throw new InvalidOptions("--dashboard", `expected true, false or a port number in [0, 65535] (--dashboard=8787), got '${String(value)}'`)
  return port
}

function dashboardKeep(values: Record<string, string | boolean | string[]>): boolean {
  if (values.dashboardKeep !== true) return false
  if (values.dashboard === undefined || values.dashboard === false) throw new InvalidOptions("--dashboard-keep", "needs --dashboard")
  return true
}

/**
 * The usage text printed by `--help`: `header` names the program (its file,
 * name and description), then the runtime's options.
 */
export function usage(header: ReadonlyArray<string> = ["usage: <program> [options] [-- arguments]"]): string {
  return [
    ...header,
    "",
    "options:",
    "  -n, --ranks <n>     number of ranks (worker threads); default: number of cores; -np <n> also works",
    "      --transport <t> threads (default) or mpi: one rank per Open MPI process, started by",
    "                      mpirun -np <n> (the default under mpirun; see docs/mpi.md)",
    "      --ranks-per-process <k>",
    "                      on MPI: k rank threads in each process (shared memory within a process,",
    "                      MPI between processes); ranks = processes × k",
    "      --timeout <s>   fail the run if it takes longer than <s> seconds",
    "      --deadlock-after <s>",
    "                      report a deadlock once every rank has been blocked <s> s (default 1, 0: off;",
    "                      on MPI: once ranks of one process wait on each other in a cycle)",
    "      --comm-timeout <s>",
    "                      fail any single blocking send/recv/collective waiting longer than <s> s",
    "      --max-rank-heap <MiB>",
    "                      heap limit of each rank; a rank over it fails alone (default: memory / ranks, ≥ 128)",
    "      --oversubscribe more ranks than cores on purpose: no warning (RANKFLOW_OVERSUBSCRIBE=1 too)",
    "      --progress      show the progress of rank 0's loops, farms and streams on stderr",
    "      --trace         count each rank's messages (by lane), waits and collectives; report them at the end",
    "      --trace=FILE.json  also write a timeline of every rank (calls, waits, messages) for ui.perfetto.dev",
    "      --trace-messages <m>",
    "                      sampled (default: each pair's first 1024 messages, then one in 16; counts stay exact)",
    "                      or all (every message an arrow; costs more on tiny steps)",
    "      --dashboard[=PORT]  serve a live page of the job on http://127.0.0.1:PORT/ (default 8787, or the",
    "                      next free port): rank states, progress, traffic matrix, heaps, field preview",
    "      --dashboard-keep  keep serving the page after the job ended, until Ctrl-C",
    "  -h, --help          show this help",
    "      --version       print rankflow's version",
    "      -- <args…>      the rest goes to the program as positional arguments (positionals())",
    "",
    "Flags are kebab-case (--max-iter; --maxIter works too); booleans take --x, --no-x, --x=true, --x=false.",
  ].join("\n")
}
