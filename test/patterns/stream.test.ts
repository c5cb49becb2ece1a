import test from "ava"
import { Stream, type RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"
import { lineOf, threeStages, type StreamArgs } from "../fixtures/patterns.ts"

type Run = { results: string[]; trace: string[] } | null
const serial = (n: number) => Array.from({ length: n }, (_, i) => threeStages(lineOf(i), i))

for (const [ranks, replicas] of [[1, [1, 1, 1]], [2, [1, 1, 1]], [3, [1, 1, 1]], [4, [1, 1, 1]], [6, [1, 3, 1]], [8, [2, 3, 2]], [8, [1, 1, 1]]] as const)
  test(`items come out in order, equal to the serial stages, on ${ranks} ranks with stages on ${replicas.join("/")} ranks`, async (t) => {
    for (const items of [0, 1, 1003]) {
      const [run] = await onRanks<Run>(ranks, "patterns.ts", "stream", { items, ranks: [...replicas] } satisfies StreamArgs)
      t.deepEqual(run!.results, serial(items), `${items} items`)
    }
  })

test("stages work at once with at most `window` items in flight: the first result is back before the source is read to the end", async (t) => {
  const window = 5
  const [run] = await onRanks<Run>(4, "patterns.ts", "stream", { items: 200, window } satisfies StreamArgs)
  const { trace } = run!
  t.true(trace.indexOf("result 0") < trace.indexOf("read 199"))
  let read = 0
  for (const event of trace) {
    if (event.startsWith("read")) read++
    else t.true(read - Number(event.split(" ")[1]) <= window, `${read} read at ${event}`)
  }
})

test("layout: one rank per stage, replicas while ranks last, stages sharing ranks when too few, the rest idle", (t) => {
  const s = Stream.from([1])
    .map((x: number) => x, { name: "a" })
    .map((x: number) => x, { name: "b", ranks: 3 })
    .map((x: number) => x, { name: "c" })
  const show = (size: number) => s.layout(size).groups.map((g) => `${g.stages.join("+")}:${g.ranks.join(",")}`).join(" ")
  t.is(show(1), "")
  t.is(show(2), "a+b+c:1")
  t.is(show(3), "a+b:1 c:2")
  t.is(show(4), "a:1 b:2 c:3")
  t.is(show(5), "a:1 b:2,3 c:4")
  t.is(show(6), "a:1 b:2,3,4 c:5")
  t.deepEqual(s.layout(8).idle, [6, 7])
  t.throws(() => s.map((x) => x, { ranks: 0 }), { message: "Stream.map: ranks = 0 must be a positive integer" })
})

test("a stage that throws fails the run with its rank and stack", async (t) => {
  const error = await t.throwsAsync<RankFailed>(onRanks(3, "patterns.ts", "failingStream"))
  t.is(error!.failures.length, 1)
  t.like(error!.failures[0], { rank: 2, name: "RangeError", message: "item 5 cannot be done" })
  t.regex(error!.failures[0]!.stack, /badStage[\s\S]*fixtures\/patterns\.ts:\d+/)
})

test("ranks that build different streams fail at once, naming the rank that differs", async (t) => {
  const errors = await onRanks<{ tag: string; message: string }>(4, "patterns.ts", "badFarm", "stream")
  for (const e of errors) t.regex(e.message, /^Stream\.run: \[window, ranks per stage…\] = \[\d+, [12]\] differs between ranks \(rank 0: \[\d+, 1\], rank 2: \[\d+, 2\]\)/)
})
