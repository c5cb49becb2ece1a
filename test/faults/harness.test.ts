// The fault harness's stall clock (harness.ts): time in which the test
// process itself could not run is measured and reported, so that a machine
// frozen under a run (a VM paused for a snapshot) is told apart from a child
// that is slow to exit. Simulated here by blocking this process's event loop
// while a quick child runs: the child exits meanwhile, but its exit can only
// be seen once the loop runs again. Serial: a freeze stalls every run in flight.
import test from "ava"
import { runFault } from "./harness.ts"

/** Blocks this process (its event loop, its timers, its view of the child) for `ms`. */
function freeze(ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until);
}

test.serial("a run during which the test process was frozen reports the frozen time as stalled, not as the child's", async (t) => {
  // runFault spawns the child before it first awaits: the freeze starts with the child running.
  const pending = runFault("examples/hello.ts", { args: ["--ranks", "999999999"] })
  freeze(3000)
  const run = await pending
  t.log(run.timing)
  t.is(run.code, 2, run.summary)
  t.true(run.seconds >= 3, run.summary) // the exit was seen only after the freeze
  // The tick due 0.1 s into the freeze came 2.9 s late: at least 2.4 s of it beyond the 0.5 s allowed.
  t.true(run.stalledSeconds >= 2.4, run.summary)
  t.true(run.stalledSeconds <= run.secondsAfterFault, run.summary)
  t.regex(run.timing, /this process stalled \d+\.\d\d s/)
})

test.serial("a run in which the test process kept running reports no stall", async (t) => {
  const run = await runFault("examples/hello.ts", { args: ["--ranks", "0"] })
  t.log(run.timing)
  t.is(run.code, 2, run.summary)
  t.true(run.stalledSeconds < 0.5, run.summary) // under load a tick may come late, but not by seconds
})

test.serial("a stall does not count against the child's kill bound: the harness kills only after that much running time", async (t) => {
  // blocked.ts (recv) never ends by itself; the harness SIGKILLs it after killAfterSeconds of
  // time this process ran. Frozen for 3 s of a 4 s bound, the kill comes after about 4 + 2.5 s.
  const pending = runFault("test/fixtures/faults/blocked.ts", { env: { FAULT: "recv" }, args: ["--ranks", "2", "--deadlock-after", "0"], killAfterSeconds: 4 })
  freeze(3000)
  const run = await pending
  t.log(run.timing)
  t.true(run.killed, run.summary)
  t.is(run.signal, "SIGKILL", run.summary)
  t.true(run.seconds >= 4 + 2.4, run.summary) // the stalled time was granted again: not killed at 4 s
  t.true(run.seconds - run.stalledSeconds >= 4, run.summary) // and killed only after 4 s of running time
  t.deepEqual(run.leftovers, [], run.summary)
})
