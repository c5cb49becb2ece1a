// Declared linear stencils (Stencil.linear / heat / jacobi): the WebAssembly
// SIMD sweep gives the same bits as the JavaScript sweep of the same
// operations, for random terms, radii (1–3), dimensions (1–3), Float64 and
// Float32, periodic / Neumann / Dirichlet edges, term counts that run the
// unrolled kernels (3, 5, 7, 9) and the table-driven one, on 1, 2, 3, 4 and 8
// ranks (and 8 partitions on 2 threads) — and the same bits on every rank count.
import test from "ava"
import fc from "fast-check"
import { explain, Grid, InvalidArgument, InvalidPipeline, Pipeline, Stencil } from "rankflow"
import { onRanks } from "../helpers.ts"
import type { LinearCase } from "../fixtures/linearStencils.ts"

const caseArb: fc.Arbitrary<LinearCase> = fc
  .record({ dims: fc.constantFrom(1, 2, 3), radius: fc.integer({ min: 1, max: 3 }), count: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 9, 10), steps: fc.integer({ min: 1, max: 5 }) })
  .chain(({ dims, radius, count, steps }) =>
    fc.record({
      // Enough points per rank for 8 partitions and a radius-3 ghost, plus a remainder.
      shape: fc.array(fc.integer({ min: dims === 1 ? 30 : dims === 2 ? 14 : 9, max: dims === 1 ? 61 : dims === 2 ? 23 : 12 }), { minLength: dims, maxLength: dims }),
      sides: fc.array(fc.constantFrom("periodic" as const, "neumann" as const, "dirichlet" as const), { minLength: dims, maxLength: dims }),
      type: fc.constantFrom("float64" as const, "float32" as const),
      terms: fc.array(
        fc.tuple(
          fc.array(fc.integer({ min: -radius, max: radius }), { minLength: dims, maxLength: dims }),
          fc.double({ min: -0.6, max: 0.6, noNaN: true }),
        ),
        { minLength: count, maxLength: count },
      ),
      increment: fc.option(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { nil: undefined }),
      steps: fc.constant(steps),
    }),
  )

const cases = fc.sample(caseArb, { numRuns: 24, seed: 1313 }).map((c) => (c.increment === undefined ? (({ increment: _, ...rest }) => rest)(c) : c)) as LinearCase[]

interface Got {
  simd: string
  js: string
  type: string
  simdPooled: boolean
  jsPooled: boolean
}

let reference: Got[] | undefined

for (const [threads, partitions] of [[1, 1], [2, 2], [3, 3], [4, 4], [8, 8], [2, 8]] as const) {
  const what = threads === partitions ? `${threads} rank${threads > 1 ? "s" : ""}` : `${partitions} partitions on ${threads} threads`
  test.serial(`24 random declared stencils: the SIMD sweep equals the JavaScript sweep bit for bit on ${what}`, async (t) => {
    const results = await onRanks<Array<Got | null | undefined>>(threads, "linearStencils.ts", "runCases", { cases, ...(threads === partitions ? {} : { partitions }) })
    const got = results[0]! as Got[]
    cases.forEach((c, k) => {
      const g = got[k]!
      t.is(g.simd, g.js, JSON.stringify(c))
      t.is(g.type, c.type === "float64" ? "Float64Array" : "Float32Array")
      t.true(g.simdPooled, "the SIMD run's field lives in the kernel memory")
      t.false(g.jsPooled, "the JavaScript run's field is a plain array")
    })
    // Every rank count gives the bits of one rank.
    if (reference === undefined) reference = got
    else cases.forEach((c, k) => t.is(got[k]!.simd, reference![k]!.simd, JSON.stringify(c)))
    t.true(results.slice(1).every((r) => r.every((v) => v === undefined || v === null)))
  })
}

test("Stencil.heat matches the hand-written heat point functions of the benchmarks bit for bit (1-D and 2-D, 2 ranks)", async (t) => {
  const [fps] = await onRanks<string[]>(2, "linearStencils.ts", "heatAgainstPointFunctions")
  const [a, b, c, d] = fps!
  t.is(typeof a, "string")
  t.is(a, b)
  t.is(c, d)
  t.not(a, c)
})

