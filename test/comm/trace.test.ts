// A rank's Trace counts every message and blocking call exactly, and times waits by one rule with or without a
// timeline: a receive from a known rank is timed when the message it waits for is one of its pair's first
// MessageDetail.full, then one in MessageDetail.every; other waits always. Driven here call by call, in the
// engine's order (a blocking call begins, fails an attempt, takes its message, ends).
import test from "ava"
import { BlockedOp } from "../../src/transport/doorbell.ts"
import { kindOf } from "../../src/comm/dtype.ts"
import { MessageDetail, Trace } from "../../src/comm/trace.ts"

/** `count` blocked receives of 8-byte messages from rank 1, each taken when its wait ends. */
function receive(trace: Trace, count: number, peer = 1): void {
  for (let i = 0; i < count; i++) {
    trace.waitBegins()
    trace.blocked(BlockedOp.recv, peer, 0)
    trace.arrivesNow()
    trace.arrived(1, 0, 8)
    trace.waitEnds()
  }
}

/** The waits a sampled Trace times among a pair's first `count` messages. */
const timedOf = (count: number): number => Array.from({ length: count }, (_, n) => n).filter((n) => n < MessageDetail.full || n % MessageDetail.every === 0).length

for (const [name, timeline] of [["plain --trace (no timeline)", false], ["--trace=FILE.json (sampled timeline)", true]] as const) {
  test(`${name}: a pair's first ${MessageDetail.full} receives are all timed, then one in ${MessageDetail.every}; every wait counted`, (t) => {
    const trace = new Trace(0, 2, timeline)
    receive(trace, MessageDetail.full)
    t.is(trace.summary().sampledWaits, undefined, "every wait timed so far: measured, not estimated")
    receive(trace, 2000 - MessageDetail.full)
    const summary = trace.summary()
    t.is(summary.waits, 2000)
    t.deepEqual(summary.sampledWaits, { waited: 2000, timed: timedOf(2000) })
    t.true(summary.waitSeconds >= 0)
  })
}

test("plain --trace: waits that are not a receive from a known rank are always timed", (t) => {
  const trace = new Trace(0, 2)
  receive(trace, MessageDetail.full + 100) // past the detailed prefix: receives from rank 1 are sampled now
  const before = trace.summary().sampledWaits!
  for (let i = 0; i < 50; i++) {
    trace.waitBegins()
    trace.blocked(BlockedOp.wait, 1, 0)
    trace.waitEnds()
    trace.waitBegins()
    trace.blocked(BlockedOp.recv, -1, -1) // ANY_SOURCE
    trace.arrived(1, 0, 8)
    trace.waitEnds()
  }
  t.deepEqual(trace.summary().sampledWaits, { waited: before.waited + 100, timed: before.timed + 100 })
})

test("--trace-messages=all times every wait: nothing estimated", (t) => {
  const trace = new Trace(0, 2, true, "all")
  receive(trace, 3000)
  t.is(trace.summary().waits, 3000)
  t.is(trace.summary().sampledWaits, undefined)
})

test("counts stay exact while waits are sampled: messages and bytes per destination and lane", (t) => {
  const trace = new Trace(0, 2)
  const FLOAT64 = kindOf(new Float64Array(1))
  for (let i = 0; i < 3000; i++) trace.sent(1, FLOAT64, 8, 0)
  receive(trace, 3000)
  const summary = trace.summary()
  t.deepEqual(summary.sentTo[1], { messages: 3000, bytes: 24_000 })
  t.deepEqual(summary.lanes.buffer, { messages: 3000, bytes: 24_000 })
  t.is(summary.timeline, undefined, "no timeline without one asked for")
})
