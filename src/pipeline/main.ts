/**
 * `Pipeline.main(p)`: the one-line entry of a pipeline program. On the
 * supervisor it parses `--ranks`, `--explain`, `--json`, `--dry-run`,
 * `--debug`, `--threads`, `--require-converged`, `--check-finite`, `--plot` and the
 * program's own parameters (decoded with Effect Schema),
 * plans the pipeline — so a grid too small or an unstable scheme is reported
 * before any worker starts — prints the plan when asked, and starts the
 * ranks. On a rank it runs the pipeline and rank 0 prints a summary: the
 * value, its error against a known answer when there is one, the wall time
 * and the rank count — and when an `until` loop ended at maxSteps, that it
 * did not converge (exit 3 under `--require-converged`).
 *
 * Layer: pipeline. The supervisor half (Effect, the CLI decoders) is imported
 * lazily so that ranks never load it.
 */
import { availableParallelism, totalmem } from "node:os"
import { blockRange } from "../comm/partition.ts"
import { InvalidOptions } from "../errors.ts"
import { isRank, init, launchArgs, rankflowVersion, supervise } from "../runtime/init.ts"
import { checkPartitions } from "../runtime/limits.ts"
import { supervisorSide } from "../runtime/loadSupervisor.ts"
import { checkDeclaredParamNames, checkParamNames } from "../cli/names.ts"
import { defaults, type Params } from "../cli/paramSpec.ts"
import { explain, explainJson } from "../plan/explain.ts"
import { checkFieldMemory, checkGridSize } from "../plan/memory.ts"
import { latestCheckpoint } from "./checkpoint.ts"
import type { Comm } from "../comm/comm.ts"
import type { Outcome } from "./execute.ts"
import { plan, runWithStats, type Pipeline } from "./pipeline.ts"
import { describe, formatNumber, summarize } from "./summary.ts"
import { checkPlot, type PlotRequest } from "./plotOptions.ts"

/** A pipeline with declared parameters, a name and a summary. */
export interface Program<P, R> {
  readonly _tag: "Program"
  /** The program's name, in `--help` and the summary. */
  readonly name: string
  /** One line saying what the program computes, shown by `--help`. */
  readonly description?: string
  /** Its command-line parameters, declared with `Param`. */
  readonly params: Params<P>
  /**
   * Builds the pipeline from the decoded parameters and the run's shape (on
   * the supervisor to plan it, then on every rank). A grid is laid out by its
   * extent on `context.ranks` ranks — `decompose(context.ranks, grid.shape)`
   * is that layout — unless the pipeline fixes `rankDims`, which it may
   * compute from `context.ranks`.
   */
  readonly build: (params: P, context: BuildContext) => Pipeline<R>
  /** A known answer: the summary prints the error against it. */
  readonly expected?: (params: P) => number
  /**
   * The known answer as a function of the grid's coordinates, at the end of
   * the run: `--plot` of a 1-D field draws it (dashed) over the computed values.
   */
  readonly exact?: (params: P) => (x: number, y?: number, z?: number) => number
  /**
   * The place for derived output: values computed from the result (an error
   * against an analytic solution, a count, a file written), printed by rank 0
   * after the result as `name: value` lines — and in `--json`'s `report`.
   * The result itself is printed readably whatever its type.
   */
  readonly report?: (result: R, params: P, stats: Outcome) => Readonly<Record<string, string | number>>
}

/** What a program's `build` learns besides its parameters: the ranks it is planned and run on. */
export interface BuildContext {
  /** Logical ranks (partitions, `--ranks`) the pipeline is planned for: its blocks or chunks are cut for this many. */
  readonly ranks: number
  /** Worker threads running those ranks (`--threads`, at most `ranks`); the results do not depend on it. */
  readonly threads: number
}

/** What `program` takes. */
export type ProgramSpec<P, R> = Omit<Program<P, R>, "_tag">

/**
 * A pipeline program with parameters given on the command line as `--name value`
 * (camelCase names become kebab-case flags, `--max-iter`, the camelCase
 * spelling kept as an alias). A parameter named like a runtime or pipeline
 * option (`timeout`, `ranks`, `json`, …) is refused here, with
 * `ParamNameConflict` naming both.
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
  checkDeclaredParamNames(Object.keys(spec.params), true) // uncaught (at the module's top level): one line, exit 2
  return { _tag: "Program", ...spec }
}

interface RankArgs {
  readonly params: unknown
  readonly debug: boolean
  /** Logical ranks: `--ranks`. The job's threads may be fewer. */
  readonly partitions: number
  /** With `--json`: where rank 0 leaves its record for the supervisor's one JSON document. */
  readonly json?: SharedArrayBuffer
  /** `--require-converged`: an `until` loop ending at maxSteps exits NOT_CONVERGED_EXIT. */
  readonly requireConverged?: boolean
  /** `--check-finite K`: scan the fields every K steps of the outermost loop. */
  readonly checkFinite?: number
  /** `--checkpoint-every K --checkpoint-dir D [--checkpoint-keep N]`. */
  readonly checkpoint?: { readonly every: number; readonly dir: string; readonly keep?: number }
  /** `--restart`: the checkpoint directory to resume from. */
  readonly restart?: string
  /** `--plot FILE [--plot-field NAME] [--plot-every K]`: rank 0 draws the gathered field. */
  readonly plot?: PlotRequest
}

