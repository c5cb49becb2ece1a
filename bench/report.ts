// Turns the suite's JSON lines into the Markdown tables of docs/performance.md:
// the machine (CPU, cores, Node, date), then per workload a table of impl ×
// ranks with min and median wall time, the key metrics and the checkable
// answer, and the ratios the targets ask for (one rank vs serial-js, 2 vs 1
// ranks, 8 vs 2 ranks, pipeline vs comm), each measured within the run.
//   npm run bench > results.jsonl && tsx bench/report.ts results.jsonl
//   npm run bench --silent | tsx bench/report.ts
//   tsx bench/report.ts results.jsonl --into docs/performance.md   (replaces the generated section,
//                                                                  writes the charts to docs/charts/)
//   tsx bench/report.ts a.jsonl b.jsonl --charts DIR   (several files: read in order, a later line
//                                                       overrides; the SVG charts of bench/charts.ts)
import { readFileSync, writeFileSync } from "node:fs"
import { arch, availableParallelism, cpus, platform, totalmem } from "node:os"
import { dirname, join } from "node:path"
import type { ResultLine } from "./workloads/harness.ts"

/** Where the figures were measured. */
export interface MachineInfo {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly os: string
  readonly date: string
}

/** This machine, now. */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${platform()} ${arch()}`,
    date: new Date().toISOString().slice(0, 10),
  }
}

/** The metrics shown for each workload (others: its first metric), and the result fields. */
const METRICS: Readonly<Record<string, ReadonlyArray<string>>> = {
  pi_mc: ["Msamples_per_s"],
  trapezoid: ["Mintervals_per_s"],
  heat1d_small: ["us_per_step", "GBps"],
  heat1d_large: ["us_per_step", "GBps"],
  heat2d: ["us_per_step", "GBps"],
  matvec: ["oneshot_s", "us_per_iter", "GFLOPs_iter"],
  matmul: ["GFLOPs"],
  pingpong: ["one_way_us", "bandwidth_GBps", "ratio_to_copy"],
  allreduce: ["us_per_call", "ratio_to_8MiB_copy"],
  patterns: ["us_per_item", "ratio_to_static", "ratio_to_one_rank"],
  startup: [],
  seed: ["lines", "ratio_to_mpi4py"],
}
const RESULTS: Readonly<Record<string, ReadonlyArray<string>>> = {
  pi_mc: ["pi", "abs_err"],
  trapezoid: ["abs_err"],
  heat1d_small: ["max_abs_err", "fingerprint"],
  heat1d_large: ["max_abs_err", "fingerprint"],
  heat2d: ["max_abs_err", "fingerprint"],
  matvec: ["lambda", "y_fingerprint"],
  matmul: ["c_fingerprint"],
}
/** The parameter that tells the results of one workload apart, where it has several per impl and rank count. */
const CASE: Readonly<Record<string, string>> = { pingpong: "bytes", allreduce: "op", patterns: "pattern", seed: "program" }
/** Ratio targets of issue 6. */
const ONE_RANK_TARGET = 1.3
const OVERSUBSCRIBED_TARGET = 1.3
const OVERSUBSCRIBED_WORKLOADS = ["pi_mc", "heat2d"]
const PIPELINE_TOLERANCE = 0.05
/** Implementations in the order the tables list them; others follow by name. */
const IMPL_ORDER = ["serial-c", "serial-js", "comm", "kernels", "pipeline", "mpi4py"]

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Whether `value` has the suite's schema. */
export function isResultLine(value: unknown): value is ResultLine {
  return (
    isRecord(value) &&
    typeof value.workload === "string" &&
    typeof value.impl === "string" &&
    Number.isInteger(value.ranks) &&
    isRecord(value.params) &&
    typeof value.wall_s === "number" &&
    isRecord(value.result) &&
    isRecord(value.metrics)
  )
}

/** The result lines of `text`; other lines (npm's banner, blank lines) are skipped and counted. */
export function parseLines(text: string): { lines: ResultLine[]; skipped: number } {
  const lines: ResultLine[] = []
  let skipped = 0
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "") continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      value = undefined
    }
    if (isResultLine(value)) lines.push(value)
    else skipped++
  }
  return { lines, skipped }
}

/** A number for a table: `digits` significant digits (4 for timings), plain notation from 1e-3 to 1e6. */
export function formatNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v)
  const abs = Math.abs(v)
  if (abs === 0) return "0"
  if (abs >= 1e6 || abs < 1e-3) return v.toExponential(2)
  if (abs >= 10 ** digits) return v.toFixed(0)
  return String(Number(v.toPrecision(digits)))
}

const formatValue = (v: unknown, digits = 4): string => (typeof v === "number" ? formatNumber(v, digits) : v === undefined ? "—" : String(v))

function formatBytes(bytes: number): string {
  for (const [unit, size] of [["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`
  return `${bytes} B`
}

