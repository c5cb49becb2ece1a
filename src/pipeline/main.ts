/**
 * `Pipeline.main(p)`: the one-line entry of a pipeline program. On the
 * supervisor it parses `--ranks`, `--explain`, `--json`, `--dry-run`,
 * `--debug` and the program's own parameters (decoded with Effect Schema),
 * plans the pipeline — so a grid too small or an unstable scheme is reported
 * before any worker starts — prints the plan when asked, and starts the
 * ranks. On a rank it runs the pipeline and rank 0 prints a summary: the
 * value, its error against a known answer when there is one, the wall time
 * and the rank count.
 *
 * Layer: pipeline. The supervisor half (Effect, the CLI decoders) is imported
 * lazily so that ranks never load it.
 */
import { availableParallelism } from "node:os"
import { blockRange } from "../comm/partition.ts"
import { InvalidOptions } from "../errors.ts"
import { isRank, init, supervise } from "../runtime/init.ts"
import { supervisorSide } from "../runtime/loadSupervisor.ts"
import { rankArgs } from "../runtime/rankContext.ts"
import { defaults, type Params } from "../cli/paramSpec.ts"
import { explain, explainJson } from "../plan/explain.ts"
import type { Outcome } from "./execute.ts"
import { plan, runWithStats, type Pipeline } from "./pipeline.ts"

/** A pipeline with declared parameters, a name and a summary. */
export interface Program<P, R> {
  readonly _tag: "Program"
  /** The program's name, in `--help` and the summary. */
  readonly name: string
  /** Its command-line parameters, declared with `Param`. */
  readonly params: Params<P>
  /** Builds the pipeline from the decoded parameters (on every rank). */
  readonly build: (params: P) => Pipeline<R>
  /** A known answer: the summary prints the error against it. */
  readonly expected?: (params: P) => number
  /** Extra summary lines (e.g. the error against an analytic solution), printed by rank 0. */
  readonly report?: (result: R, params: P, stats: Outcome) => Readonly<Record<string, string | number>>
}

/** What `program` takes. */
export type ProgramSpec<P, R> = Omit<Program<P, R>, "_tag">

/**
 * A pipeline program with parameters given on the command line as `--name value`.
 *
 * @example
 * ```ts
 * import { Param, Pipeline, Range } from "rankflow"
 * const squares = Pipeline.program({
 *   name: "sum of squares",
 *   params: { n: Param.int(1000, "terms", { min: 1 }) },
 *   build: ({ n }) => Pipeline.distribute(Range.of(n)).mapLocal((c) => { let s = 0; for (let i = c.start; i < c.end; i++) s += i * i; return s }).allreduce(),
 *   expected: ({ n }) => ((n - 1) * n * (2 * n - 1)) / 6,
 * })
 * console.log(squares.name) // sum of squares
 * ```
 */
export function program<P, R>(spec: ProgramSpec<P, R>): Program<P, R> {
  return { _tag: "Program", ...spec }
}

interface RankArgs {
  readonly params: unknown
  readonly debug: boolean
  /** Logical ranks: `--ranks`. The job's threads may be fewer. */
  readonly partitions: number
}

const FLAGS = {
  explain: { type: "boolean" },
  json: { type: "boolean" },
  "dry-run": { type: "boolean" },
  debug: { type: "boolean" },
  threads: { type: "string" },
} as const

const FLAG_USAGE = [
  "",
  "pipeline options:",
  "      --explain       print the plan (layout, ghosts, messages, transport) before running",
  "      --json          with --explain: the plan as JSON",
  "      --dry-run       with --explain: print the plan and stop",
  "      --debug         check every stencil's reads against its declared radius first",
  "      --threads <n>   worker threads running the --ranks partitions (default: the fewer of",
  "                      --ranks and the number of cores); results do not depend on it",
]

/**
 * Runs a pipeline program from the command line: `tsx program.ts --ranks 4`.
 * Call it at the top level of the program's module.
 */
