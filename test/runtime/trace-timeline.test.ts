// --trace=FILE.json: a Chrome trace-event / Perfetto document with one track per rank, spans for collectives and
// blocked waits, and a flow arrow from each send to its arrival carrying the message's bytes.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import type { TraceEvent } from "../../src/runtime/traceTimeline.ts"
import { runProgram } from "../helpers.ts"

/** A written event as read back: any phase the format has (the check must see one the writer should not emit), numeric `args`. */
type Event = Omit<TraceEvent, "ph" | "args"> & { readonly ph: string; readonly args?: Readonly<Record<string, number>> }

const tmp = mkdtempSync(join(tmpdir(), "rankflow-trace-"))

/** Checks the document against the format; returns its events. */
function checkFormat(t: import("ava").ExecutionContext, path: string): Event[] {
  const document = JSON.parse(readFileSync(path, "utf8")) as { traceEvents: Event[] }
  const events = document.traceEvents
  t.true(Array.isArray(events) && events.length > 0)
  for (const e of events) {
    t.true(["X", "B", "E", "s", "f", "M"].includes(e.ph), `ph ${e.ph}`)
    t.true(Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e))
    if (e.ph !== "M") t.true(typeof e.ts === "number" && e.ts >= 0, JSON.stringify(e))
    if (e.ph === "X") t.true(typeof e.dur === "number" && e.dur >= 0, JSON.stringify(e))
  }
  // Per track: B/E balanced, and spans nest (a span starting inside another ends inside it).
  const tracks = new Map<string, Event[]>()
  for (const e of events) if (e.ph === "X" || e.ph === "B" || e.ph === "E") tracks.set(`${e.pid}/${e.tid}`, [...(tracks.get(`${e.pid}/${e.tid}`) ?? []), e])
  for (const [track, spans] of tracks) {
    t.is(spans.filter((e) => e.ph === "B").length, spans.filter((e) => e.ph === "E").length, track)
    const xs = spans.filter((e) => e.ph === "X").sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)
    const open: number[] = []
    for (const x of xs) {
      while (open.length > 0 && open.at(-1)! <= x.ts + 0.0005) open.pop() // a span that ends where the next begins (sums of decimal µs)
      if (open.length > 0) t.true(x.ts + x.dur! <= open.at(-1)! + 0.002, `${track}: ${x.name} at ${x.ts} overlaps its parent`)
      open.push(x.ts + x.dur!)
    }
  }
  // Flows: every start has exactly one finish with the same id, later and on another track.
  const starts = new Map(events.filter((e) => e.ph === "s").map((e) => [e.id, e]))
  const finishes = events.filter((e) => e.ph === "f")
  t.is(starts.size, events.filter((e) => e.ph === "s").length, "flow ids are unique")
  t.is(finishes.length, starts.size)
  for (const f of finishes) {
    const s = starts.get(f.id)
    t.truthy(s, `flow ${f.id} has no start`)
    t.not(s!.tid, f.tid)
    t.is(s!.args!.bytes, f.args!.bytes)
    t.is(s!.args!.tag, f.args!.tag)
    t.is(s!.args!.to, f.tid)
    t.is(f.args!.from, s!.tid)
  }
  return events
}

