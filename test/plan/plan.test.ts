// The planner without threads: what it sends per step, the ghost width it
// picks, what it refuses and warns about (unstable declared coefficients too,
// also from the command line), and explain() for heat on 3 ranks.
import test from "ava"
import { StaleGhosts, explain, explainJson, type Field, Grid, InvalidPipeline, MAX, Pipeline, Range, type StencilOptions, SUM, UnstableScheme } from "rankflow"
import { runProgram } from "../helpers.ts"

const heatPipeline = (n: number, r: number) =>
  Pipeline.distribute(Grid.line({ n, boundary: Grid.dirichlet(0) }), (x) => Math.sin(Math.PI * x))
    .iterate(50_000, (s) => s.haloExchange().stencil((u, i) => u[i]! + r * (u[i - 1]! - 2 * u[i]! + u[i + 1]!), { diffusion: r, name: "heat" }))
    .gather()

test("heat on 3 ranks: explain() snapshot", (t) => {
  t.snapshot(explain(Pipeline.plan(heatPipeline(1000, 0.0998), 3)))
})

test("1-D halo messages: small blocks exchange 8-wide ghosts every 8 steps, 2·(p − 1) faces each time, for any rank count; gather brings p − 1 blocks", (t) => {
  for (let p = 1; p <= 64; p++) {
    const plan = Pipeline.plan(heatPipeline(1000, 0.1), p)
    const exchange = plan.stages.find((s) => s.stage.includes("haloExchange"))!
    t.is(exchange.runs, p === 1 ? 50_000 : 6250)
    t.is(plan.ghost, p === 1 ? 1 : 8)
    t.deepEqual(exchange.messages.map((m) => [m.count, m.bytes, m.transport]), p === 1 ? [] : [[2 * (p - 1), 16 * (p - 1) * 8, "buffer"]])
    t.is(plan.result.messages[0]?.count ?? 0, p - 1)
    if (plan.source.kind !== "grid") throw new Error("a grid plan")
    t.is(plan.source.layout.blocks.reduce((a, b) => a + b.count[0]!, 0), 1000)
  }
})

test("2-D: a 2 × 2 layout exchanges contiguous rows and packed columns, corners included via full-extent faces", (t) => {
  const p = Pipeline.distribute(Grid.plane({ n: 64 }), () => 0).iterate(3, (s) => s.haloExchange().stencil((u, i, row) => u[i - row]! + u[i + row]!)).gather()
  const plan = Pipeline.plan(p, 4)
  if (plan.source.kind !== "grid") throw new Error("a grid plan")
  t.deepEqual(plan.source.layout.dims, [2, 2])
  const exchange = plan.stages.find((s) => s.stage.includes("haloExchange"))!.messages[0]!
  t.is(exchange.count, 8) // each rank: one neighbour per dimension
  t.is(exchange.bytes, 8 * 34 * 8) // faces of 34 points (32 + 2 ghosts)
  t.regex(exchange.reason, /strided ones packed/)
  t.is(plan.bufferBytes, 2 * 34 * 34 * 8 + 4 * 34 * 8)
})

