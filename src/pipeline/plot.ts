/**
 * Pictures of grid fields: a line chart of a 1-D field (with a known answer
 * overlaid), a heat map with a colour bar of a 2-D field, the middle slice
 * (along the third dimension) of a 3-D one, axes in the grid's coordinates
 * (x_i = origin + i·spacing, the first dimension across, the second up).
 *
 * The chart is SVG written here (text: axes, ticks, a path); a heat map's
 * cells are a raster encoded with `fast-png` and embedded in the SVG (one
 * image, not one rect per cell, so a 1024² field stays small and crisp).
 * PNG files are the SVG rendered by `@resvg/resvg-js` (prebuilt binaries in
 * its npm package). Both are loaded on first use only.
 *
 * Layer: pipeline.
 */
import { writeFileSync } from "node:fs"
import { InvalidOptions } from "../errors.ts"
import { requireDependency } from "../runtime/requireDependency.ts"
import { plotKind } from "./plotOptions.ts"

/** Where a field's points sit: `x_i = origin + i·spacing` per dimension (a `Grid` fits). */
export interface PlotGrid {
  /** Points per dimension (1 to 3 dimensions). */
  readonly shape: ReadonlyArray<number>
  /** Coordinate of the first point per dimension. */
  readonly origin: ReadonlyArray<number>
  /** Distance between neighbouring points per dimension. */
  readonly spacing: ReadonlyArray<number>
}

/** Options of `plotSvg` and `writePlot`. */
export interface PlotOptions {
  /** A title above the chart. */
  readonly title?: string
  /** A 1-D field's known answer, drawn as a dashed curve over the values. */
  readonly exact?: (x: number) => number
  /** Axis labels: `x` across, `y` up (2-D), `value` for the values' axis or colour bar (default `x`, `y`, `u`). */
  readonly labels?: { readonly x?: string; readonly y?: string; readonly value?: string }
  /** Picture width in pixels (default 640). */
  readonly width?: number
  /** Picture height in pixels (default 480). */
  readonly height?: number
}

/** Viridis (matplotlib's default colour map), 11 stops; low values dark purple, high values yellow. */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [0x44, 0x01, 0x54], [0x48, 0x24, 0x75], [0x41, 0x44, 0x87], [0x35, 0x5f, 0x8d], [0x2a, 0x78, 0x8e], [0x21, 0x91, 0x8c],
  [0x22, 0xa8, 0x84], [0x44, 0xbf, 0x70], [0x7a, 0xd1, 0x51], [0xbd, 0xdf, 0x26], [0xfd, 0xe7, 0x25],
]

/** The colour of `t` in [0, 1] (clamped); NaN is grey. */
export function colourOf(t: number): readonly [number, number, number] {
  if (!Number.isFinite(t)) return [0x80, 0x80, 0x80]
  const s = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1)
  const k = Math.min(VIRIDIS.length - 2, Math.floor(s))
  const f = s - k
  const a = VIRIDIS[k]!
  const b = VIRIDIS[k + 1]!
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))]
}

const hex = ([r, g, b]: readonly [number, number, number]): string => `#${((r << 16) | (g << 8) | b).toString(16).padStart(6, "0")}`

/**
 * The SVG picture of a gathered field (global row-major order, the last
 * dimension fastest, as `gather()` returns it) on `grid`.
 *
 * @example
 * ```ts
 * import { Grid, plotSvg } from "rankflow"
 * const grid = Grid.line({ n: 11 })
 * const svg = plotSvg(Float64Array.from({ length: 11 }, (_, i) => i * i), grid, { title: "squares" })
 * console.log(svg.startsWith("<svg"), svg.includes("squares")) // true true
 * ```
 */
export function plotSvg(values: ArrayLike<number>, grid: PlotGrid, options: PlotOptions = {}): string {
  const points = grid.shape.reduce((a, b) => a * b, 1)
  if (grid.shape.length < 1 || grid.shape.length > 3) throw new InvalidOptions("--plot", `expected a 1-, 2- or 3-D grid, got ${grid.shape.length} dimensions`)
  if (values.length !== points) throw new InvalidOptions("--plot", `the field has ${values.length} values, the grid ${grid.shape.join("×")} = ${points} points`)
  return grid.shape.length === 1 ? lineChart(values, grid, options) : heatMap(values, grid, options)
}

