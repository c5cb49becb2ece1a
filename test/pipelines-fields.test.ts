// The pipelines of several fields and element types run as a user runs them:
// the wave equation (two time levels) conserves its discrete energy, Gray–Scott
// (two species) writes a real PNG, the Game of Life (Uint8 cells) moves its
// gliders by (k, k) every 4k steps; each gives bit-identical fields on 1–8
// ranks, as threads and as partitions on 2 threads.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { decode } from "fast-png"
import { runProgram } from "./helpers.ts"

const scratch = mkdtempSync(join(tmpdir(), "rankflow-pipelines-fields-"))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

const line = (stdout: string, key: string): string => new RegExp(`^${key}: (.*)$`, "m").exec(stdout)?.[1] ?? `(no ${key} line in: ${stdout})`
/** Every field's fingerprint in the printed result, named by its path ("u", "prev.u", "" for a single field): "u:… prev.u:…". */
const fingerprints = (stdout: string): string =>
  [...stdout.matchAll(/^(.*?)\b\w+Array\(\d+\).* fingerprint (\w+)/gm)]
    .map((m) => `${m[1]!.replace(/^result: /, "").trim().replace(/: \{ /g, ".").replace(/:$/, "")}:${m[2]}`)
    .join(" ")

/** The runs of a program on 1–8 ranks (real threads) and on partitions of 2 threads. */
const RUNS: ReadonlyArray<ReadonlyArray<string>> = [
  ["--ranks", "1"],
  ["--ranks", "2"],
  ["--ranks", "3"],
  ["--ranks", "4"],
  ["--ranks", "8"],
  ["--ranks", "5", "--threads", "2"],
  ["--ranks", "8", "--threads", "2"],
]

async function sameOnEveryRankCount(t: import("ava").ExecutionContext, script: string, args: ReadonlyArray<string>, check: (stdout: string) => void): Promise<string> {
  const seen = new Map<string, string>()
  for (const ranks of RUNS) {
    const run = await runProgram(script, [...ranks, ...args])
    t.is(run.code, 0, `${ranks.join(" ")}: ${run.stderr}`)
    check(run.stdout)
    seen.set(ranks.join(" "), fingerprints(run.stdout))
  }
  const distinct = new Set(seen.values())
  t.is(distinct.size, 1, JSON.stringify(Object.fromEntries(seen), null, 1))
  return [...distinct][0]!
}

test("wave: its default run (1000 points, C = 0.9, 10⁴ leapfrog steps) conserves the discrete energy to 1e-10 relative, bit-identically on 1–8 ranks", async (t) => {
  const help = await runProgram("pipelines/wave.ts", ["--help"])
  t.regex(help.stdout, /--steps <int>\s+time steps \(default 10000\)/, "the default run is the issue's 10⁴ steps")
  const prints = await sameOnEveryRankCount(t, "pipelines/wave.ts", [], (stdout) => {
    t.regex(stdout, /^wave: .*, 10000 steps/m)
    const drift = Number.parseFloat(line(stdout, "energy drift \\(relative\\)"))
    t.true(drift >= 0 && drift < 1e-10, stdout)
  })
  t.regex(prints, /^u:\w+ prev\.u:\w+$/, `both levels are printed and compared: ${prints}`)
})

test("wave: an unstable Courant number (C = 1.05) is refused before any rank starts, naming the wave CFL bound", async (t) => {
  const run = await runProgram("pipelines/wave.ts", ["--ranks", "2", "--courant", "1.05"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /wave CFL number C = \|c\|·dt\/dx = 1\.05 .*exceeds the stability bound 1 of leapfrog/)
  t.is(run.stdout, "")
})

test("grayScott: 64² × 500 steps is bit-identical on 1–8 ranks in both species, and --out writes a 64 × 64 grayscale PNG of the pattern", async (t) => {
  const prints = await sameOnEveryRankCount(t, "pipelines/grayScott.ts", ["--n", "64", "--steps", "500"], (stdout) => {
    const meanV = Number.parseFloat(line(stdout, "mean v"))
    t.true(meanV > 0 && meanV < 1, stdout)
  })
  t.regex(prints, /^u:\w+ v:\w+$/, prints)
  const out = join(scratch, "pattern.png")
  const run = await runProgram("pipelines/grayScott.ts", ["--ranks", "3", "--n", "64", "--steps", "500", "--out", out])
  t.is(run.code, 0, run.stderr)
  t.is(line(run.stdout, "picture"), out)
  const bytes = readFileSync(out)
  t.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "the PNG signature")
  const image = decode(bytes)
  t.like(image, { width: 64, height: 64, channels: 1 })
  const pixels = image.data as Uint8Array
  t.is(pixels.length, 64 * 64)
  t.true(Math.max(...pixels) > Math.min(...pixels) + 50, "a pattern, not a flat picture")
  const mass = [...pixels].reduce((a, b) => a + b, 0) / pixels.length / 255
  // The picture is v / 0.5 clipped to [0, 1]: its mean is about 2·(mean v).
  t.true(Math.abs(mass - 2 * Number.parseFloat(line(run.stdout, "mean v"))) < 0.02, `${mass} vs mean v ${line(run.stdout, "mean v")}`)
})

test("life: Uint8 gliders are bit-identical on 1–8 ranks and, after 4k steps, equal the start shifted by (k, k)", async (t) => {
  const prints = await sameOnEveryRankCount(t, "pipelines/life.ts", ["--n", "48", "--gap", "12", "--steps", "60"], (stdout) => {
    t.regex(stdout, /^result: Uint8Array\(2304\) min 0 max 1 fingerprint \w+$/m)
    t.is(line(stdout, "live cells"), "80", "16 gliders of 5 cells")
    t.is(line(stdout, "equals the start shifted by \\(steps/4, steps/4\\)"), "true")
  })
  t.regex(prints, /^:\w+$/, prints)
  // Between whole periods the glider is in another phase: the shift truth does not apply, and the field differs.
  const odd = await runProgram("pipelines/life.ts", ["--ranks", "3", "--n", "48", "--gap", "12", "--steps", "62"])
  t.is(odd.code, 0, odd.stderr)
  t.regex(line(odd.stdout, "equals the start shifted by \\(steps/4, steps/4\\)"), /^n\/a/)
  t.not(fingerprints(odd.stdout), prints)
  // A grid that is not a whole number of gliders' cells still runs, with no claim made.
  const uneven = await runProgram("pipelines/life.ts", ["--ranks", "2", "--n", "50", "--gap", "12", "--steps", "8"])
  t.is(uneven.code, 0, uneven.stderr)
  t.regex(line(uneven.stdout, "equals the start shifted by \\(steps/4, steps/4\\)"), /^n\/a/)
})

for (const script of ["wave", "grayScott", "life"])
  test(`pipelines/${script}.ts is at most 25 lines of pipeline (its program, without comments, imports and the report's helpers)`, (t) => {
    const source = readFileSync(new URL(`../pipelines/${script}.ts`, import.meta.url), "utf8")
    const program = /export const \w+ = Pipeline\.program\(\{[\s\S]*?\n\}\)\n/.exec(source)?.[0] ?? ""
    const build = /^ {2}build: [\s\S]*?(?=^ {2}report: )/m.exec(program)?.[0] ?? ""
    const code = build.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("//"))
    t.true(code.length > 3, `found the build function of ${script}`)
    t.true(code.length <= 25, `${code.length} lines:\n${code.join("\n")}`)
  })
