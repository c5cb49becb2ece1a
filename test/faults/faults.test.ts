// The fault suite (issue 11): real programs under signals, native blocks,
// lost errors, odd throws, limits, child processes, out-of-memory and
// disagreeing collectives. Each case starts a program as a child process,
// injects the fault and checks what the user sees — exit code (0 ok, 1
// failure, 2 bad input, 124 timeout, 130 SIGINT, 143 SIGTERM), the first line
// of stderr (rank and cause) — that the job ended soon after the fault, and
// that nothing it started outlived it.
//
// The goal is an exit within 1 s of the fault; the bound asserted is 5 s, a
// guard against hangs on a loaded machine, not a speed test. It is judged on
// the time the test process itself ran: seconds in which it was stalled (the
// machine frozen, e.g. its VM paused — see harness.ts) are left out, and
// reported. Each run logs its times (`ava --verbose` shows them): ava's own
// duration of a test here includes its wait for one of the two slots.
// Messages are matched on their essentials (rank, cause keyword), not on
// exact sentences.
import { inspect } from "node:util"
import test, { type ExecutionContext } from "ava"
import { type FaultOptions, type FaultRun, runFault } from "./harness.ts"

/** Seconds the job may take to end after the fault (goal: 1). */
const BOUND = 5

interface Expected {
  readonly code: number
  /** What stderr's first line must say (the rank, the cause). */
  readonly first?: ReadonlyArray<RegExp>
  /** What stderr's first three lines must say (a failed rank's error follows the line naming it). */
  readonly head?: ReadonlyArray<RegExp>
  /** Seconds from the fault to the exit (default BOUND). */
  readonly within?: number
}

/** Runs a fault case and checks the exit code, the message, the time to exit and that nothing is left. */
async function fault(t: ExecutionContext, script: string, options: FaultOptions, expected: Expected): Promise<FaultRun> {
  const run = await runFault(script, options)
  t.log(run.timing)
  t.is(run.code, expected.code, run.summary)
  for (const pattern of expected.first ?? []) t.regex(run.firstLine, pattern, run.summary)
  const head = run.stderr.split("\n").slice(0, 3).join("\n")
  for (const pattern of expected.head ?? []) t.regex(head, pattern, run.summary)
  t.true(run.secondsAfterFault - run.stalledSeconds < (expected.within ?? BOUND), run.summary)
  t.deepEqual(run.leftovers, [], `processes left behind: ${run.summary}`)
  return run
}

const BLOCKED = "test/fixtures/faults/blocked.ts"
const blocked = (mode: string, ...args: string[]): FaultOptions => ({ env: { FAULT: mode }, args: ["--ranks", "4", "--deadlock-after", "0", ...args] })

// ── Signals ────────────────────────────────────────────────────────────────

test("Ctrl-C (SIGINT) while every rank waits in recv exits 130, saying so", async (t) => {
  await fault(t, BLOCKED, { ...blocked("recv"), signal: { name: "SIGINT" } }, { code: 130, first: [/interrupted by SIGINT/] })
})

for (const attempt of [1, 2]) {
  test(`a Ctrl-C relayed twice, 100 ms apart (as npx does), still exits 130 with its message (run ${attempt})`, async (t) => {
    await fault(t, BLOCKED, { ...blocked("recv"), signal: { name: "SIGINT", againAfterMs: 100 } }, { code: 130, first: [/interrupted by SIGINT/] })
  })
}

test("SIGTERM exits 143, saying so", async (t) => {
  await fault(t, BLOCKED, { ...blocked("recv"), signal: { name: "SIGTERM" } }, { code: 143, first: [/SIGTERM/] })
})

test("Ctrl-C while 128 ranks are still starting exits 130 at once", async (t) => {
  // The signal goes 100 ms after the 32nd rank printed "rank starting",
  // while the others are still being started (256 ranks, as in the issue,
  // cost the suite 10-30 s of start-up on 2 loaded cores for no more insight).
  const run = await fault(
    t,
    BLOCKED,
    { env: { FAULT: "recv" }, args: ["--ranks", "128", "--deadlock-after", "0"], signal: { name: "SIGINT", after: /^rank starting$/m, afterCount: 32 } },
    { code: 130, first: [/interrupted by SIGINT/] },
  )
  t.notRegex(run.stdout, /^ready$/m, "the signal came before every rank had started") // else this case tests nothing new
})

// ── Native code: a rank that cannot be interrupted must not hold the job ────