export async function main<P, R>(what: Pipeline<R> | Program<P, R>): Promise<void> {
  const prog: Program<P, R> = what._tag === "Program" ? what : program({ name: "pipeline", params: {} as Params<P>, build: () => what })
  if (isRank()) return runOnRank(prog)
  const { decodeParams, paramOptions, paramUsage, decodePositiveInt } = await supervisorSide()
  await supervise({
    options: { ...paramOptions(prog.params), ...FLAGS },
    usage: [...FLAG_USAGE, ...paramUsage(prog.params)],
    prepare: (extra, ranks) => {
      const params = decodeParams(prog.params, extra)
      const threads = extra.threads === undefined ? Math.min(ranks, availableParallelism()) : decodePositiveInt("threads", String(extra.threads))
      if (threads > ranks) throw new InvalidOptions("--threads", `expected an integer in [1, ${ranks}] (at most one thread per rank), got '${threads}'`)
      const planned = plan(prog.build(params), ranks)
      if (extra.explain === true) process.stdout.write(`${extra.json === true ? explainJson(planned) : `${explain(planned)}\n${placement(ranks, threads)}`}\n`)
      if (extra["dry-run"] === true) return { exit: 0 }
      return { args: { params, debug: extra.debug === true, partitions: ranks } satisfies RankArgs, threads }
    },
  })
}

function placement(partitions: number, threads: number): string {
  if (threads === partitions) return `placement: one thread per rank (${threads})`
  const blocks = Array.from({ length: threads }, (_, t) => {
    const [a, b] = blockRange(partitions, threads, t)
    return b - a === 1 ? `${a}` : `${a}–${b - 1}`
  })
  return `placement: ${partitions} ranks (partitions) on ${threads} threads: ${blocks.join(", ")} — the same results as ${partitions} threads`
}

async function runOnRank<P, R>(prog: Program<P, R>): Promise<void> {
  const comm = await init()
  const args = rankArgs() as RankArgs | undefined
  const params = (args?.params ?? defaults(prog.params)) as P
  const partitions = args?.partitions ?? comm.size
  const stats = runWithStats(prog.build(params), comm, { debug: args?.debug === true, partitions })
  if (comm.rank !== 0) return
  const threads = partitions === comm.size ? "" : ` on ${comm.size} thread${comm.size === 1 ? "" : "s"}`
  const lines = [`${prog.name}: ${partitions} rank${partitions === 1 ? "" : "s"}${threads}, ${stats.seconds.toFixed(3)} s${stepsNote(stats)}`, `result: ${summarize(stats.value)}`]
  if (prog.expected !== undefined && typeof stats.value === "number") {
    const truth = prog.expected(params)
    lines.push(`expected: ${truth}  |error| = ${Math.abs(stats.value - truth).toExponential(3)}`)
  }
  if (stats.measure !== undefined) lines.push(`last measure: ${stats.measure.toExponential(6)}`)
  for (const [k, v] of Object.entries(prog.report?.(stats.value as R, params, stats) ?? {})) lines.push(`${k}: ${typeof v === "number" ? v.toPrecision(6) : v}`)
  console.log(lines.join("\n"))
}

function stepsNote(stats: Outcome): string {
  return stats.steps > 0 ? `, ${stats.steps} steps (${((stats.seconds / stats.steps) * 1e6).toFixed(2)} µs/step)` : ""
}

/** A value in one line: numbers in full, arrays by size, extremes and a fingerprint of their bytes. */
export function summarize(value: unknown): string {
  if (typeof value === "number") return String(value)
  if (value instanceof Float64Array) {
    let lo = Infinity
    let hi = -Infinity
    for (const v of value) {
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    return `Float64Array(${value.length}) min ${lo.toPrecision(6)} max ${hi.toPrecision(6)} fingerprint ${fingerprint(value)}`
  }
  if (Array.isArray(value)) return `${value.length} values`
  return String(value)
}

/**
 * A 64-bit FNV-1a hash of an array's bytes, as 16 hex digits: equal
 * fingerprints mean bit-identical arrays (with overwhelming probability).
 */
export function fingerprint(data: ArrayBufferView): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  let h1 = 0x811c9dc5
  let h2 = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193)
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995) ^ (h2 >>> 15)
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0")
}
