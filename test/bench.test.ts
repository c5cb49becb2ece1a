// The benchmark suite keeps running (`npm run bench -- --quick`, under a minute),
// keeps its one-JSON-line-per-result schema and computes right answers; the
// report turns the lines into the tables of docs/performance.md.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { spawnSync } from "node:child_process"
import test, { type ExecutionContext } from "ava"
import { BEGIN, END, formatNumber, type MachineInfo, parseLines, renderReport, spliceReport } from "../bench/report.ts"
import type { ResultLine } from "../bench/workloads/harness.ts"
import { runProgram } from "./helpers.ts"

const KEYS = ["impl", "metrics", "params", "ranks", "result", "wall_s", "workload"]
const WORKLOADS = ["pi_mc", "trapezoid", "heat1d_small", "heat1d_large", "heat2d", "matvec", "matmul"]

/** The distinct values `field` takes over the lines (one when they agree). */
function sameEverywhere(lines: ReadonlyArray<ResultLine>, field: string): unknown[] {
  return [...new Set(lines.map((l) => JSON.stringify(l.result[field])))]
}

/** Whether a workload's result is right (a sanity check independent of the harness's own). */
const SANITY: Record<string, (line: ResultLine) => boolean> = {
  pi_mc: (l) => Math.abs((l.result.pi as number) - Math.PI) < 6 * (l.result.sigma as number),
  trapezoid: (l) => Math.abs((l.result.pi_estimate as number) - Math.PI) < 1e-6,
  heat1d_small: (l) => (l.result.max_abs_err as number) < 1e-6,
  heat1d_large: (l) => (l.result.max_abs_err as number) < 1e-6,
  heat2d: (l) => (l.result.max_abs_err as number) < 1e-3,
  matvec: (l) => Math.abs((l.result.lambda as number) / ((l.params.n as number) / 2) - 1) < 0.02,
  matmul: (l) => Math.abs((l.result.c_sum as number) / (l.params.n as number) ** 3 / 0.25 - 1) < 0.05,
}
/** serial-c runs where gcc is (bench/workloads/serialc.ts); elsewhere it is skipped with a note. */
const HAVE_GCC = spawnSync("gcc", ["--version"]).status === 0
/** Impls whose results are not comparable bit for bit (pi_mc's serial-c draws its own random numbers). */
const OWN_NUMBERS: Record<string, string[]> = { pi_mc: ["serial-c"] }
/** Result fields every impl and rank count must reproduce bit for bit (serial C included: same operation order, no FMA contraction). */
const IDENTICAL: Record<string, string[]> = {
  pi_mc: ["inside", "pi"],
  heat1d_small: ["fingerprint", "max_abs_err"],
  heat1d_large: ["fingerprint", "max_abs_err"],
  heat2d: ["fingerprint", "max_abs_err"],
  matvec: ["y_fingerprint", "lambda"],
  matmul: ["c_fingerprint"],
}