test("a 3-rank ring: every message is a flow from its send to its arrival with its bytes; waits and collectives are spans", async (t) => {
  const file = join(tmp, "ring.json")
  const run = await runProgram("test/fixtures/tracedRing.ts", ["--ranks", "3", `--trace=${file}`])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stderr, /^ +0 +10 /m, "the table of plain --trace is still printed")
  t.regex(run.stderr, /trace: \d+ events of 3 ranks written to /)
  const events = checkFormat(t, file)
  const names = events.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [e.tid, e.args!.name])
  t.deepEqual(names, [[0, "rank 0"], [1, "rank 1"], [2, "rank 2"]])
  // 4 rounds: rank r sends (r+1)·8 doubles to r+1 with tag 7; each has its flow to the right rank.
  const ringFlows = events.filter((e) => e.ph === "s" && e.args!.tag === 7)
  for (let r = 0; r < 3; r++) {
    const mine = ringFlows.filter((e) => e.tid === r)
    t.is(mine.length, 4, `rank ${r}`)
    for (const s of mine) t.deepEqual([s.args!.to, s.args!.bytes], [(r + 1) % 3, 64 * (r + 1)])
    const arrivals = events.filter((e) => e.ph === "f" && e.tid === (r + 1) % 3 && e.args!.tag === 7)
    t.deepEqual(new Set(arrivals.map((f) => f.id)), new Set(mine.map((s) => s.id)))
  }
  // Rank 0 computes 50 ms first: rank 1's first receive from it waits, as a span naming rank 0 and tag 7.
  const waits = events.filter((e) => e.ph === "X" && e.cat === "wait" && e.tid === 1 && e.name === "wait recv rank 0 tag 7")
  t.true(waits.length >= 1, "rank 1 waited on rank 0")
  // The wait lasted (rank 1 may start late on a loaded machine, so not necessarily the whole 50 ms), and it ended
  // only once rank 0 had sent: every thread's times are on one clock.
  const first = waits.reduce((a, b) => (a.ts <= b.ts ? a : b))
  const firstSend = ringFlows.filter((e) => e.tid === 0).reduce((a, b) => (a.ts <= b.ts ? a : b))
  t.true(first.dur! > 0, `first wait ${first.dur} µs`)
  t.true(first.ts + first.dur! >= firstSend.ts - 1, `the wait ends at ${first.ts + first.dur!} µs, rank 0 sent at ${firstSend.ts} µs`)
  for (let r = 0; r < 3; r++) {
    const collectives = events.filter((e) => e.ph === "X" && e.cat === "collective" && e.tid === r).map((e) => e.name)
    t.deepEqual(collectives, ["allreduce", "barrier", "barrier"], `rank ${r}`) // the program's barrier, then finalize's
  }
})

test("the hand-written halo exchange (sendrecvInto every step): every message a flow forward in time, each blocked receive a wait ending at its arrival", async (t) => {
  const file = join(tmp, "halo.json")
  const run = await runProgram("test/fixtures/tracedHalo.ts", ["--ranks", "3", `--trace=${file}`])
  t.is(run.code, 0, run.stderr)
  const events = checkFormat(t, file)
  const STEPS = 300
  // Exactly one flow per message: 300 each way between neighbours, tag 0 rightwards and tag 1 leftwards.
  const flows = events.filter((e) => e.ph === "s" && e.args!.tag! <= 1 && e.args!.bytes === 8)
  for (const [from, to, tag] of [[0, 1, 0], [1, 2, 0], [1, 0, 1], [2, 1, 1]] as const) {
    const mine = flows.filter((e) => e.tid === from && e.args!.to === to && e.args!.tag === tag)
    t.is(mine.length, STEPS, `${from} → ${to}`)
  }
  t.is(flows.filter((e) => (e.tid === 0 && e.args!.to === 2) || (e.tid === 2 && e.args!.to === 0)).length, 0)
  // Arrows point forward: a message's arrival is never marked before its send (threads share one clock).
  const starts = new Map(events.filter((e) => e.ph === "s").map((e) => [e.id, e]))
  for (const f of events.filter((e) => e.ph === "f")) t.true(f.ts >= starts.get(f.id)!.ts, `flow ${f.id}: sent at ${starts.get(f.id)!.ts}, arrived at ${f.ts}`)
  // A blocked receive is a wait span that ends where the message it waited for arrived, on its own track.
  for (const r of [0, 1, 2]) {
    const arrivals = events.filter((e) => e.ph === "f" && e.tid === r)
    const waits = spansOf(events, r, "wait").filter((w) => w.name.startsWith("wait recv rank"))
    t.true(waits.length > 0, `rank ${r} waited`)
    for (const w of waits) {
      // The exchange's receives name their tag; a collective's (any tag) do not.
      const [, peer, tag] = /^wait recv rank (\d+)(?: tag (\d+))?$/.exec(w.name)!
      const end = Math.round((w.ts + w.dur!) * 1000) / 1000
      const arrival = arrivals.find((a) => a.ts === end && a.args!.from === Number(peer) && (tag === undefined || a.args!.tag === Number(tag)))
      t.truthy(arrival, `rank ${r}: ${w.name} ending at ${end} µs ends with an arrival`)
    }
  }
  // Rank 0 computed 30 ms before step 150: rank 1 waited for its message, a span naming rank 0 and tag 0.
  const long = spansOf(events, 1, "wait", "wait recv rank 0 tag 0").filter((w) => w.dur! >= 10_000)
  t.true(long.length >= 1, "rank 1 waited on rank 0")
})

