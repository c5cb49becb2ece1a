// --trace=FILE.json: a Chrome trace-event / Perfetto document with one track per rank, spans for collectives and
// blocked waits, and a flow arrow from each send to its arrival carrying the message's bytes.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { runProgram } from "../helpers.ts"

interface Event {
  readonly name: string
  readonly ph: string
  readonly ts: number
  readonly pid: number
  readonly tid: number
  readonly dur?: number
  readonly cat?: string
  readonly id?: number
  readonly args?: Record<string, number>
}

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
      while (open.length > 0 && open.at(-1)! <= x.ts) open.pop()
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
  t.true(Math.max(...waits.map((w) => w.dur!)) >= 20_000, `longest wait ${Math.max(...waits.map((w) => w.dur!))} µs`)
  for (let r = 0; r < 3; r++) {
    const collectives = events.filter((e) => e.ph === "X" && e.cat === "collective" && e.tid === r).map((e) => e.name)
    t.deepEqual(collectives, ["allreduce", "barrier", "barrier"], `rank ${r}`) // the program's barrier, then finalize's
  }
})

test("a pipeline: a valid document with a track per thread and its collectives as spans", async (t) => {
  const file = join(tmp, "heat.json")
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "2", `--trace=${file}`, "--n", "64", "--t", "0.0002"])
  t.is(run.code, 0, run.stderr)
  const events = checkFormat(t, file)
  // Its halos go through shared windows (no messages); the gather at the end is a collective on both threads.
  for (const r of [0, 1]) t.true(events.some((e) => e.ph === "X" && e.cat === "collective" && e.tid === r && e.name === "gatherv"), `thread ${r}`)
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
