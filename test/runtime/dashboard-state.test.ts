// What the dashboard shows, from the words ranks publish (no threads): the control block's blocked-on and
// collective words give each rank's state, the shared counters its traffic rates and heap, rank events its end.
import test from "ava"
import { COLLECTIVE_NAMES } from "../../src/comm/collectives.ts"
import { allocateDashboard, heapFigures, trafficRow } from "../../src/runtime/dashboardBuffer.ts"
import { downsample } from "../../src/runtime/dashboardFeed.ts"
import { MATRIX_MAX_RANKS, startDashboard } from "../../src/runtime/dashboard.ts"
import { BlockedOp } from "../../src/transport/doorbell.ts"
import { BLOCKED_OP, BLOCKED_PEER, BLOCKED_TAG, CALL_OP, RANK_STRIDE, type WorldMemory } from "../../src/transport/memory.ts"

/** A job's memory with only its control block (the dashboard reads nothing else). */
const fakeMemory = (size: number): WorldMemory => ({
  size,
  control: new SharedArrayBuffer((size + 1) * RANK_STRIDE * 4),
  rings: new SharedArrayBuffer(8),
  ringCapacity: 1024,
  heap: new SharedArrayBuffer(8),
})

test("rank states, waits, collectives, heaps, traffic rates and ends come from what ranks publish", async (t) => {
  const memory = fakeMemory(3)
  const counters = allocateDashboard(3)
  const dashboard = await startDashboard({ ranks: 3, port: 0 })
  try {
    dashboard.started(memory, counters)
    t.deepEqual(dashboard.state().rankViews.map((v) => v.state), ["starting", "starting", "starting"])
    const heap = heapFigures(counters, 3)
    heap[0] = 10 * 2 ** 20
    heap[1] = 20 * 2 ** 20
    const control = new Int32Array(memory.control)
    const slot = (rank: number, word: number): number => (rank + 1) * RANK_STRIDE + word
    control[slot(1, BLOCKED_PEER)] = 0
    control[slot(1, BLOCKED_TAG)] = 7
    control[slot(1, BLOCKED_OP)] = BlockedOp.recv
    control[slot(1, CALL_OP)] = COLLECTIVE_NAMES.indexOf("allreduce") + 1
    const views = dashboard.state().rankViews
    t.like(views[0], { state: "computing", heapBytes: 10 * 2 ** 20 })
    t.like(views[1], { state: "waiting", call: "recv", peer: 0, tag: 7, collective: "allreduce", heapBytes: 20 * 2 ** 20 })
    t.like(views[2], { state: "starting", heapBytes: 0 })

    // Rank 0 sends 10 messages of 80 bytes to rank 2: counted at the next sample (4 a second), a rate over the last second.
    const row = trafficRow(counters, 3, 0)
    row[2 * 2] = 10
    row[2 * 2 + 1] = 800
    await new Promise((resolve) => setTimeout(resolve, 400))
    const state = dashboard.state()
    t.is(state.messages[0 * 3 + 2], 10)
    t.is(state.bytes[0 * 3 + 2], 800)
    t.is(state.messages.filter((m) => m !== 0).length, 1)
    t.true(state.messagesPerSecond[2]! > 0 && Math.abs(state.bytesPerSecond[2]! - 80 * state.messagesPerSecond[2]!) < 1e-9 * state.bytesPerSecond[2]!, JSON.stringify(state.messagesPerSecond))
    t.true(state.messagesPerSecond.every((r, k) => k === 2 || r === 0))
    t.is(state.rankViews[0]!.messagesPerSecond, state.messagesPerSecond[2]!)
    t.is(state.rankViews[1]!.messagesPerSecond, 0)
    // Nothing more sent: after a second and a half the rate is back to 0, the totals stay.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.is(dashboard.state().messagesPerSecond[2], 0)
    t.is(dashboard.state().messages[2], 10)

    dashboard.progress("steps", 40, 100)
    t.deepEqual(dashboard.state().progress, { label: "steps", done: 40, total: 100 })
    dashboard.event({ kind: "done", rank: 0, result: undefined })
    dashboard.event({ kind: "failed", rank: 2, failure: { rank: 2, name: "Error", message: "boom", stack: "" } })
    t.deepEqual(dashboard.state().rankViews.map((v) => v.state), ["done", "waiting", "failed"])
    dashboard.finish(false, "rank 2 failed: Error: boom")
    const final = dashboard.state()
    t.like(final, { status: "failed", message: "rank 2 failed: Error: boom" })
    t.deepEqual(final.rankViews.map((v) => v.state), ["done", "stopped", "failed"])
    // The end is frozen: later changes in memory do not show.
    control[slot(1, BLOCKED_OP)] = 0
    t.deepEqual(dashboard.state(), final)
  } finally {
    await dashboard.close()
  }
})

test(`a job of more than ${MATRIX_MAX_RANKS} ranks gets its rank rows but no traffic matrix`, async (t) => {
  const ranks = MATRIX_MAX_RANKS + 1
  const dashboard = await startDashboard({ ranks, port: 0 })
  try {
    const counters = allocateDashboard(ranks)
    dashboard.started(fakeMemory(ranks), counters)
    const state = dashboard.state()
    t.is(state.rankViews.length, ranks)
    t.deepEqual([state.messages, state.bytes, state.messagesPerSecond, state.bytesPerSecond], [[], [], [], []])
    // Each rank's own rate still shows: rank 3 sends 5 messages to rank 7.
    const row = trafficRow(counters, ranks, 3)
    row[2 * 7] = 5
    row[2 * 7 + 1] = 40
    await new Promise((resolve) => setTimeout(resolve, 400))
    const views = dashboard.state().rankViews
    t.true(views[3]!.messagesPerSecond > 0 && Math.abs(views[3]!.bytesPerSecond - 8 * views[3]!.messagesPerSecond) < 1e-9 * views[3]!.bytesPerSecond)
    t.true(views.every((v) => v.rank === 3 || v.messagesPerSecond === 0))
  } finally {
    await dashboard.close()
  }
})

test("the field preview: a line of at most 512 points, a plane of at most 128 × 128, a box's middle slice", (t) => {
  const line = downsample(Float64Array.from({ length: 2048 }, (_, i) => i), [2048])!
  t.deepEqual(line.shape, [512])
  t.is(line.values[0], 2) // the middle of the first 4 points' span
  t.is(line.values[511], 2046)
  const small = downsample([1, 2, 3], [3])!
  t.deepEqual([...small.values], [1, 2, 3])
  const plane = downsample(Float64Array.from({ length: 256 * 64 }, (_, i) => Math.floor(i / 64) * 1000 + (i % 64)), [256, 64])!
  t.deepEqual(plane.shape, [128, 64])
  t.is(plane.values[0], 1000) // row 1 (of 0–1), column 0
  t.is(plane.values[127 * 64 + 63], 255_000 + 63)
  // A 4 × 3 × 2 box: its middle slice is the second of 4 × ... index 2 along the first axis.
  const box = downsample(Float64Array.from({ length: 4 * 3 * 2 }, (_, i) => i), [4, 3, 2])!
  t.deepEqual(box.shape, [3, 2])
  t.deepEqual([...box.values], [12, 13, 14, 15, 16, 17])
  t.is(downsample([1], [1, 1, 1, 1]), undefined)
})
