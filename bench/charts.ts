// The charts of docs/performance.md, drawn from the suite's JSON lines by Vega-Lite specs that
// Vega renders headless to SVG (no browser, no canvas): per workload a strong-scaling chart (min
// wall time against ranks, one line per implementation, serial C and serial JS as one-core
// references), and a roofline of the stencil workloads (achieved GFLOP/s against arithmetic
// intensity, under the memory-bandwidth and compute roofs of this machine). bench/report.ts writes
// them beside the document it regenerates (`--into`), or where `--charts DIR` says.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"
import type { ResultLine } from "./workloads/harness.ts"

/** Implementations that run on one core only: drawn as a dashed reference across the rank counts. */
const SERIAL_IMPLS = ["serial-c", "serial-js"]

/** Workloads with a parameter that tells results apart (pingpong's bytes ...) or that do not scale work: no scaling chart. */
const NOT_SCALING = new Set(["pingpong", "allreduce", "patterns", "seed", "startup"])

/**
 * The stencil workloads on the roofline: floating-point operations and bytes of memory traffic
 * per point update, as the bench counts them (GBps in bench/workloads/heat1d.ts and heat2d.ts:
 * one 8-byte read and one 8-byte write per update). heat1d: u + r·(u₋ − 2u + u₊) is 5 flops;
 * heat2d: u + r·(n + s + w + e − 4u) is 7.
 */
export const STENCILS: Readonly<Record<string, { readonly flops: number; readonly bytes: number }>> = {
  heat1d_small: { flops: 5, bytes: 16 },
  heat1d_large: { flops: 5, bytes: 16 },
  heat2d: { flops: 7, bytes: 16 },
}

/** The roofs of the roofline: memory bandwidths (measured ranges) and compute ceilings. */
export interface Roofs {
  /** STREAM triad, GB/s, lowest and highest measured, per number of cores. */
  readonly memory: ReadonlyArray<{ readonly label: string; readonly low: number; readonly high: number }>
  /** Peak GFLOP/s of an instruction mix. */
  readonly compute: ReadonlyArray<{ readonly label: string; readonly gflops: number }>
}

/**
 * This machine (docs/performance.md, DESIGN.md): STREAM triad 26–29 GB/s on one core, 31–34 GB/s
 * on two. Compute ceilings at 2.3 GHz with two vector pipes: 2-lane float64 add/mul (f64x2, what
 * WebAssembly SIMD issues; it has no FMA) 4 flop/cycle = 9.2 GFLOP/s per core; AVX-512 FMA (what
 * gcc -O3 -march=native may issue) 32 flop/cycle = 73.6 GFLOP/s per core.
 */
export const MACHINE_ROOFS: Roofs = {
  memory: [
    { label: "memory, 1 core: 26–29 GB/s", low: 26, high: 29 },
    { label: "memory, 2 cores: 31–34 GB/s", low: 31, high: 34 },
  ],
  compute: [
    { label: "f64x2 add/mul, 1 core: 9.2 GFLOP/s", gflops: 9.2 },
    { label: "f64x2 add/mul, 2 cores: 18.4 GFLOP/s", gflops: 18.4 },
    { label: "AVX-512 FMA, 2 cores: 147 GFLOP/s", gflops: 147.2 },
  ],
}

/** One colour per implementation in every chart (Tableau 10); implementations not listed take the spare ones. */
const IMPL_COLORS: ReadonlyArray<readonly [string, string]> = [
  ["serial-c", "#59a14f"],
  ["serial-js", "#9c755f"],
  ["comm", "#4e79a7"],
  ["kernels", "#76b7b2"],
  ["pipeline", "#e15759"],
  ["pipeline-js", "#ff9da7"],
  ["mpi4py", "#f28e2b"],
]
const SPARE_COLORS = ["#b07aa1", "#edc948", "#bab0ac", "#17becf", "#8c564b"]

