import test from "ava"
import { DeadlockDetected, RankFailed } from "rankflow"
import { waitForCycle } from "../../src/runtime/deadlock.ts"
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

test("ranks waiting on a rank that has finished are reported as such", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "deadlocks.ts", "waitForFinished"), { instanceOf: DeadlockDetected })
  t.regex(error!.message, /rank 1 waits in recv for rank 0 \(tag 4\)/)
})

test("a long transfer or computation is not mistaken for a deadlock", async (t) => {
  t.deepEqual(await onRanks(2, "deadlocks.ts", "slowButAlive"), ["done", "done"])
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