/**
 * Writes the picture of a field to `path`: SVG when it ends in `.svg`, PNG
 * when it ends in `.png` (the SVG rendered with resvg).
 *
 * @example
 * ```ts
 * import { mkdtempSync, readFileSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * import { Grid, writePlot } from "rankflow"
 * const grid = Grid.plane({ n: 8 })
 * const path = join(mkdtempSync(join(tmpdir(), "plot-")), "u.png")
 * writePlot(path, Float64Array.from({ length: 64 }, (_, i) => i), grid)
 * console.log(readFileSync(path).subarray(1, 4).toString()) // PNG
 * ```
 */
export function writePlot(path: string, values: ArrayLike<number>, grid: PlotGrid, options: PlotOptions = {}): void {
  const kind = plotKind(path)
  const svg = plotSvg(values, grid, options)
  writeFileSync(path, kind === "svg" ? svg : svgToPng(svg))
}

/** Modules loaded on first use: `import "rankflow"` does not pay for them. */
let png: typeof import("fast-png") | undefined

interface ResvgModule {
  readonly Resvg: new (svg: string, options?: { readonly background?: string; readonly font?: { readonly defaultFontFamily?: string } }) => { render(): { asPng(): Uint8Array } }
}
let resvg: ResvgModule | undefined

/** Renders SVG text to PNG bytes (resvg, loaded on first use: a native module ranks need only when they write a PNG). */
export function svgToPng(svg: string): Uint8Array {
  resvg ??= requireDependency<ResvgModule>("@resvg/resvg-js")
  return new resvg.Resvg(svg, { background: "white", font: { defaultFontFamily: "DejaVu Sans" } }).render().asPng()
}

// Layout of the picture, in pixels.
const MARGIN = { left: 72, right: 24, top: 36, bottom: 52 }
const BAR = { gap: 16, width: 18, labels: 64 }

interface Frame {
  readonly width: number
  readonly height: number
  readonly x0: number
  readonly x1: number
  readonly y0: number
  readonly y1: number
}

function lineChart(values: ArrayLike<number>, grid: PlotGrid, options: PlotOptions): string {
  const width = options.width ?? 640
  const height = options.height ?? 480
  const n = grid.shape[0]!
  const xs = Array.from({ length: n }, (_, i) => grid.origin[0]! + i * grid.spacing[0]!)
  const exact = options.exact === undefined ? undefined : xs.map(options.exact)
  const [lo, hi] = extent([values, ...(exact === undefined ? [] : [exact])])
  const pad = (hi - lo) * 0.05
  const frame: Frame = { width, height, x0: MARGIN.left, x1: width - MARGIN.right, y0: height - MARGIN.bottom, y1: MARGIN.top }
  const xScale = linear(xs[0]!, xs[n - 1]! === xs[0]! ? xs[0]! + 1 : xs[n - 1]!, frame.x0, frame.x1)
  const yScale = linear(lo - pad, hi + pad, frame.y0, frame.y1)
  const path = (ys: ArrayLike<number>): string => {
    let d = ""
    let pen = false
    for (let i = 0; i < n; i++) {
      const y = ys[i]!
      if (!Number.isFinite(y)) { pen = false; continue }
      d += `${pen ? "L" : "M"}${xScale.at(xs[i]!).toFixed(2)},${yScale.at(y).toFixed(2)}`
      pen = true
    }
    return d
  }
  const labels = options.labels ?? {}
  const body = [
    `<path class="values" d="${path(values)}" fill="none" stroke="#21918c" stroke-width="2"/>`,
    ...(exact === undefined ? [] : [`<path class="exact" d="${path(exact)}" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/>`]),
    ...(exact === undefined ? [] : [legend(frame)]),
  ]
  return svgDocument(frame, options.title, [...body, axes(frame, xScale, yScale, labels.x ?? "x", labels.value ?? "u")])
}

