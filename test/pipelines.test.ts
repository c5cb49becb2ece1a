// The programs of pipelines/ run as a user runs them: numerical truth,
// identical results across rank counts, bad parameters and impossible plans
// refused before any rank starts, and --explain.
import { readFileSync } from "node:fs"
import test from "ava"
import { runProgram } from "./helpers.ts"

const line = (stdout: string, key: string): string => new RegExp(`^${key}: (.*)$`, "m").exec(stdout)?.[1] ?? `(no ${key} line in: ${stdout})`
const numberAfter = (stdout: string, key: string): number => Number.parseFloat(line(stdout, key))
/** The |error| against the known answer that Pipeline.main prints. */
const errorOf = (stdout: string): number => Number.parseFloat(/\|error\| = (\S+)/.exec(stdout)?.[1] ?? "NaN")

test("heat: the seed's configuration (N = 1000, 50 000 steps) matches sin(πx)·e^(−απ²t) and is bit-identical on 1, 2, 3, 4 and 8 ranks", async (t) => {
  const fingerprints = new Set<string>()
  for (const ranks of [1, 2, 3, 4, 8]) {
    const run = await runProgram("pipelines/heat.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, new RegExp(`^heat: ${ranks} ranks?( on 2 threads)?, [0-9.]+ s, 50000 steps`, "m"))
    // The scheme's error is O(dx²) + O(dt): 1.6e-8 here.
    t.true(numberAfter(run.stdout, "max \\|u − exact\\|") < 2e-8, run.stdout)
    fingerprints.add(/fingerprint (\w+)/.exec(run.stdout)![1]!)
  }
  for (const ranks of ["3", "8"]) {
    const run = await runProgram("pipelines/heat.ts", ["--ranks", ranks, "--threads", ranks, "--t", "0.05"])
    const partitioned = await runProgram("pipelines/heat.ts", ["--ranks", ranks, "--threads", "2", "--t", "0.05"])
    t.regex(run.stdout, new RegExp(`^heat: ${ranks} ranks, `, "m"))
    t.regex(partitioned.stdout, new RegExp(`^heat: ${ranks} ranks on 2 threads, `, "m"))
    t.is(/fingerprint (\w+)/.exec(run.stdout)?.[1], /fingerprint (\w+)/.exec(partitioned.stdout)?.[1], `${ranks} threads vs ${ranks} partitions on 2 threads`)
  }
  t.is(fingerprints.size, 1)
})

test("heat on uneven sizes (1001, 1003 points) is bit-identical across rank counts", async (t) => {
  for (const n of ["1001", "1003"]) {
    const fingerprints = new Set<string>()
    for (const ranks of [1, 3, 4, 8]) {
      const run = await runProgram("pipelines/heat.ts", ["--ranks", String(ranks), "--n", n, "--t", "0.01"])
      t.is(run.code, 0, run.stderr)
      fingerprints.add(/fingerprint (\w+)/.exec(run.stdout)![1]!)
    }
    t.is(fingerprints.size, 1, `n = ${n}`)
  }
})

test("heat2d: 259² points match sin(πx)sin(πy)e^(−2απ²t) and are bit-identical on 1, 2, 3, 4 and 8 ranks", async (t) => {
  const fingerprints = new Set<string>()
  for (const ranks of [1, 2, 3, 4, 8]) {
    const run = await runProgram("pipelines/heat2d.ts", ["--ranks", String(ranks), "--n", "259", "--steps", "200"])
    t.is(run.code, 0, run.stderr)
    t.true(numberAfter(run.stdout, "max \\|u − exact\\|") < 1e-6, run.stdout)
    fingerprints.add(/fingerprint (\w+)/.exec(run.stdout)![1]!)
  }
  t.is(fingerprints.size, 1)
})

test("pi: the same estimate on 1, 2, 3 and 8 ranks, within 5 standard errors of π", async (t) => {
  const estimates = new Set<string>()
  for (const ranks of [1, 2, 3, 8]) {
    const run = await runProgram("pipelines/pi.ts", ["--ranks", String(ranks), "--samples", "5000000"])
    t.is(run.code, 0, run.stderr)
    estimates.add(line(run.stdout, "result"))
    t.true(errorOf(run.stdout) < 5 * numberAfter(run.stdout, "standard error"), run.stdout)
  }
  t.is(estimates.size, 1)
  const other = await runProgram("pipelines/pi.ts", ["--ranks", "2", "--samples", "5000000", "--seed", "7"])
  t.not(line(other.stdout, "result"), [...estimates][0], "another seed, another estimate")
})

test("trapezoid: π to 1e-9 with 10⁷ intervals, identical on 1 and 3 ranks", async (t) => {
  const results = new Set<string>()
  for (const ranks of [1, 3]) {
    const run = await runProgram("pipelines/trapezoid.ts", ["--ranks", String(ranks), "--intervals", "10000000"])
    t.is(run.code, 0, run.stderr)
    t.true(errorOf(run.stdout) < 1e-9, run.stdout)
    results.add(line(run.stdout, "result"))
  }
  t.is(results.size, 1)
})

test("dot: exact for 10⁶ entries on 4 ranks", async (t) => {
  const run = await runProgram("pipelines/dot.ts", ["--ranks", "4", "--n", "1000000"])
  t.is(run.code, 0, run.stderr)
  t.is(errorOf(run.stdout), 0)
})

test("matvec: N = 1000 on 3 and 4 ranks agrees with the serial product", async (t) => {
  for (const ranks of ["3", "4"]) {
    const run = await runProgram("pipelines/matvec.ts", ["--ranks", ranks])
    t.is(run.code, 0, run.stderr)
    t.true(numberAfter(run.stdout, "max relative error vs serial") < 1e-12, run.stdout)
  }
})

test("mandelbrot: rows dealt cyclically, in blocks or on demand give the same image on 1, 3 and 4 ranks; an unknown distribution is refused", async (t) => {
  const images = new Set<string>()
  for (const [ranks, distribution] of [[1, "cyclic"], [3, "cyclic"], [4, "cyclic"], [3, "block"], [3, "dynamic"], [4, "dynamic"]] as const) {
    const run = await runProgram("pipelines/mandelbrot.ts", ["--ranks", String(ranks), "--width", "200", "--height", "150", "--distribution", distribution])
    t.is(run.code, 0, run.stderr)
    images.add(line(run.stdout, "image fingerprint"))
    t.true(numberAfter(run.stdout, "pixels in the set") > 1000)
  }
  t.is(images.size, 1)
  const bad = await runProgram("pipelines/mandelbrot.ts", ["--ranks", "2", "--distribution", "random"])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--distribution: expected one of block, cyclic, dynamic, got 'random'/)
})