test("explain names each stencil's kernel and why", (t) => {
  const grid = Grid.plane({ n: 64, boundary: Grid.dirichlet(0) })
  const lines = (p: Pipeline<unknown>) => explain(Pipeline.plan(p, 2))
  const simd = lines(Pipeline.distribute(grid, () => 1).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.1, 2), { diffusion: 0.1 })).gather())
  t.regex(simd, /stencil heat \(radius 1, r = 0\.1\) — WebAssembly SIMD f64x2 sweep \(linear, constant weights, 5 terms unrolled, update form\)/)
  const f32 = lines(Pipeline.distribute(grid, () => 1, { type: "float32" }).iterate(3, (s) => s.haloExchange().stencil(Stencil.jacobi(2))).gather())
  t.regex(f32, /stencil jacobi \(radius 1\) — WebAssembly SIMD f32x4 sweep/)
  t.regex(lines(Pipeline.distribute(grid, () => 1).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.2, 2))).gather()), /stencil heat \(radius 1, r = 0\.2\) — WebAssembly SIMD/, "Stencil.heat declares its diffusion number")
  t.throws(() => Pipeline.plan(Pipeline.distribute(grid, () => 1).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.3, 2))).gather(), 2), { message: /0\.3 exceeds the stability bound 0\.25/ })
  const js = lines(Pipeline.distribute(grid, () => 1).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.1, 2), { kernel: "js" })).gather())
  t.regex(js, /JavaScript sweep \(kernel: "js" requested\)/)
  const fn = lines(Pipeline.distribute(grid, () => 1).iterate(3, (s) => s.haloExchange().stencil((u, i) => u[i]!)).gather())
  t.regex(fn, /JavaScript sweep \(a point function\)/)
  const line = Grid.line({ n: 1000, boundary: Grid.dirichlet(0) })
  const heat1d = lines(Pipeline.distribute(line, () => 1).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.1))).gather())
  t.regex(heat1d, /WebAssembly SIMD f64x2 sweep \(linear, constant weights, 3 terms unrolled, update form; in windows of several steps, two steps per pass over the block\)/)
  t.notRegex(simd, /two steps per pass/, "2-D stencils sweep one step per pass")
  t.notRegex(lines(Pipeline.distribute(line, () => 1, { type: "float32" }).iterate(3, (s) => s.haloExchange().stencil(Stencil.heat(0.1))).gather()), /two steps per pass/, "the paired kernel is Float64 only")
  const int = lines(Pipeline.distribute(grid, () => 1, { type: "int32" }).iterate(3, (s) => s.haloExchange().stencil(Stencil.jacobi(2))).gather())
  t.regex(int, /JavaScript sweep \(int32 field: the SIMD kernels are for float64 and float32\)/)
})

test("a declared stencil for other dimensions than the grid's, or a bad declaration, fails early and names the problem", (t) => {
  const p = Pipeline.distribute(Grid.plane({ n: 16 }), () => 1).iterate(2, (s) => s.haloExchange().stencil(Stencil.heat(0.1))).gather()
  const e = t.throws(() => Pipeline.plan(p, 2), { instanceOf: InvalidPipeline })
  t.regex(e.message, /declared for 1 dimension but the grid has 2/)
  t.throws(() => Stencil.linear({ offsets: [[[1, 0], 0.5], [[1], 0.5]] }), { instanceOf: InvalidArgument, message: /one offset per dimension \(2\)/ })
  t.throws(() => Stencil.linear({ offsets: [[1.5, 1]] }), { instanceOf: InvalidArgument, message: /integers/ })
  t.throws(() => Stencil.heat(Number.NaN), { instanceOf: InvalidArgument, message: /finite/ })
  t.throws(() => Stencil.linear({ offsets: [] }), { instanceOf: InvalidArgument, message: /at least one term/ })
})

test("a declared stencil's radius is the farthest offset: the planner widens the ghosts for it", (t) => {
  const s = Stencil.linear({ centre: 0.5, offsets: [[[0, -3], 0.25], [[2, 0], 0.25]] })
  t.is(s.radius, 3)
  t.deepEqual(s.terms[0], { offset: [0, 0], weight: 0.5 })
  const plan = Pipeline.plan(Pipeline.distribute(Grid.plane({ n: 40 }), () => 1).iterate(2, (x) => x.haloExchange().stencil(s)).gather(), 2)
  t.true(plan.ghost >= 3)
})