test("the ghost width follows the widest stencil, or a multiple of it to exchange less often; an explicit narrower one is refused", (t) => {
  const wide = (g?: number, n = 100) =>
    Pipeline.distribute(Grid.line({ n, ...(g === undefined ? {} : { ghost: g }) }), () => 1)
      .iterate(20, (s) => s.haloExchange().stencil((u, i) => u[i - 2]! + u[i + 2]!, { radius: 2 }))
      .gather()
  const exchangeEvery = (g: number | undefined, n?: number) => {
    const loop = Pipeline.plan(wide(g, n), 4).program[0]!
    return loop.kind === "iterate" ? (loop.exchangeEvery ?? 1) : 0
  }
  t.is(Pipeline.plan(wide(), 4).ghost, 16, "8 steps per exchange × radius 2")
  t.is(exchangeEvery(undefined), 8)
  t.is(Pipeline.plan(wide(undefined, 40), 4).ghost, 2, "blocks of 10 points cannot hold 16-wide ghosts")
  t.is(Pipeline.plan(wide(undefined, 4_000_000), 4).ghost, 2, "large blocks: exchanges are cheap next to the updates")
  t.is(Pipeline.plan(wide(3), 4).ghost, 3)
  t.is(exchangeEvery(3), 1)
  t.is(exchangeEvery(6), 3, "an explicit wider ghost frame: exchanges every ghost/radius steps")
  const error = t.throws(() => Pipeline.plan(wide(1), 4), { instanceOf: InvalidPipeline })
  t.regex(error.message, /radius 2 is wider than the grid's ghost width 1/)
})

test("an unstable explicit diffusion step is refused before running, with r and the bound (1/2, 1/4, 1/6)", (t) => {
  t.throws(() => Pipeline.plan(heatPipeline(1000, 0.51), 2), { instanceOf: UnstableScheme, message: /r = α·dt\/dx² = 0.51 exceeds the stability bound 0.5/ })
  t.notThrows(() => Pipeline.plan(heatPipeline(1000, 0.5), 2))
  const plane = (r: number) => Pipeline.distribute(Grid.plane({ n: 16 }), () => 0).iterate(1, (s) => s.haloExchange().stencil((u, i) => u[i]!, { diffusion: r })).gather()
  t.throws(() => Pipeline.plan(plane(0.26), 2), { instanceOf: UnstableScheme, message: /bound 0.25/ })
  const box = Pipeline.distribute(Grid.box({ n: 8 }), () => 0).iterate(1, (s) => s.haloExchange().stencil((u, i) => u[i]!, { diffusion: 0.2 })).gather()
  const error = t.throws(() => Pipeline.plan(box, 2), { instanceOf: UnstableScheme })
  t.is(error.bound, 1 / 6)
})

/** A one-step pipeline on a `dims`-D grid whose stencil declares `options`. */
const declaring = (dims: 1 | 2 | 3, options: StencilOptions) => {
  const grid = dims === 1 ? Grid.line({ n: 16 }) : dims === 2 ? Grid.plane({ n: 16 }) : Grid.box({ n: 8 })
  return Pipeline.distribute(grid, () => 0)
    .iterate(1, (s) => s.haloExchange().stencil((u: Float64Array, i: number) => u[i]!, { name: "scheme", ...options }))
    .gather()
}

test("a negative, NaN or infinite diffusion coefficient is refused, naming the stencil, the value and why", (t) => {
  const negative = t.throws(() => Pipeline.plan(declaring(1, { diffusion: -0.01 }), 2), { instanceOf: UnstableScheme })
  t.like(negative, { stage: "scheme", kind: "diffusion", coefficient: -0.01, bound: 0.5 })
  t.regex(negative.message, /^scheme: explicit diffusion coefficient r = α·dt\/dx² = -0.01 is negative: .*backward heat equation.*\[0, 0.5\]/)
  for (const bad of [NaN, Infinity, -Infinity]) {
    const error = t.throws(() => Pipeline.plan(declaring(2, { diffusion: bad }), 2), { instanceOf: UnstableScheme })
    t.regex(error.message, new RegExp(`^scheme: explicit diffusion coefficient r = α·dt/dx² = ${bad} is not a finite number`))
  }
  t.notThrows(() => Pipeline.plan(declaring(1, { diffusion: 0 }), 2), "r = 0 is stable (nothing diffuses)")
})

test("an advection Courant number: |C| ≤ 1 in 1-D, Σ|C_d| ≤ 1 in D dimensions (explicit upwind), signed per axis", (t) => {
  t.notThrows(() => Pipeline.plan(declaring(1, { advection: 1 }), 2))
  t.notThrows(() => Pipeline.plan(declaring(1, { advection: -0.9 }), 2), "the sign is the flow's direction")
  t.notThrows(() => Pipeline.plan(declaring(2, { advection: [0.5, -0.5] }), 2))
  t.notThrows(() => Pipeline.plan(declaring(3, { advection: 0.3 }), 2))
  const over = t.throws(() => Pipeline.plan(declaring(1, { advection: -1.2 }), 2), { instanceOf: UnstableScheme })
  t.like(over, { stage: "scheme", kind: "advection", coefficient: 1.2, bound: 1, declared: -1.2 })
  t.regex(over.message, /^scheme: advection Courant number C = c·dt\/dx = -1.2 \(Σ\|C_d\| = 1.2\) exceeds the stability bound 1 of explicit upwind/)
  const summed = t.throws(() => Pipeline.plan(declaring(2, { advection: [0.6, 0.5] }), 2), { instanceOf: UnstableScheme })
  t.like(summed, { coefficient: 1.1, declared: [0.6, 0.5] })
  t.regex(summed.message, /= \[0.6, 0.5\] \(Σ\|C_d\| = 1.1\)/)
  t.throws(() => Pipeline.plan(declaring(3, { advection: 0.34 }), 2), { instanceOf: UnstableScheme, message: /Σ\|C_d\| = 1.02/ })
  t.throws(() => Pipeline.plan(declaring(2, { advection: [0.1, NaN] }), 2), { instanceOf: UnstableScheme, message: /= \[0.1, NaN\] is not a finite number/ })
  t.throws(() => Pipeline.plan(declaring(2, { advection: [0.1, 0.2, 0.3] }), 2), { instanceOf: InvalidPipeline, message: /^scheme: advection must be one number or 2 numbers \(one per dimension of the 2-D grid\)/ })
})

test("a wave CFL number: C ≤ 1 in 1-D, √(Σ C_d²) ≤ 1 in D dimensions (leapfrog), never negative", (t) => {
  t.notThrows(() => Pipeline.plan(declaring(1, { wave: 1 }), 2))
  t.notThrows(() => Pipeline.plan(declaring(2, { wave: 0.7 }), 2), "0.7·√2 ≈ 0.99")
  t.notThrows(() => Pipeline.plan(declaring(2, { wave: [0.6, 0.8] }), 2), "√(0.36 + 0.64) = 1")
  const square = t.throws(() => Pipeline.plan(declaring(2, { wave: 0.75 }), 2), { instanceOf: UnstableScheme })
  t.like(square, { stage: "scheme", kind: "wave", bound: 1, declared: 0.75 })
  t.true(Math.abs(square.coefficient - 0.75 * Math.SQRT2) < 1e-15)
  t.regex(square.message, /^scheme: wave CFL number C = \|c\|·dt\/dx = 0.75 \(√\(Σ C_d²\) = 1.06\d*\) exceeds the stability bound 1 of leapfrog/)
  t.throws(() => Pipeline.plan(declaring(3, { wave: [0.5, 0.5, 0.75] }), 2), { instanceOf: UnstableScheme, message: /√\(Σ C_d²\) = 1.03/ })
  t.throws(() => Pipeline.plan(declaring(1, { wave: 1.01 }), 2), { instanceOf: UnstableScheme })
  const negative = t.throws(() => Pipeline.plan(declaring(2, { wave: [0.1, -0.2] }), 2), { instanceOf: UnstableScheme })
  t.like(negative, { coefficient: -0.2 })
  t.regex(negative.message, /= \[0.1, -0.2\] is negative/)
  t.throws(() => Pipeline.plan(declaring(1, { wave: Infinity }), 2), { instanceOf: UnstableScheme, message: /is not a finite number/ })
})

test("heat --alpha=-0.01 exits 2 naming the negative coefficient, before any rank starts", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--alpha=-0.01", "--ranks", "2"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /^rankflow: stencil#1: explicit diffusion coefficient r = α·dt\/dx² = -0.0998\d* is negative: /)
  t.is(run.stdout, "")
})