test("bench/run.ts --quick runs every workload and prints one well-formed, correct JSON line per result", async (t) => {
  // Bounds against a hang only (ava's own two-minute watchdog included): on a
  // loaded machine the quick suite, 10 programs and ~60 rank pools, takes minutes.
  t.timeout(600_000)
  const run = await runProgram("bench/run.ts", ["--quick"], 600_000)
  t.is(run.code, 0, run.stderr)
  const every = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as ResultLine)
  // pipeline-js: the heat workloads' pipeline with the hand-written point function (the JavaScript sweep) beside the declared, SIMD one — same fields.
  for (const w of ["heat1d_small", "heat1d_large", "heat2d"]) {
    const js = every.filter((l) => l.workload === w && l.impl === "pipeline-js")
    t.deepEqual(js.map((l) => l.ranks), [1, 2, 4], w)
    t.true(js.every((l) => l.result.fingerprint === every.find((p) => p.workload === w && p.impl === "pipeline")!.result.fingerprint), w)
  }
  const lines = every.filter((l) => l.impl !== "pipeline-js")
  t.deepEqual([...new Set(lines.map((l) => l.workload))].sort(), [...WORKLOADS, "allreduce", "patterns", "pingpong", "startup", "two_fields", "float32", "stencil_probe"].sort())
  for (const line of lines) {
    t.deepEqual(Object.keys(line).sort(), KEYS)
    t.true(Number.isInteger(line.ranks) && line.ranks >= 1)
    t.true(typeof line.wall_s === "number" && line.wall_s > 0)
    t.true(Object.values(line.metrics).every((v) => Number.isFinite(v) && v > 0), `${line.workload} ${JSON.stringify(line.metrics)}`)
  }
  for (const workload of WORKLOADS) {
    const mine = lines.filter((l) => l.workload === workload)
    const ranked =
      workload === "matmul"
        ? ["kernels@1", "kernels@2", "kernels@4"]
        : workload === "matvec"
          ? ["comm@1", "comm@2", "comm@4", "kernels@1", "kernels@2", "kernels@4"]
          : ["comm@1", "comm@2", "comm@4", "pipeline@1", "pipeline@2", "pipeline@4"]
    t.deepEqual(mine.map((l) => `${l.impl}@${l.ranks}`), ["serial-js@1", ...(HAVE_GCC ? ["serial-c@1"] : []), ...ranked], workload)
    // A pipeline's 4 ranks are partitions on as many threads as there are cores.
    for (const l of mine.filter((l) => l.impl === "pipeline" && l.ranks > availableParallelism())) t.is(l.params.threads, availableParallelism())
    for (const line of mine) {
      t.true(SANITY[workload]!(line), `${workload} ${line.impl}@${line.ranks}: ${JSON.stringify(line.result)}`)
      t.is(line.metrics.min_s, line.wall_s)
      t.true(line.metrics.median_s! >= line.wall_s)
      t.is(line.params.reps, 3)
    }
    const comparable = mine.filter((l) => !(OWN_NUMBERS[workload] ?? []).includes(l.impl))
    for (const field of IDENTICAL[workload] ?? []) t.is(sameEverywhere(comparable, field).length, 1, `${workload}.${field} differs between impls or rank counts`)
  }
  // The heat fingerprints really are of the field: different sizes give different ones.
  const heat = (w: string): unknown => lines.find((l) => l.workload === w)!.result.fingerprint
  t.not(heat("heat1d_small"), heat("heat1d_large"))
})

test("bench/fields.ts --quick: a second field adds bytes but no message per step, gives the single-field results bit for bit; float32 stays near float64; the probe is timed", async (t) => {
  t.timeout(300_000) // against a hang only
  const run = await runProgram("bench/fields.ts", ["--quick", "--ranks", "2,4"], 300_000)
  t.is(run.code, 0, run.stderr)
  const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as ResultLine)
  for (const line of lines) {
    t.deepEqual(Object.keys(line).sort(), KEYS)
    t.true(Object.values(line.metrics).every((v) => Number.isFinite(v) && v > 0), `${line.workload} ${JSON.stringify(line.metrics)}`)
  }
  for (const ranks of [2, 4]) {
    const two = lines.filter((l) => l.workload === "two_fields" && l.ranks === ranks)
    t.deepEqual(two.map((l) => l.params.form), ["u+v in one pipeline", "u alone", "v alone"])
    const [both, u, v] = two as [ResultLine, ResultLine, ResultLine]
    t.is(both.metrics.messages_per_step, u.metrics.messages_per_step)
    t.is(both.metrics.bytes_per_step, u.metrics.bytes_per_step! + v.metrics.bytes_per_step!)
    t.true(two.every((l) => l.result.identical === true))
    t.is(both.metrics.ratio_to_sum, both.wall_s / (u.wall_s + v.wall_s))
    t.deepEqual(lines.filter((l) => l.workload === "stencil_probe" && l.ranks === ranks).map((l) => l.params.form), ["heat (one field)", "heat u, v (two fields)"])
  }
  // float32 runs on 2 ranks only, next to float64, and drifts from it by float32 rounding, not more.
  const f32 = lines.filter((l) => l.workload === "float32")
  t.deepEqual(f32.map((l) => `${l.params.kernel} ${l.params.type}@${l.ranks}`), ["js float64@2", "js float32@2", "simd float64@2", "simd float32@2"])
  for (const k of [0, 2]) {
    t.is(f32[k]!.metrics.ratio_to_float64, 1)
    t.is(f32[k]!.result.max_abs_diff_to_float64, 0)
    t.true((f32[k + 1]!.result.max_abs_diff_to_float64 as number) > 0 && (f32[k + 1]!.result.max_abs_diff_to_float64 as number) < 1e-5)
  }
})

