// A fault ends the whole job promptly, whatever the ranks are doing — even
// inside native code that termination cannot interrupt — with its message
// printed at once and no thread or child process left. Time limits here are
// generous bounds against hangs (the goal is 1 s; the machine is busy).
import test from "ava"
import { onRanks } from "../helpers.ts"
import { alive, leftBehind, runFault } from "./faultRun.ts"

const BOUND_MS = 5000

test("--timeout ends a job whose ranks are all stuck in native code (pbkdf2Sync), printing at once, exit 124", async (t) => {
  const run = await runFault("pbkdf2", { ranks: 2, args: ["--timeout", "2", "--deadlock-after", "0"], readyCount: 2 })
  t.is(run.code, 124, run.stderr)
  t.regex(run.firstLine, /^rankflow: the run exceeded its time limit of 2 s; ranks still running: 0, 1$/)
  t.true(run.exitAt - run.reportedAt! < BOUND_MS, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
  t.log(`exit ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
  t.true(run.reportedAt! - run.readyAt! < 2000 + BOUND_MS, `reported ${Math.round(run.reportedAt! - run.readyAt!)} ms after ready`)
})

test("a rank's error is reported at once while another rank is stuck in pbkdf2Sync, and the job exits 1", async (t) => {
  const run = await runFault("throw-during-pbkdf2")
  t.is(run.code, 1, run.stderr)
  t.regex(run.firstLine, /^rankflow: rank 1 failed: Error: rank 1 failed at \d+$/)
  t.regex(run.stderr, /\n\s+at .*faults\.ts:\d+/)
  t.true(run.exitAt - run.reportedAt! < BOUND_MS, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
  t.log(`exit ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
})

test("a rank's error while another waits in execSync('sleep 60') ends the job at once and kills the sleep", async (t) => {
  const run = await runFault("throw-during-exec")
  t.is(run.code, 1, run.stderr)
  t.regex(run.firstLine, /^rankflow: rank 1 failed: Error: rank 1 failed at \d+$/)
  t.true(run.exitAt - run.reportedAt! < BOUND_MS, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
  t.log(`exit ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
  t.deepEqual(leftBehind(run.pid), [])
})

for (const [signal, fault] of [
  ["SIGINT", "pbkdf2"],
  ["SIGTERM", "exec"],
  ["SIGINT", "atomics"],
] as const) {
  test(`${signal} ends a job whose ranks are in ${fault} promptly, saying so, and leaves no child process`, async (t) => {
    const run = await runFault(fault, { ranks: 2, readyCount: 2, signal, args: ["--deadlock-after", "0"] })
    // 130/143 by the 128+N convention (the signal handlers are the command line's); never a hang or a crash.
    t.true(run.code === 130 || run.code === 143, `exit code ${run.code} (${run.signal}): ${run.stderr}`)
    t.regex(run.firstLine, new RegExp(`^rankflow: interrupted by ${signal}`))
    t.true(run.exitAt - run.signalledAt! < BOUND_MS, `exited ${Math.round(run.exitAt - run.signalledAt!)} ms after the signal`)
    t.log(`exit ${Math.round(run.exitAt - run.signalledAt!)} ms after the signal`)
    t.deepEqual(leftBehind(run.pid), [])
  })
}

test("a successful job's child processes are killed when it ends: attached, detached and double-forked", async (t) => {
  const run = await runFault("orphan")
  t.is(run.code, 0, run.stderr)
  const pids = /children (\d+) (\d+)/.exec(run.stdout)!.slice(1).map(Number)
  t.is(pids.length, 2)
  for (const pid of pids) t.false(alive(pid), `sleep ${pid} still running`)
  t.deepEqual(leftBehind(run.pid), [])
})

test("a failed job's child processes are killed too", async (t) => {
  const run = await runFault("orphan-and-throw")
  t.is(run.code, 1, run.stderr)
  t.regex(run.firstLine, /^rankflow: rank 1 failed: Error: failed after starting a child$/)
  const pid = Number(/children (\d+)/.exec(run.stdout)![1])
  t.false(alive(pid), `sleep ${pid} still running`)
  t.deepEqual(leftBehind(run.pid), [])
})

test("runRanks kills the processes its ranks started once the job is done", async (t) => {
  const [pid] = await onRanks<number>(2, "faultRanks.ts", "startsChild")
  t.true(pid! > 0)
  t.false(alive(pid!), `sleep ${pid} still running`)
})

test("without the native addon a job stuck in native code still ends promptly after its report (SIGKILL: the exit code is lost)", async (t) => {
  const run = await runFault("throw-during-pbkdf2", { env: { RANKFLOW_NATIVE: "0" } })
  t.true(run.code === 1 || run.signal === "SIGKILL", `exit ${run.code} (${run.signal}): ${run.stderr}`)
  t.regex(run.firstLine, /^rankflow: rank 1 failed: Error: rank 1 failed at \d+$/)
  t.true(run.exitAt - run.reportedAt! < BOUND_MS, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
})