test("explain shows the declared stability numbers beside the radius", (t) => {
  const text = explain(Pipeline.plan(declaring(2, { diffusion: 0.1, advection: [0.25, -0.5], wave: 0.5 }), 2))
  t.regex(text, /stencil scheme \(radius 1, r = 0.1, Courant C = \[0.25, -0.5\], wave CFL = 0.5\)/)
})

test("a stencil that reads ghosts no exchange refreshed is an error before anything runs (unless it allows stale ghosts); consecutive exchanges merge", (t) => {
  const stale = Pipeline.distribute(Grid.line({ n: 50 }), () => 0).iterate(5, (s) => s.stencil((u, i) => u[i - 1]!)).gather()
  const error = t.throws(() => Pipeline.plan(stale, 2), { instanceOf: StaleGhosts, message: /stencil#1 reads ghosts that no haloExchange refreshed.*\.haloExchange\(\) before it/ })
  t.is(error.field, "u")
  // Stale after the first iteration only: the exchange comes after the stencil in the loop body.
  const late = Pipeline.distribute(Grid.line({ n: 50 }), () => 0).iterate(5, (s) => s.stencil((u, i) => u[i - 1]!).haloExchange()).gather()
  t.throws(() => Pipeline.plan(late, 2), { instanceOf: StaleGhosts })
  // Fresh ghosts, then a second stencil without an exchange between them.
  const second = Pipeline.distribute(Grid.line({ n: 50 }), () => 0).iterate(5, (s) => s.haloExchange().stencil((u, i) => u[i - 1]!).stencil((u, i) => u[i + 1]!, { name: "second" })).gather()
  t.throws(() => Pipeline.plan(second, 2), { instanceOf: StaleGhosts, message: /^second reads ghosts/ })
  const allowed = Pipeline.distribute(Grid.line({ n: 50 }), () => 0).iterate(5, (s) => s.stencil((u, i) => u[i - 1]!, { stale: "allow" })).gather()
  t.regex(Pipeline.plan(allowed, 2).stages.map((s) => s.stage).join("\n"), /stale ghosts allowed/)
  // Per field: exchanging u does not refresh v.
  const two = Pipeline.distribute(Grid.line({ n: 50 }), { u: () => 0, v: () => 1 })
    .iterate(5, (s) => s.haloExchange().stencil({ u: (f, i) => f.u[i - 1]! }, { reads: ["u"] }).stencil({ v: (f, i) => f.u[i + 1]! + f.v[i - 1]! }, { reads: ["u", "v"], name: "mix" }))
    .gather()
  const both = t.throws(() => Pipeline.plan(two, 2), { instanceOf: StaleGhosts, message: /^mix reads ghosts of u that no haloExchange refreshed since u last changed/ })
  t.is(both.field, "u")
  const twice = Pipeline.distribute(Grid.line({ n: 50 }), () => 0).iterate(5, (s) => s.haloExchange().haloExchange().stencil((u, i) => u[i - 1]!)).gather()
  const plan = Pipeline.plan(twice, 2)
  t.deepEqual(plan.warnings, [])
  t.is(plan.merged[0], "two consecutive haloExchange stages → one exchange")
  t.is(plan.stages.filter((s) => s.stage.includes("haloExchange")).length, 1)
})

test("a scan runs along 1-D grids only", (t) => {
  const p = Pipeline.distribute(Grid.plane({ n: 8 }), () => 1)
  // @ts-expect-error scan is defined on 1-D fields only
  p.scan(SUM)
  const forced = (p as unknown as Field<1>).scan(SUM) as unknown as typeof p // what plain JavaScript could do
  t.throws(() => Pipeline.plan(forced.gather(), 2), { instanceOf: InvalidPipeline, message: /1-D grid, not a 2-D one/ })
})

test("range plans: chunks per rank, chunk-ordered results, idle ranks warned about", (t) => {
  const p = Pipeline.distribute(Range.of(10_000, { chunk: 1000 })).mapLocal((c) => c.end - c.start).reduce(MAX)
  const plan = Pipeline.plan(p, 4)
  if (plan.source.kind !== "range") throw new Error("a range plan")
  t.deepEqual(plan.source.perRank.map((c) => c.length), [3, 3, 2, 2])
  t.regex(plan.result.notes.join(), /folded with MAX in chunk order on rank 0: the same result on any rank count/)
  t.deepEqual(Pipeline.plan(p, 16).warnings, ["6 of 16 ranks have no chunk (10 chunks of 1000); use a smaller chunk or fewer ranks"])
  const json = JSON.parse(explainJson(plan)) as { source: { chunks: number } }
  t.is(json.source.chunks, 10)
})

test("a dynamic range plan assigns no chunk ahead, says how they are taken, and warns of more ranks than chunks", (t) => {
  const p = Pipeline.distribute(Range.of(10_000, { chunk: 1000 }), { distribution: "dynamic" }).mapLocal((c) => c.end - c.start).reduce(MAX)
  const plan = Pipeline.plan(p, 4)
  if (plan.source.kind !== "range") throw new Error("a range plan")
  t.deepEqual(plan.source.perRank, [[], [], [], []])
  t.deepEqual(plan.warnings, [])
  const text = explain(plan)
  t.regex(text, /\(dynamic, seed \d+\)/)
  t.regex(text, /chunks taken on demand: each rank, when free, takes the next of the 10 from a shared counter/)
  t.regex(text, /a free rank takes the next chunk from a counter in shared memory \(comm\.fetchAndAdd\): no message per chunk/)
  t.deepEqual(Pipeline.plan(p, 16).warnings, ["6 of 16 ranks have no chunk (10 chunks of 1000); use a smaller chunk or fewer ranks"])
})

test("planning is fast: 4096 ranks on a 2-D grid in well under a second (bound 5 s: a loaded machine, not a quadratic plan)", (t) => {
  const p = Pipeline.distribute(Grid.plane({ n: 4096 }), () => 0).iterate(10, (s) => s.haloExchange().stencil((u, i, row) => u[i + row]!)).gather()
  const t0 = performance.now()
  const plan = Pipeline.plan(p, 4096)
  t.true(performance.now() - t0 < 5000)
  if (plan.source.kind !== "grid") throw new Error("a grid plan")
  t.deepEqual(plan.source.layout.dims, [64, 64])
})

test("explain says whether the rank layout was chosen by the grid's extent or the pipeline fixed it", (t) => {
  const plane = (rankDims?: number[]) => Pipeline.distribute(Grid.plane({ n: 64 }), () => 0, rankDims === undefined ? {} : { rankDims }).gather()
  t.regex(explain(Pipeline.plan(plane(), 4)), /^layout: 2 × 2 ranks \(chosen by extent\)/m)
  t.regex(explain(Pipeline.plan(plane([4, 1]), 4)), /^layout: 4 × 1 ranks \(as given\)/m)
})