/** The exit code of a run whose `until` loop did not converge, under `--require-converged` (0, 1, 2, 124, 130 and 143 are taken). */
export const NOT_CONVERGED_EXIT = 3

const FLAGS = {
  explain: { type: "boolean" },
  json: { type: "boolean" },
  dryRun: { type: "boolean", spellings: ["dry-run", "dryRun"] },
  debug: { type: "boolean" },
  threads: { type: "string" },
  requireConverged: { type: "boolean", spellings: ["require-converged", "requireConverged"] },
  checkFinite: { type: "string", spellings: ["check-finite", "checkFinite"] },
  checkpointEvery: { type: "string", spellings: ["checkpoint-every", "checkpointEvery"] },
  checkpointDir: { type: "string", spellings: ["checkpoint-dir", "checkpointDir"] },
  checkpointKeep: { type: "string", spellings: ["checkpoint-keep", "checkpointKeep"] },
  restart: { type: "boolean" },
  plot: { type: "string" },
  plotField: { type: "string", spellings: ["plot-field", "plotField"] },
  plotEvery: { type: "string", spellings: ["plot-every", "plotEvery"] },
} as const

const FLAG_USAGE = [
  "",
  "pipeline options:",
  "      --explain       print the plan (layout, ghosts, messages, transport) before running",
  "      --json          stdout is one JSON document: result, summary (and plan with --explain,",
  "                      traces with --trace); everything else goes to stderr",
  "      --dry-run       print the plan and stop",
  "      --debug         check every stencil's reads against its declared radius first",
  "      --threads <n>   worker threads running the --ranks partitions (default: the fewer of",
  "                      --ranks and the number of cores); results do not depend on it",
  "      --require-converged  exit 3 when an until loop ends at maxSteps without converging",
  "      --check-finite <k>   every k steps of the outermost loop, stop if a field holds NaN or ±Infinity",
  "      --checkpoint-every <k>  write every field every k steps of the outermost loop (atomically)",
  "      --checkpoint-dir <dir>  where checkpoints go and --restart reads them (default: checkpoints)",
  "      --checkpoint-keep <n>   keep only the newest n checkpoints (default: all)",
  "      --restart            resume from the newest checkpoint (any --ranks): the same results as one run",
  "      --plot <file>        draw the gathered field to file.png or file.svg: a line chart (1-D),",
  "                           a heat map with a colour bar (2-D), the middle slice (3-D)",
  "      --plot-field <name>  the field of several to draw (default: the first)",
  "      --plot-every <k>     also draw frames file-<step>.png every k steps of the outermost loop",
]

/** Bytes rank 0 may use for its `--json` record (pages are committed only when written). */
const JSON_RECORD_BYTES = 16 * 2 ** 20

/**
 * Runs a pipeline program from the command line: `tsx program.ts --ranks 4`.
 * Call it at the top level of the program's module. Rank 0 prints the
 * result readably (objects field by field, arrays summarised), then the
 * program's `report`; with `--json`, stdout is one JSON document instead.
 */
