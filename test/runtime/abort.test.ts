// comm.abort(code, reason) (MPI_Abort) ends every rank with that exit code and
// the reason printed, naming the rank; process.exit in a rank says to use it.
import { readdirSync } from "node:fs"
import test from "ava"
import { JobAborted } from "rankflow"
import { onRanks } from "../helpers.ts"
import { runFault } from "./faultRun.ts"

test("abort(3, 'bad input') on rank 1 of 3 exits 3 naming rank 1 and the reason; ranks blocked in recv are released", async (t) => {
  const run = await runFault("abort", { args: ["--deadlock-after", "0"] })
  t.is(run.code, 3, run.stderr)
  t.is(run.stderr, "rankflow: rank 1 called comm.abort(3): bad input\n")
})

test("the exit code is the one given to abort", async (t) => {
  const run = await runFault("abort", { ranks: 2, args: ["--code", "42", "--deadlock-after", "0"] })
  t.is(run.code, 42, run.stderr)
  t.is(run.firstLine, "rankflow: rank 1 called comm.abort(42): bad input")
})

const threads = (): number => readdirSync("/proc/self/task").length

test("runRanks rejects with JobAborted carrying the rank, the code and the reason, and leaves no thread", async (t) => {
  await onRanks(3, "ranks.ts", "whoAmI") // warm up so the thread count below is a baseline
  const before = threads()
  const error = await t.throwsAsync(onRanks(3, "faultRanks.ts", "abortOnRank", 2), { instanceOf: JobAborted })
  t.like(error, { _tag: "JobAborted", rank: 2, exitCode: 3, reason: "bad input" })
  await new Promise((r) => setTimeout(r, 200))
  t.true(threads() <= before, `threads: ${before} before, ${threads()} after`)
})

test("process.exit(0) in a rank fails the job (exit 1) and says to use comm.abort", async (t) => {
  const run = await runFault("exit", { args: ["--deadlock-after", "0"] })
  t.is(run.code, 1, run.stderr)
  t.regex(run.firstLine, /^rankflow: rank 1 failed: RankExited: rank 1 exited with code 0 before finishing \(.*comm\.abort\(code, reason\)\)$/)
})
