// bench/report.ts draws the charts of docs/performance.md as SVG files (bench/charts.ts: Vega-Lite
// specs rendered headless by Vega): a strong-scaling chart per workload and a roofline of the
// stencil workloads, from the same JSON lines as the tables.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Resvg } from "@resvg/resvg-js"
import test, { type ExecutionContext } from "ava"
import { implColors, rooflinePoint, scalingWorkloads, STENCILS } from "../../bench/charts.ts"
import { BEGIN, END, parseLines } from "../../bench/report.ts"
import { fixture, runProgram } from "../helpers.ts"

const FIXTURE = fixture("benchResults.jsonl")
const { lines } = parseLines(readFileSync(FIXTURE, "utf8"))

/** The SVG's text: checks it is well-formed SVG (resvg's parser is strict XML) that draws something; returns its text content. */
function readSvg(t: ExecutionContext, path: string): string {
  const svg = readFileSync(path, "utf8")
  t.true(svg.startsWith("<svg "), path)
  t.notThrows(() => new Resvg(svg), `${path} parses as SVG`)
  const png = new Resvg(svg).render()
  t.true(png.width >= 300 && png.height >= 200, `${path}: ${png.width}×${png.height}`)
  // The text the chart shows (titles, axis and legend labels), entities decoded.
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replaceAll("&amp;", "&").replaceAll("&lt;", "<")).join("\n")
}

test("report.ts --charts writes a strong-scaling chart per workload and the stencils' roofline, as SVG naming their series", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-charts-"))
  const run = await runProgram("bench/report.ts", [fileURLToPath(FIXTURE), "--charts", dir], 120_000)
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /### heat2d/, "the tables are still printed")
  t.regex(run.stderr, /3 chart\(s\) written to /)
  // pingpong has one rank count (and a case per size): no scaling chart.
  t.deepEqual(readdirSync(dir).sort(), ["roofline.svg", "scaling-heat1d_small.svg", "scaling-heat2d.svg"])

  const heat2d = readSvg(t, join(dir, "scaling-heat2d.svg"))
  t.regex(heat2d, /^heat2d: strong scaling$/m)
  for (const impl of ["serial-c", "serial-js", "comm", "pipeline", "mpi4py"]) t.regex(heat2d, new RegExp(`^${impl}$`, "m"), `legend names ${impl}`)
  t.regex(heat2d, /^one core \(reference\)$/m, "serial implementations are drawn as one-core references")
  t.regex(heat2d, /^ranks$/m)
  for (const r of ["1", "2", "4"]) t.regex(heat2d, new RegExp(`^${r}$`, "m"), `rank count ${r} on the axis`)

  const heat1d = readSvg(t, join(dir, "scaling-heat1d_small.svg"))
  t.regex(heat1d, /^heat1d_small: strong scaling$/m)
  for (const impl of ["serial-c", "pipeline", "mpi4py"]) t.regex(heat1d, new RegExp(`^${impl}$`, "m"))
  t.notRegex(heat1d, /^comm$/m, "only the workload's own series")

  const roofline = readSvg(t, join(dir, "roofline.svg"))
  for (const name of ["heat2d", "heat1d_small", "serial-c", "pipeline", "mpi4py", "memory, 1 core: 26–29 GB/s", "memory, 2 cores: 31–34 GB/s", "f64x2 add/mul, 1 core: 9.2 GFLOP/s"])
    t.true(roofline.split("\n").includes(name), `roofline shows ${name}`)
  t.notRegex(roofline, /pingpong/)
})

test("report.ts --into also writes the charts beside the document, in its charts/ folder", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-charts-into-"))
  const doc = join(dir, "performance.md")
  writeFileSync(doc, `# Performance\n\n${BEGIN}\nold\n${END}\n`)
  const run = await runProgram("bench/report.ts", [fileURLToPath(FIXTURE), "--into", doc], 120_000)
  t.is(run.code, 0, run.stderr)
  t.regex(readFileSync(doc, "utf8"), /### heat2d/)
  t.deepEqual(readdirSync(join(dir, "charts")).sort(), ["roofline.svg", "scaling-heat1d_small.svg", "scaling-heat2d.svg"])
})

test("several result files are read in order: a later line overrides an earlier one in tables and charts", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-charts-two-"))
  const later = join(dir, "later.jsonl")
  const mpi4py = lines.find((l) => l.workload === "heat2d" && l.impl === "mpi4py" && l.ranks === 2)!
  writeFileSync(later, `${JSON.stringify({ ...mpi4py, impl: "mpi4py-extra", wall_s: 7.25 })}\n`)
  const run = await runProgram("bench/report.ts", [fileURLToPath(FIXTURE), later, "--charts", dir], 120_000)
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /\| mpi4py-extra \| 2 \| 7\.25 \|/)
  t.regex(readSvg(t, join(dir, "scaling-heat2d.svg")), /^mpi4py-extra$/m)
})

test("a stencil result's roofline point: flops and bytes per update times updates per second", (t) => {
  const heat2d = lines.find((l) => l.workload === "heat2d" && l.impl === "pipeline" && l.ranks === 2)!
  const point = rooflinePoint(heat2d)!
  t.is(point.intensity, 7 / 16)
  t.is(point.gflops, (heat2d.metrics.Mupdates_per_s! * 1e6 * 7) / 1e9)
  // heat1d_small's lines carry GBps only: updates per second come from it (16 bytes per update).
  const heat1d = lines.find((l) => l.workload === "heat1d_small" && l.impl === "serial-c")!
  t.true(Math.abs(rooflinePoint(heat1d)!.gflops - (heat1d.metrics.GBps! / 16) * 5) < 1e-9)
  t.is(STENCILS.heat1d_small!.flops, 5)
  t.is(rooflinePoint(lines.find((l) => l.workload === "pingpong")!), undefined)
  t.deepEqual(scalingWorkloads(lines), ["heat2d", "heat1d_small"])
})

test("an implementation keeps its colour in every chart", (t) => {
  const a = implColors(["mpi4py", "pipeline", "serial-c"])
  const b = implColors(["pipeline", "other", "comm", "mpi4py"])
  const colorOf = (s: { domain: string[]; range: string[] }, impl: string) => s.range[s.domain.indexOf(impl)]
  t.is(colorOf(a, "pipeline"), colorOf(b, "pipeline"))
  t.is(colorOf(a, "mpi4py"), colorOf(b, "mpi4py"))
  t.deepEqual(b.domain, ["comm", "pipeline", "mpi4py", "other"])
  t.is(new Set(b.range).size, 4)
})