function legend(frame: Frame): string {
  const x = frame.x1 - 120
  const y = frame.y1 + 14
  return `<g class="legend" font-size="12">` +
    `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="#21918c" stroke-width="2"/><text x="${x + 30}" y="${y + 4}">computed</text>` +
    `<line x1="${x}" y1="${y + 18}" x2="${x + 24}" y2="${y + 18}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/><text x="${x + 30}" y="${y + 22}">exact</text></g>`
}

/** Cells of the raster at most this many per side (a larger field is sampled at the nearest point). */
const MAX_CELLS = 1024

function heatMap(values: ArrayLike<number>, grid: PlotGrid, options: PlotOptions): string {
  const width = options.width ?? 640
  const height = options.height ?? 480
  const [n0, n1] = [grid.shape[0]!, grid.shape[1]!]
  const n2 = grid.shape[2] ?? 1
  const k = Math.floor(n2 / 2) // the middle slice of a 3-D field
  const at = (i: number, j: number): number => values[(i * n1 + j) * n2 + k]!
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) {
    const v = at(i, j)
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (!(lo <= hi)) [lo, hi] = [0, 1] // no finite value
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5]
  // The raster: column i is x_i (first dimension), row 0 is the top (the last y).
  const cols = Math.min(n0, MAX_CELLS)
  const rows = Math.min(n1, MAX_CELLS)
  const data = new Uint8Array(cols * rows * 3)
  for (let r = 0; r < rows; r++) {
    const j = n1 - 1 - Math.floor((r * n1) / rows)
    for (let c = 0; c < cols; c++) {
      const rgb = colourOf((at(Math.floor((c * n0) / cols), j) - lo) / (hi - lo))
      data.set(rgb, (r * cols + c) * 3)
    }
  }
  png ??= requireDependency<typeof import("fast-png")>("fast-png")
  const cells = Buffer.from(png.encode({ width: cols, height: rows, data, channels: 3, depth: 8 })).toString("base64")
  const frame: Frame = { width, height, x0: MARGIN.left, x1: width - MARGIN.right - BAR.gap - BAR.width - BAR.labels, y0: height - MARGIN.bottom, y1: MARGIN.top }
  const half = (d: number): number => grid.spacing[d]! / 2
  const xEnd = grid.origin[0]! + (n0 - 1) * grid.spacing[0]!
  const yEnd = grid.origin[1]! + (n1 - 1) * grid.spacing[1]!
  const xScale = linear(grid.origin[0]! - half(0), xEnd + half(0), frame.x0, frame.x1)
  const yScale = linear(grid.origin[1]! - half(1), yEnd + half(1), frame.y0, frame.y1)
  const image = `<image class="field" x="${frame.x0}" y="${frame.y1}" width="${frame.x1 - frame.x0}" height="${frame.y0 - frame.y1}" preserveAspectRatio="none" image-rendering="optimizeSpeed" href="data:image/png;base64,${cells}"/>`
  const labels = options.labels ?? {}
  const slice = n2 > 1 ? ` (z = ${tickLabel(grid.origin[2]! + k * grid.spacing[2]!, grid.spacing[2]!)})` : ""
  const title = options.title === undefined ? (slice === "" ? undefined : slice.trim()) : `${options.title}${slice}`
  return svgDocument(frame, title, [image, axes(frame, xScale, yScale, labels.x ?? "x", labels.y ?? "y"), colourBar(frame, lo, hi, labels.value ?? "u")])
}

function colourBar(frame: Frame, lo: number, hi: number, label: string): string {
  const x = frame.x1 + BAR.gap
  const steps = 64
  const h = (frame.y0 - frame.y1) / steps
  const rects = Array.from({ length: steps }, (_, s) => `<rect x="${x}" y="${(frame.y0 - (s + 1) * h).toFixed(2)}" width="${BAR.width}" height="${(h + 0.5).toFixed(2)}" fill="${hex(colourOf((s + 0.5) / steps))}"/>`)
  const scale = linear(lo, hi, frame.y0, frame.y1)
  const ticks = scale.ticks(6).map((v) => {
    const y = scale.at(v).toFixed(2)
    return `<line x1="${x + BAR.width}" y1="${y}" x2="${x + BAR.width + 4}" y2="${y}" stroke="black"/><text x="${x + BAR.width + 7}" y="${y}" dy="0.32em" font-size="11">${tickLabel(v, scale.step)}</text>`
  })
  return `<g class="colour-bar" shape-rendering="crispEdges">${rects.join("")}<rect x="${x}" y="${frame.y1}" width="${BAR.width}" height="${frame.y0 - frame.y1}" fill="none" stroke="black"/>${ticks.join("")}` +
    `<text x="${x + BAR.width / 2}" y="${frame.y1 - 8}" text-anchor="middle" font-size="12">${escapeXml(label)}</text></g>`
}