test("Ctrl-C while a rank is in native code (pbkdf2Sync) exits 130 within the bound", async (t) => {
  await fault(t, BLOCKED, { ...blocked("pbkdf2"), signal: { name: "SIGINT" } }, { code: 130, first: [/interrupted by SIGINT/] })
})

test("Ctrl-C while a rank waits in execFileSync('sleep') exits 130, and the sleep is killed too", async (t) => {
  await fault(t, BLOCKED, { ...blocked("exec"), signal: { name: "SIGINT" } }, { code: 130, first: [/interrupted by SIGINT/] })
})

test("--timeout ends a job whose rank waits in execFileSync('sleep'): exit 124 at the limit, the sleep killed", async (t) => {
  // The limit runs from before the ranks start; counting it from the ready
  // line makes the measured delay at most a rank's start-up too short.
  await fault(t, BLOCKED, { ...blocked("exec", "--timeout", "2"), faultAt: ({ readyAt, spawnedAt }) => (readyAt ?? spawnedAt) + 2000 }, {
    code: 124,
    first: [/time limit of 2 s/],
  })
})

test("a rank's throw ends the job at once while another rank is in native code: exit 1 naming the thrower", async (t) => {
  await fault(t, BLOCKED, blocked("throw"), { code: 1, first: [/rank 0/], head: [/boom on rank 0/] })
})

// ── Errors raised after a rank's main line: never exit 0 in silence ────────

const LATE = "test/fixtures/faults/late-errors.ts"
for (const [mode, message] of [
  ["rejection", /unhandled rejection on rank 1/],
  ["task", /async task failed on rank 1/],
  ["timer", /timer threw on rank 1/],
] as const) {
  test(`an error raised after rank 1's main line (${mode}) fails the job: exit 1 naming rank 1 and the error`, async (t) => {
    await fault(t, LATE, { env: { FAULT: mode }, args: ["--ranks", "2"] }, { code: 1, first: [/rank 1/], head: [message] })
  })
}

// ── Throwing something that is not an Error ────────────────────────────────

const THROWS = "test/fixtures/faults/throws-value.ts"
for (const [mode, value] of [
  ["string", "a thrown string"],
  ["undefined", undefined],
  ["null", null],
  ["object", { code: 42, reason: "thrown object" }],
] as const) {
  test(`a rank throwing ${mode === "object" ? "an object" : mode === "string" ? "a string" : mode} is reported with the value as util.inspect shows it`, async (t) => {
    const run = await fault(t, THROWS, { env: { FAULT: mode }, args: ["--ranks", "2"] }, { code: 1, first: [/rank 1/] })
    const head = run.stderr.split("\n").slice(0, 3).join("\n")
    t.true(head.includes(inspect(value)), `expected ${inspect(value)} in: ${head}`)
    t.false(run.stderr.includes("[object Object]"), run.stderr)
    t.notRegex(run.stderr, /rankEntry/, "the stack shown is not rankflow's own") // the value has none; rankflow's is no substitute
  })
}

// ── Limits: refused before any rank starts (exit 2), or lifted ─────────────

const HELLO = "examples/hello.ts"

test("--ranks 999999999 is refused with exit 2 before any rank starts, naming --ranks", async (t) => {
  const run = await fault(t, HELLO, { args: ["--ranks", "999999999"] }, { code: 2, first: [/--ranks/], within: 15 })
  t.is(run.stdout, "")
  t.notRegex(run.stderr, /internal error|FATAL/)
})

test("--ranks 1000 on an init() program runs, or is refused with exit 2 naming --ranks — never an internal error", async (t) => {
  const run = await runFault(HELLO, { args: ["--ranks", "1000", "--timeout", "120"], killAfterSeconds: 150 })
  t.log(run.timing)
  t.notRegex(run.stderr, /internal error|allocation failed|FATAL/, run.summary)
  if (run.code === 0) {
    t.is(run.stdout.match(/^Hello from rank \d+ of 1000 /gm)?.length, 1000, run.summary)
  } else {
    t.is(run.code, 2, run.summary)
    t.regex(run.firstLine, /--ranks/, run.summary)
    t.is(run.stdout, "", "refused before any rank started")
  }
  t.deepEqual(run.leftovers, [])
})

test("--n 1e11 on pipelines/heat.ts is refused with exit 2 before any rank starts, naming the grid's size", async (t) => {
  // dt and t keep the scheme stable (r = 0.1) and the run 2 steps long, so
  // only the size can be what is refused: 2 × 372 GiB per rank.
  const args = ["--ranks", "2", "--n", "1e11", "--dt", "1e-21", "--t", "2e-21"]
  const run = await fault(t, "pipelines/heat.ts", { args }, { code: 2, first: [/^rankflow: grid too large: 100000000000 points need/], within: 15 })
  t.is(run.stdout, "")
})

