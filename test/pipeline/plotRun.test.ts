// --plot, --plot-field, --plot-every of Pipeline.main: refused before any rank starts when there is nothing to draw or
// nowhere to write it; on a run, the picture and the numbered frames are written and decode to the known field.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { decode } from "fast-png"
import { Grid, InvalidOptions, Pipeline, Range, SUM } from "rankflow"
import { checkPlot, frameName } from "../../src/pipeline/plotOptions.ts"
import { ROOT, runProgram } from "../helpers.ts"

const PROGRAM = "test/fixtures/plotProgram.ts"
const PURPLE = [0x44, 0x01, 0x54]
const YELLOW = [0xfd, 0xe7, 0x25]
const dir = mkdtempSync(join(tmpdir(), "rankflow-plotrun-"))

/** The colours at the middle height of the plot area, a quarter from the left and a quarter from the right. */
function leftRight(file: string): { readonly size: readonly [number, number]; readonly left: number[]; readonly right: number[] } {
  const image = decode(readFileSync(file))
  const at = (x: number, y: number): number[] => Array.from(image.data.slice((y * image.width + x) * image.channels, (y * image.width + x) * image.channels + 3))
  return { size: [image.width, image.height], left: at(72 + 112, 232), right: at(518 - 112, 232) }
}

const plane = Pipeline.distribute(Grid.plane({ n: 8 }), () => 0)
const request = (file: string, extra: { field?: string; every?: number } = {}) => ({ file: join(dir, file), ...extra })

test("checkPlot refuses what cannot be drawn: a range reduction, a reduce of a field, a mapped field, an unknown field, frames without a loop", (t) => {
  const bad = (what: Pipeline<unknown>, req: ReturnType<typeof request>, message: RegExp): void => {
    t.throws(() => checkPlot(what.description, req), { instanceOf: InvalidOptions, message })
  }
  bad(Pipeline.distribute(Range.of(10)).mapLocal((c) => c.end - c.start).reduce(), request("a.png"), /^--plot: this pipeline has no grid field to draw/)
  bad(plane.reduce(SUM), request("a.png"), /^--plot: this pipeline ends in reduce\(\), not gather\(\)/)
  bad(plane.gather().map((u) => u.length), request("a.png"), /maps its gathered field/)
  bad(plane.gather(), request("a.png", { field: "v" }), /^--plot-field: expected one of the gathered fields \(u\), got 'v'/)
  bad(plane.gather(), request("a.png", { every: 2 }), /^--plot-every: this pipeline has no iterate or until loop/)
  bad(plane.gather(), request("a.gif"), /\.png or \.svg, got/)
  t.notThrows(() => checkPlot(plane.iterate(3, (s) => s.haloExchange().stencil((u, i) => u[i]!)).gather().description, request("a.svg", { field: "u", every: 1 })))
})

test("checkPlot refuses a path that cannot be written: no such directory, a directory", (t) => {
  t.throws(() => checkPlot(plane.gather().description, request("missing/a.png")), { instanceOf: InvalidOptions, message: /cannot write .*missing\/a\.png: no directory/ })
  mkdirSync(join(dir, "taken.png"))
  t.throws(() => checkPlot(plane.gather().description, request("taken.png")), { instanceOf: InvalidOptions, message: /it is a directory/ })
})

test("frames are numbered by step with as many digits as the last step", (t) => {
  t.is(frameName(join("out", "heat.png"), 50, 1000), join("out", "heat-0050.png"))
  t.is(frameName("u.svg", 7, 9), "u-7.svg")
})

test("--plot-every 3 on a 6-step loop with its own every 2: frames at 3 and 6, the final picture, and the loop's own observations untouched", async (t) => {
  const out = join(dir, "frames")
  mkdirSync(out)
  const run = await runProgram(PROGRAM, ["--ranks", "2", "--steps", "6", "--plot", join(out, "u.png"), "--plot-every", "3"])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(readdirSync(out).sort(), ["u-3.png", "u-6.png", "u.png"])
  t.deepEqual(run.stdout.match(/observed \d+/g), ["observed 2", "observed 4", "observed 6"])
  t.regex(run.stdout, /^plot: .*u\.png \(frames every 3 steps beside it\)$/m)
  for (const file of readdirSync(out)) {
    const picture = leftRight(join(out, file))
    t.deepEqual(picture.size, [640, 480], file)
    t.deepEqual(picture.left, PURPLE, file)
    t.deepEqual(picture.right, YELLOW, file)
  }
})

