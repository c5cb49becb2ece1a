// The silent mistakes of issue 12 fail loudly, by default, before the first
// step: a stencil reading beyond its radius (no --debug needed), a forgotten
// haloExchange, a stencil written for another dimension (plain JS), a field
// read at an offset without being declared in `reads`, a previous level read
// at a neighbour, an output naming no field. Each is shown next to the same
// pipeline done right, which runs. (Negative or NaN coefficients, until's
// non-convergence, NaN measures and plain-JS reductions are tested in
// test/plan/plan.test.ts, until.test.ts and reduce-plain-js.test.ts.)
import test from "ava"
import { Grid, InvalidArgument, Pipeline, type RankFailed } from "rankflow"
import { CASES, STEPPED, type CaseName } from "../fixtures/mistakes.ts"
import { onRanks, runProgram } from "../helpers.ts"

const PROGRAM = "test/fixtures/mistakesProgram.ts"
const PLAIN_JS = "test/fixtures/mistakesPlainJs.mjs"
const HANG_MS = 120_000
const fingerprintOf = (stdout: string): string | undefined => /fingerprint (\w+)/.exec(stdout)?.[1]

/** Runs a case of fixtures/mistakes.ts as a program; the first line of stderr with "rank N" made "rank ?". */
async function program(name: CaseName, ranks: number, extra: string[] = []) {
  const run = await runProgram(PROGRAM, ["--ranks", String(ranks), "--case", name, ...extra], HANG_MS)
  return { ...run, first: run.stderr.split("\n")[0]!.replace(/rank \d+ failed/, "rank ? failed") }
}

const TOO_FAR = "rankflow: rank ? failed: StencilOutOfRadius: reachesThree: the stencil read the point at offset [3] from its centre, beyond its declared radius 1; declare { radius: 3 } or fix the stencil"

test("a stencil reading u[i + 3] with the default radius fails at set-up without --debug, naming the stage, offset [3] and radius 1 (Pipeline.main, 1–3 ranks, also on 3 partitions of 2 threads)", async (t) => {
  for (const args of [["1"], ["2"], ["3"], ["3", "--threads", "2"]]) {
    const run = await program("tooFar", Number(args[0]), args.slice(1))
    t.is(run.code, 1, run.stdout)
    t.is(run.first, TOO_FAR, run.stderr)
    t.false(run.stdout.includes(STEPPED), "no step ran")
  }
  const debug = await program("tooFar", 2, ["--debug"])
  t.is(debug.code, 1)
  t.is(debug.first, TOO_FAR, "--debug finds the same read")
})

test("the same stencil reading u[i + 1], or declaring { radius: 3 }, runs, identically on 1 and 3 ranks", async (t) => {
  for (const name of ["tooFarFixed", "tooFarDeclared"] as const) {
    const runs = [await program(name, 1), await program(name, 3)]
    for (const run of runs) {
      t.is(run.code, 0, run.stderr)
      t.true(run.stdout.includes(STEPPED))
    }
    t.is(fingerprintOf(runs[0]!.stdout), fingerprintOf(runs[1]!.stdout), name)
  }
})

test("Pipeline.run of a stencil reading u[i + 3] with radius 1 fails on every rank count with StencilOutOfRadius (offset [3], radius 1)", async (t) => {
  for (const [threads, partitions] of [[1, 1], [2, 2], [3, 3], [2, 5]] as const) {
    const error = await t.throwsAsync(onRanks(threads, "mistakes.ts", "runCase", { name: "tooFar", partitions }))
    const failures = (error as RankFailed).failures
    t.true(failures.length >= 1, `${partitions} partitions on ${threads} threads`)
    for (const f of failures) {
      t.is(f.name, "StencilOutOfRadius")
      t.is(f.message, "reachesThree: the stencil read the point at offset [3] from its centre, beyond its declared radius 1; declare { radius: 3 } or fix the stencil")
    }
  }
})

test("a forgotten haloExchange is refused with StaleGhosts by Pipeline.main before any rank starts (exit 2, naming the stage)", async (t) => {
  for (const ranks of [1, 3]) {
    const run = await program("noExchange", ranks)
    t.is(run.code, 2)
    t.is(
      run.stderr,
      'rankflow: smooth reads ghosts that no haloExchange refreshed since the last update: its result would depend on the rank count. Add .haloExchange() before it, or declare { stale: "allow" } for a scheme that wants lagged ghosts\n',
    )
    t.is(run.stdout, "")
  }
})

test("a two-field stencil reading v[i + row] while declaring reads: ['u'] fails at set-up with StencilOutOfRadius naming v and the offset; reads: ['u', 'v'] runs, identically on 1 and 3 ranks", async (t) => {
  for (const ranks of [1, 3]) {
    const run = await program("unreadNeighbour", ranks)
    t.is(run.code, 1, run.stdout)
    t.is(run.first, 'rankflow: rank ? failed: StencilOutOfRadius: coupled: the stencil read the point of v at offset [1, 0] from its centre, beyond the centre it may read; add "v" to its reads (and a radius ≥ 1), or fix the stencil')
    t.false(run.stdout.includes(STEPPED))
  }
  const fixed = [await program("unreadNeighbourFixed", 1), await program("unreadNeighbourFixed", 3)]
  for (const run of fixed) t.is(run.code, 0, run.stderr)
  t.regex(fixed[0]!.stdout, /u: Float64Array\(120\)/)
  t.is([...fixed[0]!.stdout.matchAll(/fingerprint (\w+)/g)].map((m) => m[1]).join(), [...fixed[1]!.stdout.matchAll(/fingerprint (\w+)/g)].map((m) => m[1]).join())
})