test("--timeout 2592000 (30 days) does not fire at once: a quick program exits 0", async (t) => {
  const run = await fault(t, HELLO, { args: ["--ranks", "2", "--timeout", "2592000"] }, { code: 0, within: 30 })
  t.is(run.stderr, "")
  t.is(run.stdout.match(/^Hello from rank \d of 2 /gm)?.length, 2)
})

// ── A rank's child processes never outlive the job ─────────────────────────

const CHILDREN = "test/fixtures/faults/children.ts"

test("a sleep started by a rank is gone after the job succeeds (exit 0)", async (t) => {
  const run = await fault(t, CHILDREN, { args: ["--ranks", "2"], env: { FAULT: "ok" } }, { code: 0, within: 30 })
  t.regex(run.stdout, /rank 1 done/)
})

test("a sleep started by a rank is gone after the job fails (exit 1 naming the rank)", async (t) => {
  await fault(t, CHILDREN, { args: ["--ranks", "2"], env: { FAULT: "fail" } }, { code: 1, first: [/rank 1/] })
})

// ── Out of memory: one rank fails, named, the job ends ─────────────────────

test("a rank allocating 100 MB arrays under a 256 MB heap fails alone as out of memory: exit 1 naming rank 1", async (t) => {
  // The time runs from the first allocation: filling the heap up to its limit is part of it.
  const run = await fault(
    t,
    "test/fixtures/faults/oom.ts",
    { args: ["--ranks", "2", "--deadlock-after", "0"], nodeArgs: ["--max-old-space-size=256"] },
    { code: 1, first: [/rank 1/], head: [/out of memory|heap/i], within: 15 },
  )
  t.notRegex(run.stderr, /FATAL ERROR/)
  t.notRegex(run.stdout, /never stopped/)
})

// ── Collectives that disagree: caught at the call, both calls named ────────

const MISMATCH = "test/fixtures/faults/mismatch.ts"

test("bcast with root 0 on one rank and root 1 on the others fails at the call: exit 1, no value printed, both roots named", async (t) => {
  const run = await fault(t, MISMATCH, { env: { FAULT: "roots" }, args: ["--ranks", "3"] }, { code: 1, head: [/bcast/, /root 0/, /root 1/] })
  t.notRegex(run.stdout, /got value/, "no rank returned from the disagreeing bcast")
  t.notRegex(run.stderr, /barrier/, "the user never called barrier")
})

test("bcast on one rank against reduce on the others fails at the call: exit 1, no value printed, both calls named", async (t) => {
  const run = await fault(t, MISMATCH, { env: { FAULT: "kinds" }, args: ["--ranks", "3"] }, { code: 1, head: [/bcast/, /reduce/] })
  t.notRegex(run.stdout, /got value/, "no rank returned from the disagreeing collective")
  t.notRegex(run.stderr, /barrier/, "the user never called barrier")
})

// ── The clean ones, kept as they are ───────────────────────────────────────

test("a deadlock is reported with its wait-for cycle: exit 1", async (t) => {
  const run = await fault(t, "examples/deadlock.ts", { args: ["--ranks", "2"] }, { code: 1, first: [/deadlock/], within: 15 })
  t.regex(run.stderr, /wait-for cycle: rank 0 → rank 1 → rank 0/)
})

test("a rank's throw names the rank, the error and its stack: exit 1", async (t) => {
  const run = await fault(t, "test/fixtures/throwing-rank.ts", { args: ["--ranks", "4"] }, { code: 1, first: [/rank 1/], head: [/boom in rank 1/], within: 15 })
  t.regex(run.stderr, /throwing-rank\.ts:\d+/)
  t.notRegex(run.stderr, /rank [023] failed/)
})

test("a bad option is refused precisely, with exit 2 and no rank started", async (t) => {
  const run = await fault(t, HELLO, { args: ["--ranks", "0"] }, { code: 2, within: 15 })
  t.is(run.firstLine, "rankflow: --ranks: expected a positive integer, got '0'")
  t.is(run.stdout, "")
})

test("--timeout on ranks spinning in a busy loop exits 124 naming the ranks", async (t) => {
  await fault(t, BLOCKED, { ...blocked("busy", "--timeout", "1.5"), faultAt: ({ readyAt, spawnedAt }) => (readyAt ?? spawnedAt) + 1500 }, {
    code: 124,
    first: [/time limit of 1\.5 s/],
  })
})
