// The hybrid MPI deadlock watcher: each process's supervisor reports a wait-for cycle among its
// own rank threads that nobody else can break, while other ranks (here or in other processes)
// may keep running; waits on other processes, on ANY_SOURCE, or collective waits on a rank whose
// nonblocking collectives could still send, never make a cycle. Ranks are simulated by writing
// their published states into a process's control block (no threads, no MPI).
import test from "ava"
import type { DeadlockDetected } from "rankflow"
import {
  CycleConfirmation,
  localWaitCycle,
  RECHECKS,
  ringActivityOf,
  ringViews,
  waitSample,
  watchForLocalCycle,
  type CycleSample,
} from "../../src/runtime/deadlock.ts"
import type { Bell } from "../../src/transport/channel.ts"
import { abortAll, BlockedOp } from "../../src/transport/doorbell.ts"
import {
  allocateWorldMemory,
  BELL,
  BLOCKED_CONTEXT,
  BLOCKED_OP,
  BLOCKED_PEER,
  BLOCKED_TAG,
  NONBLOCKING,
  PROGRESS,
  RANK_STRIDE,
  SLEEPING,
  WAIT_BELL,
  WAITS,
} from "../../src/transport/memory.ts"
import { PublishedBell } from "../../src/transport/publishedBell.ts"

/** A sample of global rank `rank` waiting on `peer` (context 0: point-to-point), re-checked `waits / 2` times. */
function waiting(rank: number, peer: number, extra: Partial<CycleSample> = {}): CycleSample {
  return {
    rank,
    blocked: { rank, call: "recv", peer, tag: 7, collective: undefined },
    progress: 0,
    bell: 0,
    rung: false,
    waits: 0,
    context: 0,
    nonblocking: 0,
    ...extra,
  }
}

/** Process 1 of K = 2: ranks 2 and 3 are local. */
const process1 = (rank: number): boolean => rank === 2 || rank === 3

test("two local ranks receiving from each other make a cycle, in global rank numbers", (t) => {
  t.deepEqual(localWaitCycle([waiting(2, 3), waiting(3, 2)], process1), [2, 3])
})

test("a wait on a rank of another process, on ANY_SOURCE, or on a rank not blocked is never part of a cycle", (t) => {
  t.deepEqual(localWaitCycle([waiting(2, 3), waiting(3, 0)], process1), [], "rank 3 waits on rank 0 of process 0")
  t.deepEqual(localWaitCycle([waiting(2, 3), waiting(3, -1)], process1), [], "ANY_SOURCE")
  t.deepEqual(localWaitCycle([waiting(2, 3), { ...waiting(3, 2), blocked: undefined }], process1), [], "rank 3 runs")
  t.deepEqual(localWaitCycle([waiting(2, 3)], process1), [], "rank 3 has finished (not sampled)")
})

test("a rank with a wake-up pending breaks the cycle", (t) => {
  t.deepEqual(localWaitCycle([waiting(2, 3), waiting(3, 2, { rung: true })], process1), [])
})

test("a collective's wait on a rank with nonblocking collectives in flight is no edge; a point-to-point wait is", (t) => {
  // Rank 2 waits in a collective (odd context) on rank 3, whose ibarrier may receive from another process and then send to rank 2.
  t.deepEqual(localWaitCycle([waiting(2, 3, { context: 1 }), waiting(3, 2, { nonblocking: 1 })], process1), [])
  t.deepEqual(localWaitCycle([waiting(2, 3, { context: 1 }), waiting(3, 2)], process1), [2, 3])
  // A point-to-point message from rank 3 comes only from rank 3's own sends, never from a nonblocking collective.
  t.deepEqual(localWaitCycle([waiting(2, 3), waiting(3, 2, { nonblocking: 2 })], process1), [2, 3])
})

test("a cycle among three of four local ranks is found while the fourth waits elsewhere", (t) => {
  const local = (r: number): boolean => r >= 4 && r < 8
  t.deepEqual(localWaitCycle([waiting(4, 9), waiting(5, 6), waiting(6, 7), waiting(7, 5)], local), [5, 6, 7])
})

/** Feeds `observe` one sample set every 50 ms; each member re-checks once per step unless `busy`. */
function confirmAfter(steps: number, change: (step: number, cycle: CycleSample[]) => CycleSample[]): number {
  const confirmation = new CycleConfirmation(1000)
  let cycle = [waiting(0, 1), waiting(1, 0)]
  for (let step = 0; step < steps; step++) {
    cycle = change(step, cycle.map((s) => ({ ...s, waits: s.waits + 2 })))
    if (confirmation.observe(step * 50, 0, cycle)) return step
  }
  return -1
}

test("a stable cycle whose ranks keep re-checking is confirmed after the quiet period", (t) => {
  const step = confirmAfter(100, (_, c) => c)
  t.true(step >= 1000 / 50 && step <= 1000 / 50 + RECHECKS + 1, `confirmed at step ${step}`)
})

test("a cycle rank that stops re-checking (busy inside its call, or not scheduled) holds the verdict off", (t) => {
  t.is(confirmAfter(100, (_, c) => [c[0]!, { ...c[1]!, waits: 0 }]), -1)
  // It re-checked for a while, then went busy: still not confirmed.
  t.is(confirmAfter(100, (step, c) => (step < 10 ? c : [c[0]!, { ...c[1]!, waits: 20 }])), -1)
})

test("any change in a cycle rank's state starts the quiet period over", (t) => {
  t.is(confirmAfter(100, (step, c) => [c[0]!, { ...c[1]!, progress: step }]), -1, "completes a call every sample")
  const late = confirmAfter(100, (step, c) => [c[0]!, { ...c[1]!, progress: step < 30 ? step : 30 }])
  t.true(late >= 30 + 1000 / 50, `confirmed at step ${late}, after the changes stopped`)
})

