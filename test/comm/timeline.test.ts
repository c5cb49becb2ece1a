// A rank's timeline records fixed-size events in chunks (never grown by copying), keeps a receive's wait and
// its arrival as one staged event until the next is recorded, and the writer turns them back into the format's
// events: a wait span ending at the arrival, a flow from each send, never pointing back in time.
import test from "ava"
import { Timeline, TIMELINE_CHUNK_EVENTS, timelineEvent, TimelineEvent, WaitFlags } from "../../src/comm/timeline.ts"
import { timelineJson, type TraceEvent } from "../../src/runtime/traceTimeline.ts"

test.serial("events past a chunk's end go on in the next chunk, every field read back as written", (t) => {
  const timeline = new Timeline(1)
  const n = TIMELINE_CHUNK_EVENTS * 2 + 5
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) timeline.message(TimelineEvent.send, i + 0.25, i % 7, i, 3 * 2 ** 32 + i) // bytes past 2³²: a message keeps them whole
    else timeline.record(TimelineEvent.wait, i, i + 0.5, -1, -1, 4)
  }
  const data = timeline.data()
  t.is(data.count, n)
  t.is(data.chunks.length, 3)
  for (const i of [0, 1, TIMELINE_CHUNK_EVENTS - 1, TIMELINE_CHUNK_EVENTS, TIMELINE_CHUNK_EVENTS + 1, n - 2, n - 1]) {
    const e = timelineEvent(data, i)
    if (i % 2 === 0) t.deepEqual(e, { code: TimelineEvent.send, flags: 0, start: i + 0.25, end: i + 0.25, peer: i % 7, tag: i, c: 3 * 2 ** 32 + i }, `event ${i}`)
    else t.deepEqual(e, { code: TimelineEvent.wait, flags: 0, start: i, end: i + 0.5, peer: -1, tag: -1, c: 4 }, `event ${i}`)
  }
})

test.serial("a staged wait-and-arrival is counted at once and stored before the next event, in order", (t) => {
  const timeline = new Timeline(0)
  timeline.stageWaitArrive(10, 12, 3, 7, 64, WaitFlags.anyTag)
  t.is(timeline.count, 1)
  timeline.message(TimelineEvent.send, 13, 3, 8, 16)
  timeline.stageArrival(14, 2, 9, 8)
  const data = timeline.data() // takes the staged arrival in
  t.is(data.count, 3)
  t.deepEqual(
    Array.from({ length: 3 }, (_, i) => timelineEvent(data, i)),
    [
      { code: TimelineEvent.waitArrive, flags: WaitFlags.anyTag, start: 10, end: 12, peer: 3, tag: 7, c: 64 },
      { code: TimelineEvent.send, flags: 0, start: 13, end: 13, peer: 3, tag: 8, c: 16 },
      { code: TimelineEvent.arrive, flags: 0, start: 14, end: 14, peer: 2, tag: 9, c: 8 },
    ],
  )
})

test.serial("the writer: a wait-and-arrival is a wait span and an arrival; a send read after its arrival is marked there", (t) => {
  // Rank 0 sent at 5 ms on its clock (105 on the common one: read once the message was in the ring); rank 1,
  // whose clock starts 1 ms later, waited from 3 ms (104) and took the message out at 3.9999 ms (104.9999):
  // 0.1 µs before the sender's clock read.
  const sender = new Timeline(0)
  sender.message(TimelineEvent.send, 5, 1, 7, 64)
  const receiver = new Timeline(1)
  receiver.stageWaitArrive(3, 3.9999, 0, 7, 64, WaitFlags.anySource)
  const data = [
    { ...sender.data(), origin: 100 },
    { ...receiver.data(), origin: 101 },
  ]
  let json = ""
  timelineJson(data, 2, "test", (text) => (json += text))
  const events = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents.filter((e) => e.ph !== "M")
  const byName = (name: string) => events.filter((e) => e.name === name)
  // Times in µs from the first event (the wait's start, 104 ms on the common clock).
  t.deepEqual(
    byName("wait recv any tag 7").map((e) => [e.tid, e.ts, e.dur]),
    [[1, 0, 999.9]],
  )
  const [send] = byName("send → rank 1")
  const [arrival] = byName("arrive ← rank 0")
  t.is(arrival!.ts, 999.9)
  t.is(send!.ts, 999.9, "the send's mark moves back to the arrival")
  const flow = events.filter((e) => e.ph === "s" || e.ph === "f")
  t.deepEqual(flow.map((e) => [e.ph, e.tid, e.ts, e.args!.bytes]), [["s", 0, 999.9, 64], ["f", 1, 999.9, 64]])
  t.is(flow[0]!.id, flow[1]!.id)
})