function caseOf(line: ResultLine): string {
  const key = CASE[line.workload]
  if (key === undefined) return ""
  const value = line.params[key]
  return key === "bytes" && typeof value === "number" ? formatBytes(value) : formatValue(value)
}

const implRank = (impl: string): number => {
  const at = IMPL_ORDER.indexOf(impl)
  return at >= 0 ? at : IMPL_ORDER.length
}

function table(header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, rightFrom: number): string {
  const align = header.map((_, i) => (i >= rightFrom ? "---:" : "---"))
  return [header, align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n")
}

/** Keeps the last line per (impl, ranks, case) — a later run overrides — in table order. */
function latest(lines: ReadonlyArray<ResultLine>): ResultLine[] {
  const byKey = new Map<string, ResultLine>()
  for (const line of lines) byKey.set(JSON.stringify([line.impl, line.ranks, caseOf(line)]), line)
  const cases = [...new Set(lines.map(caseOf))]
  return [...byKey.values()].sort(
    (a, b) =>
      cases.indexOf(caseOf(a)) - cases.indexOf(caseOf(b)) ||
      implRank(a.impl) - implRank(b.impl) ||
      a.impl.localeCompare(b.impl) ||
      a.ranks - b.ranks,
  )
}

function resultsTable(workload: string, lines: ReadonlyArray<ResultLine>): string {
  const metrics = METRICS[workload] ?? Object.keys(lines[0]!.metrics).filter((m) => m !== "min_s" && m !== "median_s").slice(0, 1)
  const results = RESULTS[workload] ?? []
  const withCase = CASE[workload] !== undefined
  const header = [...(withCase ? ["case"] : []), "impl", "ranks", "min wall_s", "median wall_s", ...metrics, ...results]
  const rows = lines.map((line) => [
    ...(withCase ? [caseOf(line)] : []),
    line.impl,
    String(line.ranks),
    formatNumber(line.wall_s),
    formatValue(line.metrics.median_s),
    ...metrics.map((m) => formatValue(line.metrics[m])),
    ...results.map((r) => formatValue(line.result[r], 10)), // answers to check: more digits
  ])
  return table(header, rows, withCase ? 2 : 1)
}

interface Ratio {
  readonly name: string
  readonly value: number
  readonly target: string
  readonly met: boolean | undefined
}

/** The ratios of min wall times the targets ask for, within one case of a workload. */
export function ratios(workload: string, lines: ReadonlyArray<ResultLine>): Ratio[] {
  const time = (impl: string, ranks?: number): number | undefined =>
    lines.find((l) => l.impl === impl && (ranks === undefined || l.ranks === ranks))?.wall_s
  const out: Ratio[] = []
  const add = (name: string, a: number | undefined, b: number | undefined, target = "—", met?: (r: number) => boolean): void => {
    if (a !== undefined && b !== undefined) out.push({ name, value: a / b, target, met: met?.(a / b) })
  }
  const serial = time("serial-js")
  const ranked = [...new Set(lines.map((l) => l.impl))].filter((impl) => impl !== "serial-js").sort((a, b) => implRank(a) - implRank(b))
  for (const impl of ranked) {
    if (impl.startsWith("mpi4py")) continue // compared with below
    add(`${impl} 1 rank / serial-js`, time(impl, 1), serial, `≤ ${ONE_RANK_TARGET}`, (r) => r <= ONE_RANK_TARGET)
    add(`${impl} 2 ranks / 1 rank`, time(impl, 2), time(impl, 1), "— (0.5 = linear speed-up)")
    const oversubscribed = OVERSUBSCRIBED_WORKLOADS.includes(workload)
    add(`${impl} 8 ranks / 2 ranks`, time(impl, 8), time(impl, 2), oversubscribed ? `≤ ${OVERSUBSCRIBED_TARGET}` : "—", oversubscribed ? (r) => r <= OVERSUBSCRIBED_TARGET : undefined)
  }
  // Against mpi4py (bench/mpi4py/): each impl with the mpi4py line of its rank count ("mpi4py-<impl>" where paths differ).
  for (const impl of ranked.filter((i) => !i.startsWith("mpi4py")))
    for (const ranks of [...new Set(lines.filter((l) => l.impl === impl).map((l) => l.ranks))].sort((a, b) => a - b)) {
      const theirs = time(`mpi4py-${impl}`, ranks) ?? time("mpi4py", ranks)
      add(`${impl} / mpi4py, ${ranks} rank${ranks === 1 ? "" : "s"}`, time(impl, ranks), theirs, "< 1 (faster)", (r) => r < 1)
    }
  for (const ranks of [...new Set(lines.filter((l) => l.impl === "pipeline").map((l) => l.ranks))].sort((a, b) => a - b)) {
    // The target bounds the pipeline layer's overhead; a pipeline faster than the hand-written code meets it.
    const overhead = `≤ ${1 + PIPELINE_TOLERANCE}`
    add(`pipeline / comm, ${ranks} rank${ranks === 1 ? "" : "s"}`, time("pipeline", ranks), time("comm", ranks), overhead, (r) => r <= 1 + PIPELINE_TOLERANCE)
  }
  return out
}

function ratiosTable(workload: string, lines: ReadonlyArray<ResultLine>): string | undefined {
  const withCase = CASE[workload] !== undefined
  const rows: string[][] = []
  for (const c of [...new Set(lines.map(caseOf))]) {
    for (const r of ratios(workload, lines.filter((l) => caseOf(l) === c))) {
      const verdict = r.met === undefined ? "" : r.met ? "met" : "**missed**"
      rows.push([...(withCase ? [c] : []), r.name, formatNumber(r.value), r.target, verdict])
    }
  }
  if (rows.length === 0) return undefined
  return table([...(withCase ? ["case"] : []), "ratio of min wall_s", "value", "target", ""], rows, withCase ? 2 : 1)
}

/** The Markdown report of `lines`: machine, then per workload (in order of appearance) the results and ratio tables. */
export function renderReport(lines: ReadonlyArray<ResultLine>, machine: MachineInfo): string {
  const out = [
    `Measured ${machine.date} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}.`,
    "Times are the min (and median) over repetitions of the timed region only; ratios compare min times from the same run.",
  ]
  for (const workload of [...new Set(lines.map((l) => l.workload))]) {
    const mine = latest(lines.filter((l) => l.workload === workload))
    out.push("", `### ${workload}`, "", resultsTable(workload, mine))
    const ratioTable = ratiosTable(workload, mine)
    if (ratioTable !== undefined) out.push("", ratioTable)
  }
  return `${out.join("\n")}\n`
}

/** The markers between which `--into` replaces a document's generated tables. */
export const BEGIN = "<!-- bench/report.ts: generated from here -->"
export const END = "<!-- bench/report.ts: generated up to here -->"

/** `document` with the text between BEGIN and END replaced by `report`. */
export function spliceReport(document: string, report: string): string {
  const from = document.indexOf(BEGIN)
  const to = document.indexOf(END)
  if (from < 0 || to < from) throw new Error(`the document has no ${BEGIN} … ${END} section`)
  return `${document.slice(0, from + BEGIN.length)}\n\n${report}\n${document.slice(to)}`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const option = (name: string): string | undefined => {
    const at = args.indexOf(name)
    return at >= 0 ? args.splice(at, 2)[1] : undefined
  }
  const into = option("--into")
  // Charts go beside the document (its charts/ folder), or where --charts says.
  const charts = option("--charts") ?? (into === undefined ? undefined : join(dirname(into), "charts"))
  const files = args.length === 0 ? ["-"] : args
  const text = files.map((file) => readFileSync(file === "-" ? 0 : file, "utf8")).join("\n")
  const { lines, skipped } = parseLines(text)
  if (skipped > 0) console.error(`report: skipped ${skipped} line(s) that are not result lines`)
  if (lines.length === 0) {
    console.error("report: no result lines")
    process.exit(1)
  }
  const report = renderReport(lines, machineInfo())
  if (into === undefined) process.stdout.write(report)
  else writeFileSync(into, spliceReport(readFileSync(into, "utf8"), report))
  if (charts !== undefined) {
    const { writeCharts } = await import("./charts.ts")
    const written = await writeCharts(lines, charts)
    console.error(`report: ${written.length} chart(s) written to ${charts}: ${written.join(", ")}`)
  }
}