export async function main<P, R>(what: Pipeline<R> | Program<P, R>): Promise<void> {
  const prog: Program<P, R> = what._tag === "Program" ? what : program({ name: "pipeline", params: {} as Params<P>, build: () => what })
  if (isRank()) return runOnRank(prog)
  checkParamNames(Object.keys(prog.params), true)
  const { decodeParams, paramOptions, paramUsage, decodePositiveInt } = await supervisorSide()
  await supervise({
    options: { ...paramOptions(prog.params), ...FLAGS },
    usage: [...FLAG_USAGE, ...paramUsage(prog.params)],
    title: prog.description === undefined ? prog.name : `${prog.name}: ${prog.description}`,
    warnOversubscribed: false,
    version: rankflowVersion,
    prepare: (extra, ranks) => {
      const params = decodeParams(prog.params, extra)
      checkPartitions(ranks)
      const threads = extra.threads === undefined ? Math.min(ranks, availableParallelism()) : decodePositiveInt("threads", String(extra.threads))
      if (threads > ranks) throw new InvalidOptions("--threads", `expected an integer in [1, ${ranks}] (at most one thread per rank), got '${threads}'`)
      const checkFinite = extra.checkFinite === undefined ? undefined : decodePositiveInt("check-finite", String(extra.checkFinite))
      const checkpointDir = extra.checkpointDir === undefined ? "checkpoints" : String(extra.checkpointDir)
      if (checkpointDir === "") throw new InvalidOptions("--checkpoint-dir", "expected a directory, got ''")
      const every = extra.checkpointEvery === undefined ? undefined : decodePositiveInt("checkpoint-every", String(extra.checkpointEvery))
      const keep = extra.checkpointKeep === undefined ? undefined : decodePositiveInt("checkpoint-keep", String(extra.checkpointKeep))
      if (keep !== undefined && every === undefined) throw new InvalidOptions("--checkpoint-keep", "needs --checkpoint-every")
      const checkpoint = every === undefined ? undefined : { every, dir: checkpointDir, ...(keep === undefined ? {} : { keep }) }
      const restart = extra.restart === true ? checkpointDir : undefined
      if (restart !== undefined && latestCheckpoint(restart) === undefined) throw new InvalidOptions("--restart", `no complete checkpoint in ${restart} (see --checkpoint-dir)`)
      const pipeline = prog.build(params, { ranks, threads })
      const plotRequest = plotOption(extra, decodePositiveInt)
      if (plotRequest !== undefined) checkPlot(pipeline.description, plotRequest)
      checkGridSize(pipeline.description, ranks, totalmem())
      const planned = plan(pipeline, ranks)
      checkFieldMemory(planned, totalmem())
      const json = extra.json === true
      const showPlan = extra.explain === true || extra.dryRun === true
      if (showPlan && !json) process.stdout.write(`${explain(planned)}\n${placement(ranks, threads)}\n`)
      const planData = showPlan && json ? (JSON.parse(explainJson(planned)) as unknown) : undefined
      if (extra.dryRun === true) {
        if (json) process.stdout.write(`${JSON.stringify({ program: prog.name, ranks, threads, plan: planData }, null, 2)}\n`)
        return { exit: 0 }
      }
      const record = json ? new SharedArrayBuffer(JSON_RECORD_BYTES) : undefined
      return {
        args: {
          params,
          debug: extra.debug === true,
          partitions: ranks,
          ...(record === undefined ? {} : { json: record }),
          ...(extra.requireConverged === true ? { requireConverged: true } : {}),
          ...(checkFinite === undefined ? {} : { checkFinite }),
          ...(checkpoint === undefined ? {} : { checkpoint }),
          ...(restart === undefined ? {} : { restart }),
          ...(plotRequest === undefined ? {} : { plot: plotRequest }),
        } satisfies RankArgs,
        threads,
        ...(record === undefined
          ? {}
          : {
              ownsTrace: true,
              end: ({ ok, exitCode, traces }) => {
                const run = readRecord(record)
                const document = { program: prog.name, ok, exitCode, ranks, threads, ...(planData === undefined ? {} : { plan: planData }), ...(run ?? {}), ...(traces === undefined ? {} : { trace: traces }) }
                process.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
              },
            }),
      }
    },
  })
}

/** `--plot`, `--plot-field`, `--plot-every` as a request (the last two need the first). */
function plotOption(extra: Record<string, unknown>, decodePositiveInt: (name: string, text: string) => number): PlotRequest | undefined {
  const every = extra.plotEvery === undefined ? undefined : decodePositiveInt("plot-every", String(extra.plotEvery))
  const field = extra.plotField === undefined ? undefined : String(extra.plotField)
  if (extra.plot === undefined) {
    if (field !== undefined) throw new InvalidOptions("--plot-field", "needs --plot")
    if (every !== undefined) throw new InvalidOptions("--plot-every", "needs --plot")
    return undefined
  }
  const file = String(extra.plot)
  if (file === "") throw new InvalidOptions("--plot", "expected a file ending in .png or .svg, got ''")
  return { file, ...(field === undefined ? {} : { field }), ...(every === undefined ? {} : { every }) }
}

/** Rank 0's record: a length word, then UTF-8 JSON. */
function writeRecord(buffer: SharedArrayBuffer, data: unknown): void {
  const bytes = new TextEncoder().encode(JSON.stringify(data))
  const fits = bytes.length <= buffer.byteLength - 4
  const payload = fits ? bytes : new TextEncoder().encode(JSON.stringify({ error: `the result's summary is larger than ${buffer.byteLength - 4} bytes` }))
  new Uint8Array(buffer, 4).set(payload)
  Atomics.store(new Int32Array(buffer, 0, 1), 0, payload.length)
}

