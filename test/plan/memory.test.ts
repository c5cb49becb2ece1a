// The planner's memory check: grids whose fields cannot be allocated are refused before any rank starts.
import { totalmem } from "node:os"
import test from "ava"
import { Grid, GridTooLarge, Pipeline } from "rankflow"
import { checkFieldMemory, checkGridSize, fieldBytes, MAX_TYPED_ARRAY_LENGTH } from "../../src/plan/memory.ts"
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

test("before planning, a grid is refused for its size alone: two copies of every point and the gathered result", (t) => {
  t.notThrows(() => checkGridSize(heat(1000).description, 4, 24_000))
  const error = t.throws(() => checkGridSize(heat(1000).description, 4, 23_999), { instanceOf: GridTooLarge })
  t.like(error, { points: 1000, bytes: 24_000, limit: 23_999 })
  t.regex(t.throws(() => checkGridSize(heat(1e10).description, 2, Infinity))!.message, /each rank's block of at least 5000000000 values/)
})

test("a grid plan on 10^6 ranks does not overflow the stack", (t) => {
  t.is(Pipeline.plan(heat(1e7), 1e6).ranks, 1e6)
})

test("heat --n 1e11 exits 2 naming points, bytes and the limit, before any rank starts", async (t) => {
  const beyondMemory = String(Math.ceil((totalmem() / 24) * 1.1)) // 24 B a point: two copies and the gathered result
  for (const args of [["--n", "1e11"], ["--n", beyondMemory, "--ranks", "1000"]]) {
    const run = await runProgram("pipelines/heat.ts", args)
    t.is(run.code, 2, run.stderr)
    t.regex(run.stderr, /^rankflow: grid too large: \d+ points need [0-9.]+ GiB .*\([0-9.]+ GiB\); [^\n]+\n$/)
    t.is(run.stdout, "")
  }
})
