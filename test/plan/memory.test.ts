// The planner's memory check: grids whose fields cannot be allocated are refused before any rank starts.
import test from "ava"
import { Grid, GridTooLarge, Pipeline } from "rankflow"
import { checkFieldMemory, fieldBytes, MAX_TYPED_ARRAY_LENGTH } from "../../src/plan/memory.ts"
import { runProgram } from "../helpers.ts"

const heat = (n: number) =>
  Pipeline.distribute(Grid.line({ n, boundary: Grid.dirichlet(0) }), () => 0)
    .iterate(1, (s) => s.haloExchange().stencil((u, i) => u[i]!))
    .gather()

test("MAX_TYPED_ARRAY_LENGTH is V8's: one more element is refused without allocating", (t) => {
  t.throws(() => new Float64Array(MAX_TYPED_ARRAY_LENGTH + 1), { instanceOf: RangeError, message: /Invalid typed array length/ })
})

test("fields count every rank's double-buffered block with ghosts, and the gathered result", (t) => {
  const plan = Pipeline.plan(heat(1000), 4)
  const blocks = plan.source.kind === "grid" ? plan.source.localLength.reduce((a, b) => a + b, 0) : NaN
  t.is(fieldBytes(plan), 2 * 8 * blocks + 8 * 1000)
  t.notThrows(() => checkFieldMemory(plan, 1e6))
  const error = t.throws(() => checkFieldMemory(plan, 10_000), { instanceOf: GridTooLarge })
  t.like(error, { points: 1000, bytes: fieldBytes(plan), limit: 10_000 })
})

test("a block or a gathered result longer than a V8 typed array is refused, whatever the memory", (t) => {
  t.regex(t.throws(() => checkFieldMemory(Pipeline.plan(heat(1e10), 2), Infinity), { instanceOf: GridTooLarge })!.message, /^grid too large: 10000000000 points need 37\.3 GiB for one rank's block of \d+ values, more than a V8 typed array holds/)
  t.regex(t.throws(() => checkFieldMemory(Pipeline.plan(heat(1e10), 100), Infinity), { instanceOf: GridTooLarge })!.message, /for the gathered result, more than a V8 typed array holds .*reduce instead of gathering/)
})

test("a grid plan on 10^6 ranks does not overflow the stack", (t) => {
  t.is(Pipeline.plan(heat(1e7), 1e6).ranks, 1e6)
})

test("heat --n 1e11 exits 2 naming points, bytes and the limit, before any rank starts", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--n", "1e11", "--dt", "1e-30", "--t", "1e-30", "--ranks", "1000", "--threads", "2"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /^rankflow: grid too large: 100000000000 points need [0-9.]+ GiB /)
  t.is(run.stdout, "")
})