test("--plot-field v of a record draws v (1 on the left); a 1-D SVG overlays the program's exact answer", async (t) => {
  const record = await runProgram(PROGRAM, ["--ranks", "2", "--kind", "record", "--plot", join(dir, "v.png"), "--plot-field", "v"])
  t.is(record.code, 0, record.stderr)
  const picture = leftRight(join(dir, "v.png"))
  t.deepEqual([picture.left, picture.right], [YELLOW, PURPLE])
  const line = await runProgram(PROGRAM, ["--ranks", "2", "--kind", "line", "--plot", join(dir, "line.svg")])
  t.is(line.code, 0, line.stderr)
  const svg = readFileSync(join(dir, "line.svg"), "utf8")
  t.regex(svg, /<path class="values" d="M/)
  t.regex(svg, /<path class="exact" d="M/)
  t.regex(svg, /<g class="axis x">.*<g class="axis y">/)
  t.regex(svg, />plotted: u</)
})

test("command-line mistakes exit 2 with one line before any rank starts: --plot on a range reduction, an unwritable path, --plot-every alone", async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [["--kind", "range", "--plot", join(dir, "r.png")], /^rankflow: --plot: this pipeline has no grid field to draw/],
    [["--plot", join(dir, "nowhere", "x.png")], /^rankflow: --plot: cannot write .*x\.png: no directory/],
    [["--plot-every", "2"], /^rankflow: --plot-every: needs --plot/],
  ]
  for (const [args, message] of cases) {
    const run = await runProgram(PROGRAM, ["--ranks", "2", ...args])
    t.is(run.code, 2, args.join(" "))
    t.regex(run.stderr, message)
    t.is(run.stderr.trim().split("\n").length, 1, run.stderr)
    t.false(run.stdout.includes("observed"), "a rank ran")
  }
  t.false(existsSync(join(dir, "r.png")))
})

test("mandelbrot --out set.png draws the escape counts over the complex plane: c = 0 (in the set) yellow, the corner −2 − 1.5i (escapes at once) purple", async (t) => {
  const file = join(dir, "set.png")
  const run = await runProgram("pipelines/mandelbrot.ts", ["--ranks", "2", "--width", "120", "--height", "90", "--iterations", "50", "--out", file])
  t.is(run.code, 0, run.stderr)
  const image = decode(readFileSync(file))
  t.deepEqual([image.width, image.height], [640, 480])
  const at = (x: number, y: number): number[] => Array.from(image.data.slice((y * image.width + x) * image.channels, (y * image.width + x) * image.channels + 3))
  // Re c from −2 across [72, 518], Im c from −1.5 up [428, 36] (each axis widened by half a cell).
  const px = (re: number, im: number): [number, number] => [Math.round(72 + ((re + 2 + 1.5 / 120) / 3) * 446), Math.round(428 - ((im + 1.5 + 1.5 / 90) / 3) * 392)]
  t.deepEqual(at(...px(0, 0)), YELLOW)
  t.deepEqual(at(...px(-1.98, -1.48)), PURPLE)
  t.deepEqual(at(...px(-0.2, 0.1)), YELLOW)
})

test("ranks load the drawing only when they draw: main.ts and plotOptions.ts import neither plot.ts, plotRun.ts, fast-png nor resvg statically, plot.ts requires fast-png and resvg on first use", (t) => {
  for (const file of ["src/pipeline/main.ts", "src/pipeline/plotOptions.ts"]) {
    const text = readFileSync(join(ROOT, file), "utf8")
    const imports = [...text.matchAll(/^import (?!type )[^"]*"([^"]+)"/gm)].map((m) => m[1]!)
    t.deepEqual(imports.filter((p) => /plot\.ts$|plotRun\.ts$|fast-png|resvg/.test(p)), [], file)
  }
  t.regex(readFileSync(join(ROOT, "src/pipeline/main.ts"), "utf8"), /await import\("\.\/plotRun\.ts"\)/)
  // plot.ts itself (exported by index.ts: every program loads it) requires both on first use only.
  const plot = readFileSync(join(ROOT, "src/pipeline/plot.ts"), "utf8")
  t.deepEqual([...plot.matchAll(/^import (?!type )[^"]*"([^"]+)"/gm)].map((m) => m[1]!).filter((p) => /fast-png|resvg/.test(p)), [])
})