test("ring bytes moved among other ranks of the process do not count, bytes reaching a cycle rank do", (t) => {
  const memory = allocateWorldMemory(3, 1024, 0)
  const rings = ringViews(memory)
  const before = ringActivityOf(rings, 3, [0, 1])
  const ring = (src: number, dst: number) => new Int32Array(memory.rings, (src * 3 + dst) * (128 + 1024), 32)
  Atomics.add(ring(2, 2), 0, 64)
  t.is(ringActivityOf(rings, 3, [0, 1]), before)
  Atomics.add(ring(2, 1), 0, 64)
  t.not(ringActivityOf(rings, 3, [0, 1]), before)
})

/** A control block of `size` threads where thread `t` publishes a blocked recv on global `peer` and keeps re-checking. */
function publish(control: Int32Array, thread: number, peer: number, context = 0): void {
  const b = (thread + 1) * RANK_STRIDE
  control[b + BLOCKED_PEER] = peer
  control[b + BLOCKED_TAG] = 7
  control[b + BLOCKED_CONTEXT] = context
  Atomics.store(control, b + BLOCKED_OP, BlockedOp.recv)
}

test("watchForLocalCycle reports the cycle of ranks 3 and 4 (process 1 of 3 threads each) while rank 5 keeps running, in global numbers", async (t) => {
  const memory = allocateWorldMemory(3, 1024, 0)
  const control = new Int32Array(memory.control)
  publish(control, 0, 4)
  publish(control, 1, 3)
  const ticker = setInterval(() => {
    for (const thread of [0, 1]) Atomics.add(control, (thread + 1) * RANK_STRIDE + WAITS, 2)
    Atomics.add(control, 3 * RANK_STRIDE + PROGRESS, 1) // thread 2 (rank 5) completes calls all along
  }, 10)
  const error = await new Promise<DeadlockDetected>((resolve) => {
    const stop = watchForLocalCycle(memory, 1, () => true, 0.3, (e) => {
      stop()
      resolve(e)
    })
  })
  clearInterval(ticker)
  t.deepEqual(error.cycle, [3, 4])
  t.deepEqual(error.blocked.map((b) => [b.rank, b.peer]), [[3, 4], [4, 3]])
  t.is(error.scope, "cycle")
  t.regex(error.message, /^deadlock: ranks 3, 4 wait on each other in a cycle that no other rank can break$/m)
  t.regex(error.message, /wait-for cycle: rank 3 → rank 4 → rank 3/)
})

test("watchForLocalCycle never reports local ranks that wait on another process, however long", async (t) => {
  const memory = allocateWorldMemory(2, 1024, 0)
  const control = new Int32Array(memory.control)
  publish(control, 0, 1) // rank 0 waits on rank 1 (local) ...
  publish(control, 1, 2) // ... which waits on rank 2, in process 1
  const ticker = setInterval(() => {
    for (const thread of [0, 1]) Atomics.add(control, (thread + 1) * RANK_STRIDE + WAITS, 2)
  }, 10)
  let reported: DeadlockDetected | undefined
  const stop = watchForLocalCycle(memory, 0, () => true, 0.2, (e) => (reported = e))
  await new Promise((r) => setTimeout(r, 1500))
  stop()
  clearInterval(ticker)
  t.is(reported, undefined)
})

test("PublishedBell publishes a wait without the sleeping flag, counts each re-check, and publishes nonblocking collectives", (t) => {
  const memory = allocateWorldMemory(2, 1024, 0)
  const control = new Int32Array(memory.control)
  const b = 2 * RANK_STRIDE
  const calls: string[] = []
  const inner: Bell = {
    abortWord: () => 0,
    prepareSleep: () => (calls.push("prepareSleep"), 0),
    publishBlocked: () => void calls.push("publishBlocked"),
    sleep: () => (calls.push(`sleep WAITS=${control[b + WAITS]}`), false),
    wakeUp: () => void calls.push("wakeUp"),
    unblocked: () => void calls.push("unblocked"),
    enterCollective: () => void calls.push("enterCollective"),
    ring: () => void calls.push("ring"),
  }
  const bell = new PublishedBell(inner, memory, 1)
  const value = bell.prepareSleep(BlockedOp.recv, 5, 9, 2)
  t.deepEqual([control[b + BLOCKED_OP], control[b + BLOCKED_PEER], control[b + BLOCKED_TAG], control[b + BLOCKED_CONTEXT]], [BlockedOp.recv, 5, 9, 2])
  t.is(control[b + SLEEPING], 0, "nobody rings a rank that polls")
  t.false(bell.sleep(value))
  t.false(bell.sleep(value))
  t.is(control[b + WAITS], 4)
  t.is(control[b + WAIT_BELL], control[b + BELL], "the wait is recorded on the local bell's current value")
  t.like(waitSample(control, 1), { rung: false, waits: 4 })
  abortAll(memory, -1)
  t.like(waitSample(control, 1), { rung: true }, "an abort moves the local bell past the one the wait recorded")
  bell.nonblocking(2)
  t.is(control[b + NONBLOCKING], 2)
  bell.wakeUp()
  bell.unblocked()
  t.is(control[b + BLOCKED_OP], 0)
  t.is(control[b + PROGRESS], 1)
  t.is(control[RANK_STRIDE + BLOCKED_OP], 0, "thread 0's slots untouched")
  t.deepEqual(calls, ["prepareSleep", "sleep WAITS=1", "sleep WAITS=3", "wakeUp", "unblocked"], "odd while inside the inner sleep")
})
