// Pictures of fields: PNGs decoded with fast-png (size, not blank, colour-map endpoints at known pixels, orientation of
// the axes, the middle slice of 3-D), SVG text (axes, ticks in grid coordinates, the value path and the exact curve).
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { decode } from "fast-png"
import { Grid, InvalidOptions, plotSvg, writePlot } from "rankflow"
import { colourOf, svgToPng } from "../../src/pipeline/plot.ts"
import { plotKind } from "../../src/pipeline/plotOptions.ts"

const PURPLE = [0x44, 0x01, 0x54] // viridis at 0
const YELLOW = [0xfd, 0xe7, 0x25] // viridis at 1
// The default 640 × 480 heat map's plot area (pixels): left 72, right 640 − 24 − 16 − 18 − 64 = 518, top 36, bottom 428.
const AREA = { x0: 72, x1: 518, y0: 428, y1: 36 }
const across = (f: number): number => Math.round(AREA.x0 + f * (AREA.x1 - AREA.x0))
const up = (f: number): number => Math.round(AREA.y0 - f * (AREA.y0 - AREA.y1))

const dir = mkdtempSync(join(tmpdir(), "rankflow-plot-"))

function png(bytes: Uint8Array): { readonly width: number; readonly height: number; readonly rgb: (x: number, y: number) => number[]; readonly colours: number } {
  const image = decode(bytes)
  const c = image.channels
  const rgb = (x: number, y: number): number[] => Array.from(image.data.slice((y * image.width + x) * c, (y * image.width + x) * c + 3))
  const colours = new Set<number>()
  for (let i = 0; i < image.width * image.height; i++) colours.add((image.data[i * c]! << 16) | (image.data[i * c + 1]! << 8) | image.data[i * c + 2]!)
  return { width: image.width, height: image.height, rgb, colours: colours.size }
}

/** A field on an n0 × n1 grid from its value at (i, j). */
const field2 = (n0: number, n1: number, f: (i: number, j: number) => number): Float64Array => Float64Array.from({ length: n0 * n1 }, (_, p) => f(Math.floor(p / n1), p % n1))

test("2-D heat map PNG: 0 on the left half, 1 on the right → viridis endpoints left and right, colour bar from purple (bottom) to yellow (top)", (t) => {
  const grid = Grid.plane({ n: [40, 30] })
  const path = join(dir, "half.png")
  writePlot(path, field2(40, 30, (i) => (i >= 20 ? 1 : 0)), grid, { title: "half" })
  const image = png(readFileSync(path))
  t.is(image.width, 640)
  t.is(image.height, 480)
  t.true(image.colours > 10, `only ${image.colours} colours: blank?`)
  for (const y of [up(0.1), up(0.5), up(0.9)]) {
    t.deepEqual(image.rgb(across(0.1), y), PURPLE)
    t.deepEqual(image.rgb(across(0.4), y), PURPLE)
    t.deepEqual(image.rgb(across(0.6), y), YELLOW)
    t.deepEqual(image.rgb(across(0.9), y), YELLOW)
  }
  const bar = AREA.x1 + 16 + 9
  t.deepEqual(image.rgb(bar, AREA.y0 - 2), [...colourOf(0.5 / 64)])
  t.deepEqual(image.rgb(bar, AREA.y1 + 2), [...colourOf(63.5 / 64)])
  t.deepEqual(image.rgb(5, 5), [255, 255, 255]) // the margin is white
})

test("2-D heat map: the second dimension goes up (1 where j is high → yellow at the top), and a 3-D field shows its middle slice", (t) => {
  const top = png(svgToPng(plotSvg(field2(16, 16, (_, j) => (j >= 8 ? 1 : 0)), Grid.plane({ n: 16 }))))
  t.deepEqual(top.rgb(across(0.5), up(0.9)), YELLOW)
  t.deepEqual(top.rgb(across(0.5), up(0.1)), PURPLE)
  // f(i, j, k): the left/right halves only on the middle slice k = 3 of 7, a constant 5 elsewhere (outside the slice's range).
  const [n0, n1, n2] = [12, 10, 7]
  const values = Float64Array.from({ length: n0 * n1 * n2 }, (_, p) => {
    const [i, k] = [Math.floor(p / (n1 * n2)), p % n2]
    return k === 3 ? (i >= 6 ? 1 : 0) : 5
  })
  const box = Grid.box({ n: [n0, n1, n2] })
  const svg = plotSvg(values, box)
  t.regex(svg, /z = 0\.5/) // the slice's coordinate in the title: 3 · 1/6
  const slice = png(svgToPng(svg))
  t.deepEqual(slice.rgb(across(0.2), up(0.5)), PURPLE)
  t.deepEqual(slice.rgb(across(0.8), up(0.5)), YELLOW)
})