test("bench/fields.ts refuses an unknown part before starting ranks", async (t) => {
  const run = await runProgram("bench/fields.ts", ["--only", "nope"])
  t.is(run.code, 2)
  t.regex(run.stderr, /--only takes two_fields,float32,probe \(got nope\)/)
})

test("serial-c is skipped with a note, not an error, when there is no C compiler", async (t) => {
  const run = await runProgram("bench/trapezoid.ts", ["--quick", "--impl", "serial-c,serial-js", "--reps", "1"], 120_000, { CC: "rankflow-no-such-compiler" })
  t.is(run.code, 0, run.stderr)
  t.regex(run.stderr, /trapezoid serial-c skipped: rankflow-no-such-compiler not found/)
  t.deepEqual(run.stdout.trim().split("\n").map((l) => (JSON.parse(l) as ResultLine).impl), ["serial-js"])
})

test("bench/run.ts rejects an unknown workload", async (t) => {
  const run = await runProgram("bench/run.ts", ["--only", "nope"])
  t.is(run.code, 2)
  t.regex(run.stderr, /unknown workload\(s\) nope; known: pi_mc, trapezoid, heat1d_small, heat1d_large, heat2d, matvec, matmul, pingpong, allreduce, patterns, startup, fields/)
})

const MACHINE: MachineInfo = { cpu: "Test CPU", cores: 2, memoryGiB: 24, node: "v20.20.2", os: "linux x64", date: "2026-11-25" }

const line = (impl: string, ranks: number, wall: number, median: number, extra: Partial<ResultLine> = {}): ResultLine => ({
  workload: "heat2d",
  impl,
  ranks,
  params: { nx: 4096, ny: 4096, steps: 100, r: 0.2, reps: 3 },
  wall_s: wall,
  result: { max_abs_err: 1.5e-9, l2_err: 1e-9, max_abs_u: 0.99, fingerprint: "0123456789abcdef" },
  metrics: { us_per_step: wall * 1e4, Mupdates_per_s: 1, GBps: 4.5, min_s: wall, median_s: median },
  ...extra,
})

const SAMPLE: ResultLine[] = [
  line("serial-js", 1, 6, 6.2),
  line("comm", 1, 6.6, 6.7),
  line("comm", 2, 3.3, 3.4),
  line("comm", 8, 4.62, 5),
  line("pipeline", 1, 6.8, 6.9),
  line("pipeline", 2, 3.6, 3.7),
  {
    workload: "pingpong",
    impl: "buffer",
    ranks: 2,
    params: { bytes: 8 * 2 ** 20, trips: 100 },
    wall_s: 0.036,
    result: { bytes: 8 * 2 ** 20 },
    metrics: { one_way_us: 178.07, bandwidth_GBps: 47.11, ratio_to_copy: 0.82 },
  },
]

const REPORT = renderReport(SAMPLE, MACHINE)

/** Each row must stand in the report as it is. */
function hasRows(t: ExecutionContext, rows: ReadonlyArray<string>): void {
  for (const row of rows) t.true(REPORT.includes(row), `missing ${JSON.stringify(row)} in:\n${REPORT}`)
}

