import { readdirSync } from "node:fs"
import test from "ava"
import { RankFailed } from "rankflow"
import { onRanks, runProgram } from "../helpers.ts"

const threads = (): number => readdirSync("/proc/self/task").length

test("a rank that throws while the others block in recv fails the run promptly (goal < 1 s, bound 5 s; no deadlock timeout involved), with its error and stack", async (t) => {
  await onRanks(4, "ranks.ts", "whoAmI") // warm up so the thread count below is a baseline
  const before = threads()
  const error = await t.throwsAsync(onRanks(4, "ranks.ts", "throwOnRank", 2), { instanceOf: RankFailed })
  const thrownAt = Number(/at (\d+)/.exec(error!.failures[0]!.message)?.[1])
  t.true(Date.now() - thrownAt < 5000, `ended ${Date.now() - thrownAt} ms after the throw`)
  t.is(error!.failures.length, 1) // the released ranks are not reported as causes
  t.like(error!.failures[0], { rank: 2, name: "RangeError" })
  t.regex(error!.failures[0]!.stack, /RangeError: rank 2 gave up at \d+[\s\S]*throwOnRank/)
  t.is(error!.message.split(" at ")[0], "rank 2 failed: RangeError: rank 2 gave up")
  await new Promise((r) => setTimeout(r, 200))
  t.true(threads() <= before, `threads: ${before} before, ${threads()} after`)
})

test("a program whose rank throws exits 1, names the rank and prints its stack", async (t) => {
  const run = await runProgram("test/fixtures/throwing-rank.ts", ["--ranks", "4"])
  t.is(run.code, 1)
  t.regex(run.stderr, /^rankflow: rank 1 failed: Error: boom in rank 1\n\s+at .*throwing-rank\.ts:\d+/)
  t.notRegex(run.stderr, /rank [023] failed/)
})

test("a rank that exits its thread early fails the run as RankExited", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "ranks.ts", "exitOnRank", 1), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 1, name: "RankExited" })
  t.regex(error!.failures[0]!.message, /^rank 1 exited with code 3 before finishing \(process\.exit in a rank ends only its thread: end the job with comm\.abort\(code, reason\)\)$/)
})

test("a result that cannot be sent back fails the run with the rank and the reason", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "ranks.ts", "returnsFunction"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "DataCloneError")
})

test("a missing export is reported, not hung on", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "ranks.ts", "noSuchFunction"), { instanceOf: RankFailed })
  t.regex(error!.message, /has no exported function "noSuchFunction"/)
})

test("a run over its time limit fails with JobTimeout naming the ranks still running", async (t) => {
  const { runRanks } = await import("rankflow")
  const { fixture } = await import("../helpers.ts")
  const error = await t.throwsAsync(runRanks({ ranks: 3, module: fixture("ranks.ts"), export: "sleepForever", timeoutSeconds: 1, deadlockSeconds: 0 }))
  t.like(error, { _tag: "JobTimeout", seconds: 1, pending: [0, 1, 2] })
})

test("a rank that keeps a timer open still lets the run finish", async (t) => {
  t.deepEqual(await onRanks(2, "ranks.ts", "keepsTimerOpen"), [0, 1])
})

test("Ctrl-C stops every rank and exits 130", async (t) => {
  const { spawn } = await import("node:child_process")
  const { ROOT } = await import("../helpers.ts")
  const child = spawn(process.execPath, ["--import=tsx", "test/fixtures/sleepy.ts", "--ranks", "4", "--deadlock-after", "0"], { cwd: ROOT })
  let stderr = ""
  child.stderr.on("data", (d: Buffer) => (stderr += d))
  await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => String(d).includes("ready") && resolve()))
  const t0 = performance.now()
  child.kill("SIGINT")
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
  t.is(code, 130)
  t.regex(stderr, /interrupted by SIGINT/)
  t.true(performance.now() - t0 < 5000) // goal < 1 s; a bound against hangs on a loaded machine
})

test("a program over --timeout exits 124 naming the ranks still running", async (t) => {
  const run = await runProgram("test/fixtures/sleepy.ts", ["--ranks", "2", "--timeout", "1.5", "--deadlock-after", "0"])
  t.is(run.code, 124)
  t.regex(run.stderr, /time limit of 1\.5 s; ranks still running: 0, 1/)
})