test("2-D SVG: axes with ticks in the grid's coordinates, the cells as one embedded PNG of the field's shape, a colour bar", (t) => {
  const grid = Grid.plane({ n: [21, 11], length: [2, 1], origin: [-1, 0] })
  const svg = plotSvg(field2(21, 11, (i) => (i >= 10 ? 1 : 0)), grid, { title: "T & <x>", labels: { value: "temperature" } })
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="480"/)
  t.true(svg.trimEnd().endsWith("</svg>"))
  t.regex(svg, /<g class="axis x"><path d="M72,428H518"/)
  t.regex(svg, /<g class="axis y"><path d="M72,428V36"/)
  const xTicks = [...svg.matchAll(/<g class="axis x">(.*?)<\/g>/g)][0]![1]!.match(/>([−\d.]+)<\/text>/g)!.map((s) => s.slice(1, -7))
  t.deepEqual(xTicks, ["−1.0", "−0.5", "0", "0.5", "1.0"])
  t.regex(svg, /T &amp; &lt;x&gt;/)
  t.regex(svg, />temperature</)
  t.is(svg.match(/<g class="colour-bar"/g)?.length, 1)
  t.true((svg.match(/<rect /g)?.length ?? 0) >= 64)
  const embedded = /<image class="field"[^>]*href="data:image\/png;base64,([^"]+)"/.exec(svg)
  t.truthy(embedded)
  const cells = png(Buffer.from(embedded![1]!, "base64"))
  t.deepEqual([cells.width, cells.height], [21, 11]) // x across, y up
  t.deepEqual(cells.rgb(0, 0), PURPLE)
  t.deepEqual(cells.rgb(20, 10), YELLOW)
})

test("1-D line chart: the values as a path, the exact answer dashed over it, ticks without float noise; the PNG shows both", (t) => {
  const grid = Grid.line({ n: 101 })
  const values = Float64Array.from({ length: 101 }, (_, i) => 0.5 * Math.sin((Math.PI * i) / 100))
  const svg = plotSvg(values, grid, { exact: (x) => Math.sin(Math.PI * x) })
  const d = /<path class="values" d="([^"]+)"/.exec(svg)?.[1]
  t.is(d?.match(/[ML]/g)?.length, 101)
  t.regex(svg, /<path class="exact" d="M[^"]+" [^>]*stroke-dasharray/)
  t.regex(svg, /<g class="axis x">/)
  t.regex(svg, />0\.2<\/text>/)
  t.notRegex(svg, /0000000/)
  const image = png(svgToPng(svg))
  t.true(image.colours > 10)
  // Top of the exact curve (x = 0.5, value 1) near the top of the area; the computed one (0.5) near the middle.
  const column = Array.from({ length: 480 }, (_, y) => image.rgb(Math.round(72 + 0.5 * (640 - 24 - 72)), y))
  t.true(column.some(([r, g, b]) => r! > 180 && g! < 100 && b! < 100), "no red pixel of the exact curve at x = 0.5")
  t.true(column.some(([r, g, b]) => r! < 80 && g! > 110 && b! > 110), "no teal pixel of the values at x = 0.5")
})

test("NaN points break the line and show grey in a heat map; a constant field still draws", (t) => {
  const values = Float64Array.from({ length: 11 }, (_, i) => (i === 5 ? NaN : i))
  const d = /<path class="values" d="([^"]+)"/.exec(plotSvg(values, Grid.line({ n: 11 })))![1]!
  t.is(d.match(/M/g)?.length, 2)
  const heat = png(svgToPng(plotSvg(field2(4, 4, (i) => (i === 0 ? NaN : 2)), Grid.plane({ n: 4 }))))
  t.deepEqual(heat.rgb(across(0.1), up(0.5)), [0x80, 0x80, 0x80])
  t.deepEqual(heat.rgb(across(0.9), up(0.5)), [...colourOf(0.5)])
})

test("bad input: a file neither .png nor .svg, a field whose length is not the grid's", (t) => {
  t.is(plotKind("a/b.PNG"), "png")
  t.is(plotKind("b.svg"), "svg")
  t.throws(() => plotKind("u.jpg"), { instanceOf: InvalidOptions, message: /\.png or \.svg, got 'u\.jpg'/ })
  t.throws(() => plotSvg(new Float64Array(10), Grid.plane({ n: 4 })), { instanceOf: InvalidOptions, message: /10 values, the grid 4×4 = 16 points/ })
})