test("a long exchange: each pair's first 1024 messages are arrows, then one in 16 at both ends; every message still counted", async (t) => {
  const file = join(tmp, "halo-long.json")
  const STEPS = 3000
  const run = await runProgram("test/fixtures/tracedHalo.ts", ["--ranks", "3", `--trace=${file}`], undefined, { HALO_STEPS: String(STEPS) })
  t.is(run.code, 0, run.stderr)
  t.regex(run.stderr, /^≈: estimated from the \d+ of \d+ waits timed/m, "the table says its waiting time is an estimate")
  const events = checkFormat(t, file) // every recorded send has its arrival
  const other = (JSON.parse(readFileSync(file, "utf8")) as { otherData: { messageDetail: { full: number; every: number }; sent: Array<{ from: number; to: number; messages: number; bytes: number }> } }).otherData
  t.deepEqual(other.messageDetail, { full: 1024, every: 16 })
  for (const [from, to] of [[0, 1], [1, 0], [1, 2], [2, 1]] as const) {
    // The pair's messages: the exchange's 3000 (8 bytes each), and the few of the closing barrier (in the same sequence).
    const pair = other.sent.find((p) => p.from === from && p.to === to)!
    t.true(pair.messages >= STEPS && pair.messages <= STEPS + 4, `${from} → ${to}: ${pair.messages} messages`)
    t.true(pair.bytes >= 8 * STEPS && pair.bytes <= 8 * STEPS + 8 * (pair.messages - STEPS), `${from} → ${to}: ${pair.bytes} bytes`)
    const expected = Array.from({ length: pair.messages }, (_, n) => n).filter((n) => n < 1024 || n % 16 === 0).length
    t.is(events.filter((e) => e.ph === "s" && e.tid === from && e.args!.to === to).length, expected, `${from} → ${to}: arrows`)
  }
})

test("--trace-messages=all: every message of a long exchange is an arrow, and the waiting time is measured, not estimated", async (t) => {
  const file = join(tmp, "halo-all.json")
  const STEPS = 3000
  const run = await runProgram("test/fixtures/tracedHalo.ts", ["--ranks", "3", `--trace=${file}`, "--trace-messages=all"], undefined, { HALO_STEPS: String(STEPS) })
  t.is(run.code, 0, run.stderr)
  t.notRegex(run.stderr, /^≈/m, "no estimate: every wait was timed")
  const events = checkFormat(t, file)
  const other = (JSON.parse(readFileSync(file, "utf8")) as { otherData: { messageDetail: unknown; sent: Array<{ from: number; to: number; messages: number }> } }).otherData
  t.is(other.messageDetail, "all")
  for (const [from, to] of [[0, 1], [1, 0], [1, 2], [2, 1]] as const) {
    const pair = other.sent.find((p) => p.from === from && p.to === to)!
    t.true(pair.messages >= STEPS, `${from} → ${to}: ${pair.messages} messages`)
    t.is(events.filter((e) => e.ph === "s" && e.tid === from && e.args!.to === to).length, pair.messages, `${from} → ${to}: an arrow per message`)
  }
})

test("--trace-messages takes sampled or all, and only with --trace=FILE.json", async (t) => {
  const bad = await runProgram("test/fixtures/tracedHalo.ts", ["--ranks", "2", "--trace", "--trace-messages=all"])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--trace-messages: needs --trace=FILE\.json/)
  const typo = await runProgram("test/fixtures/tracedHalo.ts", ["--ranks", "2", `--trace=${join(tmp, "x.json")}`, "--trace-messages=every"])
  t.is(typo.code, 2)
  t.regex(typo.stderr, /--trace-messages: expected sampled or all, got 'every'/)
})

/** The complete spans of `cat` on thread `tid` (named `name`, if given), in time order. */
const spansOf = (events: ReadonlyArray<Event>, tid: number, cat: string, name?: string): Event[] =>
  events.filter((e) => e.ph === "X" && e.tid === tid && e.cat === cat && (name === undefined || e.name === name)).sort((a, b) => a.ts - b.ts)