/** The colour scale of `impls`: known ones first in their order, then the others by name. */
export function implColors(impls: Iterable<string>): { domain: string[]; range: string[] } {
  const present = new Set(impls)
  const known = IMPL_COLORS.filter(([impl]) => present.has(impl))
  const others = [...present].filter((impl) => !IMPL_COLORS.some(([k]) => k === impl)).sort()
  return {
    domain: [...known.map(([impl]) => impl), ...others],
    range: [...known.map(([, color]) => color), ...others.map((_, i) => SPARE_COLORS[i % SPARE_COLORS.length]!)],
  }
}

/** The last line per (workload, impl, ranks): a later line overrides, as in the report's tables. */
function lastPerCase(lines: ReadonlyArray<ResultLine>): ResultLine[] {
  const byKey = new Map<string, ResultLine>()
  for (const line of lines) byKey.set(JSON.stringify([line.workload, line.impl, line.ranks]), line)
  return [...byKey.values()]
}

/** The workloads that get a strong-scaling chart: some implementation measured at two rank counts or more. */
export function scalingWorkloads(lines: ReadonlyArray<ResultLine>): string[] {
  const out: string[] = []
  for (const workload of new Set(lines.map((l) => l.workload))) {
    if (NOT_SCALING.has(workload)) continue
    const ranksPerImpl = new Map<string, Set<number>>()
    for (const l of lines) if (l.workload === workload) ranksPerImpl.set(l.impl, (ranksPerImpl.get(l.impl) ?? new Set()).add(l.ranks))
    if ([...ranksPerImpl.values()].some((ranks) => ranks.size >= 2)) out.push(workload)
  }
  return out
}

/** The Vega-Lite spec of `workload`'s strong scaling: min wall time (log) against ranks (log 2). */
export function scalingSpec(workload: string, lines: ReadonlyArray<ResultLine>): TopLevelSpec {
  const mine = lastPerCase(lines.filter((l) => l.workload === workload))
  const ranks = [...new Set(mine.filter((l) => !SERIAL_IMPLS.includes(l.impl)).map((l) => l.ranks))].sort((a, b) => a - b)
  const values: Array<{ impl: string; ranks: number; seconds: number; kind: string }> = []
  for (const l of mine) {
    if (SERIAL_IMPLS.includes(l.impl)) for (const r of ranks) values.push({ impl: l.impl, ranks: r, seconds: l.wall_s, kind: "one core (reference)" })
    else values.push({ impl: l.impl, ranks: l.ranks, seconds: l.wall_s, kind: "on N ranks" })
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `${workload}: strong scaling`, subtitle: "min wall time of the timed region, lower is better" },
    width: 420,
    height: 280,
    background: "white",
    config: { legend: { labelLimit: 320 } },
    data: { values },
    encoding: {
      x: { field: "ranks", type: "quantitative", title: "ranks", scale: { type: "log", base: 2 }, axis: { values: ranks, format: "d" } },
      y: { field: "seconds", type: "quantitative", title: "seconds (log)", scale: { type: "log" } },
      color: { field: "impl", type: "nominal", title: "implementation", scale: implColors(values.map((v) => v.impl)) },
    },
    layer: [
      { mark: { type: "line" }, encoding: { strokeDash: { field: "kind", type: "nominal", title: null, scale: { domain: ["on N ranks", "one core (reference)"], range: [[1, 0], [6, 4]] } } } },
      { mark: { type: "point", filled: true } },
    ],
  }
}

/** A stencil result as a point of the roofline: arithmetic intensity (flop/byte) and achieved GFLOP/s. */
export function rooflinePoint(line: ResultLine): { intensity: number; gflops: number } | undefined {
  const stencil = STENCILS[line.workload]
  if (stencil === undefined) return undefined
  const { Mupdates_per_s: mups, GBps: gbps } = line.metrics
  const updatesPerSecond = typeof mups === "number" ? mups * 1e6 : typeof gbps === "number" ? (gbps * 1e9) / stencil.bytes : undefined
  if (updatesPerSecond === undefined) return undefined
  return { intensity: stencil.flops / stencil.bytes, gflops: (updatesPerSecond * stencil.flops) / 1e9 }
}