test("report.ts turns JSON lines into a results table per workload, with the machine", (t) => {
  t.true(REPORT.startsWith("Measured 2026-11-25 on Test CPU, 2 cores, 24 GiB, linux x64, Node v20.20.2."))
  hasRows(t, [
    "### heat2d",
    "| impl | ranks | min wall_s | median wall_s | us_per_step | GBps | max_abs_err | fingerprint |",
    "| serial-js | 1 | 6 | 6.2 | 60000 | 4.5 | 1.50e-9 | 0123456789abcdef |",
    "| comm | 8 | 4.62 | 5 | 46200 | 4.5 | 1.50e-9 | 0123456789abcdef |",
    // A workload with several results per impl and rank count gets a case column.
    "### pingpong",
    "| 8 MiB | buffer | 2 | 0.036 | — | 178.1 | 47.11 | 0.82 |",
  ])
  // Timings get 4 significant digits, answers to check 10.
  t.deepEqual([formatNumber(0.0123456), formatNumber(12345.6), formatNumber(Math.PI, 10), formatNumber(2.5e-12)], ["0.01235", "12346", "3.141592654", "2.50e-12"])
  // Rows go serial-js, comm, pipeline, by rank count.
  const order = [...REPORT.matchAll(/^\| (serial-js|comm|pipeline) \| (\d) \|/gm)].map((m) => `${m[1]}@${m[2]}`)
  t.deepEqual(order, ["serial-js@1", "comm@1", "comm@2", "comm@8", "pipeline@1", "pipeline@2"])
})

test("report.ts computes the ratios the targets ask for and says which are met", (t) => {
  hasRows(t, [
    "| comm 1 rank / serial-js | 1.1 | ≤ 1.3 | met |",
    "| comm 2 ranks / 1 rank | 0.5 | — (0.5 = linear speed-up) |  |",
    "| comm 8 ranks / 2 ranks | 1.4 | ≤ 1.3 | **missed** |",
    "| pipeline 1 rank / serial-js | 1.133 | ≤ 1.3 | met |",
    "| pipeline / comm, 1 rank | 1.03 | ≤ 1.05 | met |",
    "| pipeline / comm, 2 ranks | 1.091 | ≤ 1.05 | **missed** |",
  ])
  t.false(REPORT.includes("pipeline 8 ranks")) // no pipeline line on 8 ranks: no such ratio
})

test("report.ts reads a file of bench output (other lines skipped) and prints the tables", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-report-"))
  const file = join(dir, "results.jsonl")
  writeFileSync(file, ["> rankflow@0.1.0 bench", "", ...SAMPLE.map((l) => JSON.stringify(l))].join("\n"))
  t.deepEqual(parseLines(`x\n${JSON.stringify(SAMPLE[0])}\n{"workload": 1}`).skipped, 2)
  const run = await runProgram("bench/report.ts", [file])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, new RegExp(`^Measured \\d{4}-\\d\\d-\\d\\d on .+, \\d+ cores, .*Node ${process.version.replace(/\./g, "\\.")}\\.`))
  t.regex(run.stdout, /\| comm \| 2 \| 3\.3 \| 3\.4 \| 33000 \| 4\.5 \|/)
  t.regex(run.stderr, /skipped 1 line/)
})

test("report.ts --into replaces only the generated section of a document", (t) => {
  const doc = `# Title\n\nwritten by hand\n\n${BEGIN}\n\nold tables\n${END}\n\nmore by hand\n`
  const out = spliceReport(doc, "NEW TABLES\n")
  t.is(out, `# Title\n\nwritten by hand\n\n${BEGIN}\n\nNEW TABLES\n\n${END}\n\nmore by hand\n`)
  t.throws(() => spliceReport("# no markers", "x"), { message: /has no/ })
})

test("docs/performance.md's tables are bench/report.ts's output for the results file it names", (t) => {
  const doc = readFileSync(new URL("../docs/performance.md", import.meta.url), "utf8")
  const file = /`(docs\/results\/[\d-]+\.jsonl)`/.exec(doc)?.[1]
  t.truthy(file, "the document names its results file")
  const { lines } = parseLines(readFileSync(new URL(`../${file}`, import.meta.url), "utf8"))
  const generated = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim()
  const machine = generated.split("\n")[0]!
  const expected = renderReport(lines, { cpu: "", cores: 0, memoryGiB: 0, node: "", os: "", date: "" }).trim()
  // Everything but the first line (where and when it was measured) is a function of the results.
  t.is(generated.split("\n").slice(1).join("\n"), expected.split("\n").slice(1).join("\n"))
  t.regex(machine, /^Measured \d{4}-\d\d-\d\d on .+, \d+ cores/)
})