function axes(frame: Frame, x: Scale, y: Scale, xLabel: string, yLabel: string): string {
  const xTicks = x.ticks(7).map((v) => {
    const p = x.at(v).toFixed(2)
    return `<line x1="${p}" y1="${frame.y0}" x2="${p}" y2="${frame.y0 + 5}" stroke="black"/><text x="${p}" y="${frame.y0 + 18}" text-anchor="middle" font-size="11">${tickLabel(v, x.step)}</text>`
  })
  const yTicks = y.ticks(6).map((v) => {
    const p = y.at(v).toFixed(2)
    return `<line x1="${frame.x0 - 5}" y1="${p}" x2="${frame.x0}" y2="${p}" stroke="black"/><text x="${frame.x0 - 8}" y="${p}" dy="0.32em" text-anchor="end" font-size="11">${tickLabel(v, y.step)}</text>`
  })
  const midY = (frame.y0 + frame.y1) / 2
  return `<g class="axis x"><path d="M${frame.x0},${frame.y0}H${frame.x1}" stroke="black" fill="none"/>${xTicks.join("")}` +
    `<text x="${(frame.x0 + frame.x1) / 2}" y="${frame.y0 + 38}" text-anchor="middle" font-size="13">${escapeXml(xLabel)}</text></g>` +
    `<g class="axis y"><path d="M${frame.x0},${frame.y0}V${frame.y1}" stroke="black" fill="none"/>${yTicks.join("")}` +
    `<text x="18" y="${midY}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${midY})">${escapeXml(yLabel)}</text></g>`
}

function svgDocument(frame: Frame, title: string | undefined, parts: ReadonlyArray<string>): string {
  const heading = title === undefined ? "" : `<text class="title" x="${frame.width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/>${heading}${parts.join("")}</svg>\n`
}

interface Scale {
  readonly at: (v: number) => number
  readonly ticks: (count: number) => ReadonlyArray<number>
  /** The last tick spacing asked for (for labels' precision). */
  step: number
}

/** A linear map [d0, d1] → [r0, r1] with "nice" ticks (1, 2 or 5 × a power of ten) inside the domain. */
function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const scale: Scale = {
    at: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
    ticks: (count) => {
      const span = d1 - d0
      const raw = span / count
      const power = 10 ** Math.floor(Math.log10(raw))
      const m = raw / power
      const step = (m >= 5 ? 10 : m >= 2 ? 5 : m >= 1 ? 2 : 1) * power
      scale.step = step
      const out: number[] = []
      for (let k = Math.ceil(d0 / step - 1e-9); k * step <= d1 + step * 1e-9; k++) out.push(k * step)
      return out
    },
    step: 1,
  }
  return scale
}

/** A tick value with as many decimals as its spacing needs (no 0.30000000000000004). */
function tickLabel(v: number, step: number): string {
  if (v === 0 || Math.abs(v) < step * 1e-9) return "0"
  if (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-4) return v.toExponential(Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / Math.abs(v)) - 1e-9))))
  const decimals = Math.max(0, Math.min(10, Math.ceil(-Math.log10(step) - 1e-9)))
  return v.toFixed(decimals).replace("-", "−")
}

/** Smallest and largest finite values over several series (0 and 1 when there is none; a constant widened by 1). */
function extent(series: ReadonlyArray<ArrayLike<number>>): readonly [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (const s of series) for (let i = 0; i < s.length; i++) {
    const v = s[i]!
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (!(lo <= hi)) return [0, 1]
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
}
