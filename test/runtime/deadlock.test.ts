import { spawn } from "node:child_process"
import test from "ava"
import { DeadlockDetected, RankFailed } from "rankflow"
import { ringActivity, ringViews, waitForCycle, watchForDeadlock } from "../../src/runtime/deadlock.ts"
import { allocateWorldMemory, BLOCKED_OP, BLOCKED_PEER, BLOCKED_TAG, RANK_STRIDE, RING_CONTROL_BYTES, WAITS } from "../../src/transport/memory.ts"
import { onRanks, runProgram } from "../helpers.ts"

test("the seed's pitfall (both ranks receive first) is reported with its wait-for cycle, not a hang", async (t) => {
  const run = await runProgram("examples/deadlock.ts", ["--ranks", "2"])
  t.is(run.code, 1)
  t.regex(run.stdout, /rank 0 \(good order\) got: data from 1/)
  t.regex(run.stdout, /rank 1 now tries the bad order/) // output before the hang is not lost
  t.regex(run.stderr, /deadlock: every running rank is blocked in a communication call\n {2}rank 0 waits in recv for rank 1\n {2}rank 1 waits in recv for rank 0\n {2}wait-for cycle: rank 0 → rank 1 → rank 0/)
  t.true(run.seconds < 30) // start-up included; a hang would be forever
})

test("a deadlock inside collectives names the collective each rank is in", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "deadlocks.ts", "collectiveVersusRecv"), { instanceOf: DeadlockDetected })
  t.regex(error!.message, /rank 0 waits in recv for rank 2 \(tag 9\)/)
  t.regex(error!.message, /rank [12] waits in barrier \(collective #0, root 0\) for rank 0/)
})

test("a deadlock is reported while two other processes hog both cores", async (t) => {
  // Sleeping ranks wake every 200 ms to look at the abort word; they used to spin and yield
  // after each such wake-up, unpublished, and with the cores taken the watcher never saw all
  // of them asleep at once: the job ran into its time limit instead.
  const hogs = [0, 1].map(() => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }))
  try {
    const started = performance.now()
    const error = await t.throwsAsync(onRanks(3, "deadlocks.ts", "collectiveVersusRecv"), { instanceOf: DeadlockDetected })
    t.regex(error!.message, /rank 0 waits in recv for rank 2 \(tag 9\)/)
    t.true(performance.now() - started < 60_000, "reported, not run into a time limit")
  } finally {
    for (const hog of hogs) hog.kill("SIGKILL")
  }
})

test("ranks waiting on a rank that has finished are reported as such", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "deadlocks.ts", "waitForFinished"), { instanceOf: DeadlockDetected })
  t.regex(error!.message, /rank 1 waits in recv for rank 0 \(tag 4\)/)
})

test("a long transfer or computation is not mistaken for a deadlock", async (t) => {
  t.deepEqual(await onRanks(2, "deadlocks.ts", "slowButAlive"), ["done", "done"])
})

test("a probe that moves a pending nonblocking collective's message out of its way hands it over (it was lost: a hang)", async (t) => {
  t.deepEqual(await onRanks(3, "deadlocks.ts", "slowReductionInsideProbe", 0), [[6, 6], [6, 6], [6, 6]])
})

test("a slow reduction run inside another blocking call is not mistaken for a deadlock", async (t) => {
  // Rank 0 reduces (1.5 s a combine) inside its probe, published as blocked there, while ranks 1
  // and 2 wait for the result: this was reported as a deadlock.
  t.deepEqual(await onRanks(3, "deadlocks.ts", "slowReductionInsideProbe", 1500), [[6, 6], [6, 6], [6, 6]])
})

test("--comm-timeout fails a single blocking call that waits too long, naming the call and peer", async (t) => {
  const { runRanks } = await import("rankflow")
  const { fixture } = await import("../helpers.ts")
  const error = await t.throwsAsync(
    runRanks({ ranks: 2, module: fixture("deadlocks.ts"), export: "waitTooLong", commTimeoutSeconds: 0.5, deadlockSeconds: 0 }),
    { instanceOf: RankFailed },
  )
  t.like(error!.failures[0], { rank: 1, name: "CommTimeout", message: "rank 1: recv waiting for rank 0 exceeded 0.5 s" })
})

test("wait-for cycles are found in the blocked-on graph", (t) => {
  const b = (rank: number, peer: number) => ({ rank, call: "recv", peer, tag: 0, collective: undefined })
  t.deepEqual(waitForCycle([b(0, 1), b(1, 2), b(2, 0)]), [0, 1, 2])
  t.deepEqual(waitForCycle([b(0, 1), b(1, 2), b(2, 1)]), [1, 2])
  t.deepEqual(waitForCycle([b(0, -1), b(1, 0)]), [])
})

test("ring activity read in slices sees every ring's head and tail, as one view would", (t) => {
  const memory = allocateWorldMemory(7, 1024)
  const all = new Int32Array(memory.rings)
  const stride = (RING_CONTROL_BYTES + memory.ringCapacity) / 4
  const sliced = ringViews(memory, 3 * stride * 4 + 5) // 3 rings per view, the last view holds one
  t.is(sliced.views.length, Math.ceil(49 / 3))
  const reference = (): number => {
    let sum = 0
    for (let ring = 0; ring < 49; ring++) sum = (sum + all[ring * stride]! + all[ring * stride + 16]!) | 0
    return sum
  }
  const before = ringActivity(sliced)
  for (const ring of [0, 2, 3, 47, 48]) {
    all[ring * stride]! += 1000 + ring // tail
    all[ring * stride + 16]! += 7 // head
    t.is(ringActivity(sliced), reference(), `after moving ring ${ring}`)
  }
  t.not(ringActivity(sliced), before)
})

test("the watcher works on a world past V8's typed-array limit (512 ranks, 16 GiB of rings) without starting threads", async (t) => {
  const size = 512
  const memory = allocateWorldMemory(size) // virtual: pages are committed only when touched
  t.true(memory.rings.byteLength / 4 > 2 ** 32, "one Int32Array could not view these rings")
  const rings = ringViews(memory)
  const last = new Int32Array(memory.rings, (size * size - 1) * (RING_CONTROL_BYTES + memory.ringCapacity), 32)
  const before = ringActivity(rings)
  Atomics.add(last, 0, 16) // the last ring's tail moves: data is flowing
  t.is(ringActivity(rings), (before + 16) | 0)
  // Every rank asleep in a recv from the next one (a 512-rank cycle), re-checking every 100 ms.
  const control = new Int32Array(memory.control)
  for (let r = 0; r < size; r++) {
    control[(r + 1) * RANK_STRIDE + BLOCKED_PEER] = (r + 1) % size
    control[(r + 1) * RANK_STRIDE + BLOCKED_TAG] = 3
    control[(r + 1) * RANK_STRIDE + BLOCKED_OP] = 1
    control[(r + 1) * RANK_STRIDE + WAITS] = 1
  }
  const rechecks = setInterval(() => {
    for (let r = 0; r < size; r++) control[(r + 1) * RANK_STRIDE + WAITS]! += 2
  }, 100)
  const found = await new Promise<DeadlockDetected>((resolve, reject) => {
    const stop = watchForDeadlock(memory, () => true, 0.2, resolve)
    setTimeout(() => {
      stop()
      reject(new Error("no deadlock reported within 20 s"))
    }, 20_000).unref()
  }).finally(() => clearInterval(rechecks))
  t.is(found.blocked.length, size)
  t.is(found.cycle.length, size)
  t.regex(found.message, /rank 511 waits in recv for rank 0 \(tag 3\)/)
})