test("a leapfrog stencil reading f.prev.u[i + 1] fails at set-up: previous levels are never exchanged", async (t) => {
  const run = await program("prevNeighbour", 2)
  t.is(run.code, 1, run.stdout)
  t.is(run.first, "rankflow: rank ? failed: StencilOutOfRadius: leapfrog: the stencil read the point of prev.u at offset [1] from its centre, beyond the centre it may read; previous levels are never exchanged: read prev.u at the centre only")
  t.false(run.stdout.includes(STEPPED))
  const error = await t.throwsAsync(onRanks(2, "mistakes.ts", "runCase", { name: "prevNeighbour", debug: true }))
  t.is((error as RankFailed).failures[0]!.name, "StencilOutOfRadius", "--debug agrees")
})

test("a stencil of fields u and v writing 'w' is refused with InvalidArgument naming the fields there are (building it, and through Pipeline.main with exit 2)", async (t) => {
  const error = t.throws(() => CASES.unknownOutput(), { instanceOf: InvalidArgument })
  t.is(error!.message, "stencil: field = w is not a field of this grid (its fields: u, v)")
  const fields = Pipeline.distribute(Grid.plane({ n: 8 }), { h: () => 1, hu: { init: () => 0, type: "float32" } })
  t.throws(() => fields.stencil({ hv: (f: { h: Float64Array }, i: number) => f.h[i]! } as never), { instanceOf: InvalidArgument, message: "stencil: field = hv is not a field of this grid (its fields: h, hu)" })
  t.throws(() => fields.stencil({ h: (f, i) => f.h[i]! }, { reads: ["h", "q" as "h"] }), { instanceOf: InvalidArgument, message: "stencil: field = q is not a field of this grid (its fields: h, hu)" })
  t.throws(() => fields.stencil({}), { instanceOf: InvalidArgument, message: /must name at least one field \(h, hu\)/ })
  const run = await program("unknownOutput", 2)
  t.is(run.code, 2)
  t.is(run.stderr, "rankflow: stencil: field = w is not a field of this grid (its fields: u, v)\n")
  t.is(run.stdout, "")
})

const MISREAD_1D = /^rankflow: rank \d failed: StencilMisread: laplace2d: it read u\[\d+\.\d+\], not an integer index: are its parameters those of a 1-D stencil \(u, i, x\)\?$/

test("plain JS: a 2-D stencil (u, i, row) on a 1-D grid fails at set-up with StencilMisread instead of NaN, on 1 and 3 ranks — also on a periodic line whose first point sits at x = 0", async (t) => {
  for (const name of ["rowOnLine", "rowOnPeriodicLine"])
    for (const ranks of ["1", "3"]) {
      const run = await runProgram(PLAIN_JS, ["--ranks", ranks, "--case", name], HANG_MS)
      t.is(run.code, 1, `${name} on ${ranks}: ${run.stdout}`)
      t.regex(run.stderr.split("\n")[0]!, MISREAD_1D)
      t.notRegex(run.stdout, /NaN|result/)
    }
  const right = await runProgram(PLAIN_JS, ["--ranks", "3", "--case", "rowOnPlane"], HANG_MS)
  t.is(right.code, 0, right.stderr)
  t.regex(right.stdout, /^result: Float64Array\(144\) min 0 max 0\.\d+ fingerprint \w+$/m)
})

test("plain JS: point functions with the parameters of a higher dimension (2-D on a line, 3-D on a plane) fail at set-up naming both dimensions", async (t) => {
  const cases: Array<[string, string]> = [
    ["planeOnLine", "stencil#1: its point function takes 5 parameters, more than the 3 a 1-D grid passes (u, i, x): a stencil written for 2-D on a 1-D grid?"],
    ["boxOnPlane", "stencil#1: its point function takes 7 parameters, more than the 5 a 2-D grid passes (u, i, stride, x, y): a stencil written for 3-D on a 2-D grid?"],
  ]
  for (const [name, message] of cases) {
    const run = await runProgram(PLAIN_JS, ["--ranks", "2", "--case", name], HANG_MS)
    t.is(run.code, 1)
    t.is(run.stderr.split("\n")[0]!.replace(/rank \d failed/, "rank ? failed"), `rankflow: rank ? failed: StencilMisread: ${message}`)
  }
})

test("a negative diffusivity on the command line (--alpha=-0.01) is refused before any rank starts, naming the coefficient", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "2", "--alpha=-0.01"], HANG_MS)
  t.is(run.code, 2)
  t.regex(run.stderr, /^rankflow: stencil#1: explicit diffusion coefficient r = α·dt\/dx² = -0\.0998\d* is negative: .* r must lie in \[0, 0\.5\]\n$/)
  t.is(run.stdout, "")
})