/** Whether `inner` lies within `outer` (to the format's nanosecond rounding). */
const within = (inner: Event, outer: Event): boolean => inner.ts >= outer.ts - 0.002 && inner.ts + inner.dur! <= outer.ts + outer.dur! + 0.002

test("a pipeline: a valid document with a track per thread, its collectives and its stages as spans", async (t) => {
  const file = join(tmp, "heat.json")
  // 64 points to t = 0.02: 1966 tiny steps (microseconds each), so the loop's spans are sampled.
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "2", `--trace=${file}`, "--n", "64", "--t", "0.02"])
  t.is(run.code, 0, run.stderr)
  const events = checkFormat(t, file)
  const totals: number[] = []
  for (const r of [0, 1]) {
    // The gather at the end is a collective inside the pipeline's gather span.
    const gatherv = spansOf(events, r, "collective", "gatherv")
    const gather = spansOf(events, r, "stage", "gather")
    t.is(gather.length, 1, `thread ${r}`)
    t.true(gatherv.some((c) => within(c, gather[0]!)), `thread ${r}: gatherv inside the gather span`)
    // Small 1-D blocks exchange 8-wide ghosts every 8 steps. A cycle traced in detail is an exchange span, then one
    // stencil span for its sweeps; tiny steps are sampled, the cycles in between being "steps" spans. Together they
    // cover every step once, in order.
    const exchanges = spansOf(events, r, "stage", "exchange")
    const sweeps = spansOf(events, r, "stage", "stencil")
    const batches = spansOf(events, r, "stage", "steps")
    t.true(exchanges.length >= 1, `thread ${r}: ${exchanges.length} exchanges`)
    for (const e of exchanges) t.is((e.args!.step! - 1) % 8, 0, `thread ${r}: an exchange begins a cycle (step ${e.args!.step})`)
    t.deepEqual(sweeps.map((e) => e.args!.step), exchanges.map((e) => e.args!.step))
    for (const [k, s] of sweeps.entries()) {
      t.true(s.ts >= exchanges[k]!.ts + exchanges[k]!.dur! - 0.002, `thread ${r}: sweeps ${k} begin after exchange ${k} ends`)
      t.true(s.args!.steps! >= 1 && s.args!.steps! <= 8)
    }
    const covered = [...sweeps, ...batches].sort((a, b) => a.ts - b.ts)
    let next = 1
    for (const c of covered) {
      t.is(c.args!.step, next, `thread ${r}: ${c.name} at ${c.ts} continues at step ${next}`)
      next += c.args!.steps ?? 1
    }
    totals.push(next - 1)
  }
  t.is(totals[0], totals[1], "both threads swept every step")
  t.true(totals[0]! > 100, `${totals[0]} steps`)
})