test("--explain prints the plan before running; --dry-run stops there (heat on 3 ranks)", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--explain", "--dry-run"])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /^plan: 1-D grid 1000 points \(spacing 0\.001001\) on 3 ranks$/m)
  t.regex(run.stdout, /^1\s+\[334, 667\)\s+333\s+349\s+0,2$/m)
  t.regex(run.stdout, /ghost faces to neighbours .*: 4 messages, 256 B per run — buffer/)
  t.regex(run.stdout, /^placement: 3 ranks \(partitions\) on 2 threads: 0–1, 2 — the same results as 3 threads$/m)
  t.notRegex(run.stdout, /^heat: /m, "nothing ran")
  const json = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--explain", "--json", "--dry-run"])
  const { plan } = JSON.parse(json.stdout) as { plan: { ranks: number; ghost: number } }
  t.like(plan, { ranks: 3, ghost: 8 })
})

test("bad parameters and impossible plans are refused before any rank starts (exit 2, naming the problem)", async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ["pipelines/heat.ts", ["--n", "2"], /--n: expected an integer ≥ 3, got '2'/],
    ["pipelines/heat.ts", ["--dt", "fast"], /--dt: expected a number, got 'fast'/],
    ["pipelines/heat.ts", ["--dt", "1e-4"], /explicit diffusion coefficient r = α·dt\/dx² = 0\.99\d* exceeds the stability bound 0\.5/],
    ["pipelines/heat.ts", ["--ranks", "1001"], /grid too small: 1000 points along dimension 0 on 1001 ranks/],
    ["pipelines/pi.ts", ["--samples", "0"], /--samples: expected an integer ≥ 1, got '0'/],
    ["pipelines/pi.ts", ["--sample", "10"], /unknown option '--sample' \(did you mean --samples\?\)/],
    ["pipelines/pi.ts", ["--ranks", "4", "--threads", "5"], /--threads: expected an integer in \[1, 4\] \(at most one thread per rank\), got '5'/],
  ]
  for (const [script, args, message] of cases) {
    const run = await runProgram(script, args)
    t.is(run.code, 2, `${script} ${args.join(" ")}: ${run.stderr}`)
    t.regex(run.stderr, message)
    t.is(run.stdout, "")
  }
})

test("--help lists the pipeline's own parameters with their defaults", async (t) => {
  const run = await runProgram("pipelines/heat2d.ts", ["--help"])
  t.is(run.code, 0)
  t.regex(run.stdout, /--n <int>\s+points per side \(default 1024\)/)
  t.regex(run.stdout, /--explain/)
})

test("pipelines/heat.ts is about ten lines of pipeline", (t) => {
  const source = readFileSync(new URL("../pipelines/heat.ts", import.meta.url), "utf8")
  const code = source.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("//") && !l.startsWith("import"))
  t.true(code.length <= 14, `${code.length} lines:\n${code.join("\n")}`)
})

test("the README's heat snippet is pipelines/heat.ts, line for line", (t) => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
  const snippet = /```ts\n(const grid = Grid\.line[\s\S]*?)```/.exec(readme)?.[1]
  const source = readFileSync(new URL("../pipelines/heat.ts", import.meta.url), "utf8")
  const lines = source.split("\n").map((l) => l.trim())
  t.truthy(snippet)
  for (const line of snippet!.trim().split("\n")) t.true(lines.includes(line.trim()), line)
})