/** The Vega-Lite spec of the stencil workloads' roofline, or undefined when `lines` hold none. */
export function rooflineSpec(lines: ReadonlyArray<ResultLine>, roofs: Roofs = MACHINE_ROOFS): TopLevelSpec | undefined {
  const points = lastPerCase(lines).flatMap((l) => {
    const p = rooflinePoint(l)
    return p === undefined ? [] : [{ ...p, workload: l.workload, impl: l.impl, ranks: l.ranks, label: `${l.ranks}` }]
  })
  if (points.length === 0) return undefined
  const xs = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8]
  // A memory roof is bandwidth × intensity (the line through the middle of the measured range, the band across it).
  const memory = roofs.memory.flatMap((m) => xs.map((x) => ({ roof: m.label, intensity: x, gflops: ((m.low + m.high) / 2) * x, low: m.low * x, high: m.high * x })))
  const compute = roofs.compute.map((c) => ({ roof: c.label, gflops: c.gflops }))
  const x = { field: "intensity", type: "quantitative", title: "arithmetic intensity (flop / byte of memory traffic, log)", scale: { type: "log", base: 2, domain: [xs[0]!, xs.at(-1)!] } } as const
  const y = { field: "gflops", type: "quantitative", title: "GFLOP/s (log)", scale: { type: "log" } } as const
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Stencil workloads against the roofline", subtitle: "the number beside a point is its rank count; points above a memory roof run from cache" },
    width: 520,
    height: 340,
    background: "white",
    config: { legend: { labelLimit: 320 } },
    layer: [
      { data: { values: memory }, mark: { type: "area", opacity: 0.12, color: "#777" }, encoding: { x, y: { ...y, field: "low" }, y2: { field: "high" }, detail: { field: "roof" } } },
      { data: { values: memory }, mark: { type: "line", color: "#555" }, encoding: { x, y, strokeDash: { field: "roof", type: "nominal", title: "memory roof", legend: { symbolType: "stroke", symbolStrokeColor: "#555" } } } },
      { data: { values: compute }, mark: { type: "rule", color: "#999", strokeDash: [2, 2] }, encoding: { y } },
      { data: { values: compute }, mark: { type: "text", align: "right", baseline: "bottom", dy: -2, fontSize: 9, color: "#555" }, encoding: { y, x: { datum: xs.at(-1)! }, text: { field: "roof" } } },
      {
        data: { values: points },
        layer: [
          { mark: { type: "point", filled: true, size: 70 }, encoding: { x, y, color: { field: "impl", type: "nominal", title: "implementation", scale: implColors(points.map((p) => p.impl)) }, shape: { field: "workload", type: "nominal", title: "workload" } } },
          { mark: { type: "text", dx: 9, align: "left", fontSize: 9 }, encoding: { x, y, text: { field: "label" }, color: { field: "impl", type: "nominal", scale: implColors(points.map((p) => p.impl)) } } },
        ],
      },
    ],
    resolve: { scale: { strokeDash: "independent" } },
  } as TopLevelSpec
}

/** `spec` rendered to SVG text, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Writes every chart of `lines` into `dir` (created if needed); returns the file names written, in order. */
export async function writeCharts(lines: ReadonlyArray<ResultLine>, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true })
  const written: string[] = []
  const write = async (name: string, spec: TopLevelSpec): Promise<void> => {
    writeFileSync(join(dir, name), `${await renderSvg(spec)}\n`)
    written.push(name)
  }
  for (const workload of scalingWorkloads(lines)) await write(`scaling-${workload}.svg`, scalingSpec(workload, lines))
  const roofline = rooflineSpec(lines)
  if (roofline !== undefined) await write("roofline.svg", roofline)
  return written
}