test("spans of a known program: pipeline stages per step, range chunks, reductions, farm tasks and stream items", async (t) => {
  const file = join(tmp, "stages.json")
  const run = await runProgram("test/fixtures/tracedStages.ts", ["--ranks", "3", `--trace=${file}`])
  t.is(run.code, 0, run.stderr)
  const answers = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { chunks: number; farm: number[]; stream: number[] }
  t.deepEqual([answers.chunks, answers.farm, answers.stream], [15, [0, 1, 4, 9, 16, 25], [2, 4, 6, 8, 10]])
  const events = checkFormat(t, file)
  const STEPS = 5
  const chunks: number[] = []
  for (const r of [0, 1, 2]) {
    // The grid loop: exchange, stencil, map in that order at every step, on every thread.
    const stages = spansOf(events, r, "stage").filter((e) => ["exchange", "stencil", "map"].includes(e.name) && e.args?.step !== undefined)
    const expected = Array.from({ length: STEPS }, (_, k) => [`exchange ${k + 1}`, `stencil ${k + 1}`, `map ${k + 1}`]).flat()
    t.deepEqual(stages.map((e) => `${e.name} ${e.args!.step}`), expected, `thread ${r}`)
    for (let k = 1; k < stages.length; k++) t.true(stages[k]!.ts >= stages[k - 1]!.ts + stages[k - 1]!.dur! - 0.002, `thread ${r}: ${stages[k]!.name} after ${stages[k - 1]!.name}`)
    // The range pipeline's chunks: one map span each, with its chunk index.
    chunks.push(...spansOf(events, r, "stage", "map").flatMap((e) => (e.args?.chunk === undefined ? [] : [e.args.chunk])))
    // Both pipelines end in a reduction span with the collectives that combine the ranks' values inside it.
    const reductions = spansOf(events, r, "stage", "reduction")
    t.is(reductions.length, 2, `thread ${r}`)
    for (const red of reductions) t.true(spansOf(events, r, "collective").some((c) => within(c, red)), `thread ${r}: a collective inside the reduction at ${red.ts}`)
  }
  t.deepEqual(chunks.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5])
  // The farm: rank 0 manages, ranks 1 and 2 compute every task once; each task's result is sent to rank 0 after its span ends.
  t.deepEqual(spansOf(events, 0, "farm"), [])
  const tasks = [1, 2].flatMap((r) => spansOf(events, r, "farm", "task"))
  t.deepEqual(tasks.map((e) => e.args!.task).sort((a, b) => a! - b!), [0, 1, 2, 3, 4, 5])
  for (const task of tasks) {
    t.true(task.dur! >= 1000, `task ${task.args!.task} spins 2 ms: ${task.dur} µs`)
    const result = events.find((e) => e.ph === "s" && e.tid === task.tid && e.args!.to === 0 && e.args!.tag === task.args!.task! + 1 && e.ts >= task.ts + task.dur! - 0.002)
    t.truthy(result, `task ${task.args!.task}'s result leaves rank ${task.tid} after it`)
  }
  // The stream: stage "inc" on rank 1 and "twice" on rank 2 each compute every item, in order; rank 0 feeds and collects.
  t.deepEqual(spansOf(events, 0, "stream"), [])
  for (const r of [1, 2]) t.deepEqual(spansOf(events, r, "stream", "item").map((e) => e.args!.item), [0, 1, 2, 3, 4], `rank ${r}`)
})

test("a loop run in windows (a declared SIMD stencil, k steps per kernel call): an exchange span and a stencil span per window, covering every step once", async (t) => {
  const file = join(tmp, "windows.json")
  // A small L2 makes the planner run heat2d's loop as windows of 8 steps in one kernel call each (temporalBlocking.ts).
  const run = await runProgram("pipelines/heat2d.ts", ["--ranks", "2", `--trace=${file}`, "--n", "199", "--steps", "40"], undefined, { RANKFLOW_CACHE: "l1=4K,l2=64K" })
  t.is(run.code, 0, run.stderr)
  const events = checkFormat(t, file)
  for (const r of [0, 1]) {
    const exchanges = spansOf(events, r, "stage", "exchange")
    const sweeps = spansOf(events, r, "stage", "stencil")
    t.is(exchanges.length, 5, `thread ${r}: 40 steps in windows of 8`)
    t.deepEqual(sweeps.map((e) => e.args!.step), exchanges.map((e) => e.args!.step))
    let next = 1
    for (const [k, s] of sweeps.entries()) {
      t.true(s.ts >= exchanges[k]!.ts + exchanges[k]!.dur! - 0.002, `thread ${r}: window ${k} sweeps after its exchange`)
      t.is(s.args!.step, next)
      next += s.args!.steps!
    }
    t.is(next - 1, 40, `thread ${r}: every step swept once`)
  }
})

test("an unwritable trace file is refused before any rank starts", async (t) => {
  const run = await runProgram("test/fixtures/tracedRing.ts", ["--ranks", "3", `--trace=${join(tmp, "no-such-dir", "t.json")}`])
  t.is(run.code, 2)
  t.is(run.stderr, `rankflow: --trace: cannot write the timeline to '${join(tmp, "no-such-dir", "t.json")}': ENOENT\n`)
})

test("plain --trace writes no timeline, only the table", async (t) => {
  const run = await runProgram("test/fixtures/tracedRing.ts", ["--ranks", "2", "--trace"])
  t.is(run.code, 0, run.stderr)
  t.notRegex(run.stderr, /written to/)
  t.regex(run.stderr, /messages sent/)
})