function readRecord(buffer: SharedArrayBuffer): Record<string, unknown> | undefined {
  const length = Atomics.load(new Int32Array(buffer, 0, 1), 0)
  if (length === 0) return undefined
  return JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length).slice())) as Record<string, unknown>
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
  const args = launchArgs() as RankArgs | undefined
  const params = (args?.params ?? defaults(prog.params)) as P
  const partitions = args?.partitions ?? comm.size
  const built = prog.build(params, { ranks: partitions, threads: comm.size })
  const plotting = args?.plot
  const { plotResult, withFrames } = plotting === undefined ? {} : await import("./plotRun.ts") // fast-png and resvg only when drawing
  const exact = prog.exact?.(params)
  const plotOptions = { title: prog.name, ...(exact === undefined ? {} : { exact: (x: number) => exact(x) }) }
  const pipeline = plotting?.every === undefined || withFrames === undefined ? built : { ...built, description: withFrames(built.description, plotting, { title: prog.name }) }
  const stats = runWithStats(pipeline, comm, { debug: args?.debug === true, partitions,
    ...(args?.checkFinite === undefined ? {} : { checkFinite: args.checkFinite }),
    ...(args?.checkpoint === undefined ? {} : { checkpoint: args.checkpoint }),
    ...(args?.restart === undefined ? {} : { restart: args.restart }),
  })
  if (comm.rank !== 0) return
  if (plotting !== undefined) plotResult?.(stats.value, built.description, plotting, plotOptions)
  const truth = prog.expected !== undefined && typeof stats.value === "number" ? prog.expected(params) : undefined
  const extra = prog.report?.(stats.value as R, params, stats) ?? {}
  if (args?.json !== undefined) {
    writeRecord(args.json, {
      result: describe(stats.value),
      summary: {
        seconds: stats.seconds,
        steps: stats.steps,
        ...(stats.resumedFrom === undefined ? {} : { resumedFrom: stats.resumedFrom }),
        ...(truth === undefined ? {} : { expected: truth, error: Math.abs((stats.value as number) - truth) }),
        ...(stats.measure === undefined ? {} : { lastMeasure: describe(stats.measure) }),
        ...(stats.converged === undefined ? {} : { converged: stats.converged }),
        ...(plotting === undefined ? {} : { plot: plotting.file }),
      },
      ...(prog.report === undefined ? {} : { report: describe(extra) }),
    })
    return requireConverged(stats, args, comm)
  }
  const threads = partitions === comm.size ? "" : ` on ${comm.size} thread${comm.size === 1 ? "" : "s"}`
  const lines = [`${prog.name}: ${partitions} rank${partitions === 1 ? "" : "s"}${threads}, ${stats.seconds.toFixed(3)} s${stepsNote(stats)}`, `result: ${summarize(stats.value)}`]
  if (truth !== undefined) lines.push(`expected: ${truth}  |error| = ${Math.abs((stats.value as number) - truth).toExponential(3)}`)
  if (stats.measure !== undefined) lines.push(`last measure: ${stats.measure.toExponential(6)}`)
  if (stats.converged === false) lines.push(notConverged(stats))
  if (plotting !== undefined) lines.push(`plot: ${plotting.file}${plotting.every === undefined ? "" : ` (frames every ${plotting.every} steps beside it)`}`)
  for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${typeof v === "number" ? formatNumber(v, 6) : v}`)
  console.log(lines.join("\n"))
  requireConverged(stats, args, comm)
}

/** The summary's line for an `until` loop that ended at maxSteps. */
function notConverged(stats: Outcome): string {
  return `did not converge in ${stats.steps} steps (last measure ${stats.measure === undefined ? "none" : stats.measure.toExponential(6)})`
}

/** Under `--require-converged`, an unconverged run ends the job with NOT_CONVERGED_EXIT (after the summary is out). */
function requireConverged(stats: Outcome, args: RankArgs | undefined, comm: Comm): void {
  if (args?.requireConverged === true && stats.converged === false) comm.abort(NOT_CONVERGED_EXIT, `${notConverged(stats)} (--require-converged)`)
}

function stepsNote(stats: Outcome): string {
  const ran = stats.steps - (stats.resumedFrom ?? 0)
  const perStep = ran > 0 ? `${((stats.seconds / ran) * 1e6).toFixed(2)} µs/step` : "no step run"
  if (stats.resumedFrom !== undefined) return `, ${stats.steps} steps (restarted after step ${stats.resumedFrom}: ${ran} run, ${perStep})`
  return stats.steps > 0 ? `, ${stats.steps} steps (${perStep})` : ""
}

export { fingerprint, summarize } from "./summary.ts"
