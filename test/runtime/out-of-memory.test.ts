// A rank that allocates without bound fails alone, named, under its heap
// limit (ERR_WORKER_OUT_OF_MEMORY), instead of taking the process down with a
// V8 fatal error; the job ends promptly.
import test from "ava"
import { InvalidOptions, RankFailed, runRanks } from "rankflow"
import { defaultRankHeapMiB, rankHeapMiB } from "../../src/runtime/supervisor.ts"
import { fixture, onRanks } from "../helpers.ts"
import { runFault } from "./faultRun.ts"

test("a rank over maxRankHeapMiB fails as RankOutOfMemory, naming the rank and the limit", async (t) => {
  const error = await t.throwsAsync(
    runRanks({ ranks: 3, module: fixture("faultRanks.ts"), export: "allocateOnRank", args: 1, maxRankHeapMiB: 64, timeoutSeconds: 60 }),
    { instanceOf: RankFailed },
  )
  t.is(error!.failures.length, 1)
  t.like(error!.failures[0], { rank: 1, name: "RankOutOfMemory", message: "rank 1 ran out of memory: heap limit 64 MiB per rank (--max-rank-heap <MiB> or RANKFLOW_MAX_RANK_HEAP sets it)" })
})

test("a program whose rank runs out of heap (RANKFLOW_MAX_RANK_HEAP=64) exits 1 promptly with one line naming the rank", async (t) => {
  const run = await runFault("oom", { env: { RANKFLOW_MAX_RANK_HEAP: "64" }, args: ["--deadlock-after", "0"] })
  t.is(run.code, 1, run.stderr)
  t.is(run.stderr, "rankflow: rank 1 failed: RankOutOfMemory: rank 1 ran out of memory: heap limit 64 MiB per rank (--max-rank-heap <MiB> or RANKFLOW_MAX_RANK_HEAP sets it)\n")
  t.true(run.exitAt - run.reportedAt! < 5000, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
})

// Node grants a worker 16 MiB past its limit before stopping it: one larger allocation used to be
// V8's FATAL ERROR for the whole process (exit 134). The addon's callback (native/heap_guard.cc) handles it.
test("a rank over maxRankHeapMiB by one 100 MB allocation fails as RankOutOfMemory, in-process too", async (t) => {
  const error = await t.throwsAsync(
    runRanks({ ranks: 2, module: fixture("faultRanks.ts"), export: "allocateBigOnRank", args: 1, maxRankHeapMiB: 128, timeoutSeconds: 60 }),
    { instanceOf: RankFailed },
  )
  t.is(error!.failures.length, 1)
  t.like(error!.failures[0], { rank: 1, name: "RankOutOfMemory", message: "rank 1 ran out of memory: heap limit 128 MiB per rank (--max-rank-heap <MiB> or RANKFLOW_MAX_RANK_HEAP sets it)" })
})

test("a program whose rank makes one 100 MB allocation over its 128 MiB heap exits 1 promptly, one line naming the rank, no FATAL ERROR", async (t) => {
  const run = await runFault("oom-big", { ranks: 2, env: { RANKFLOW_MAX_RANK_HEAP: "128" }, args: ["--deadlock-after", "0"] })
  t.is(run.code, 1, run.stderr)
  t.is(run.stderr, "rankflow: rank 1 failed: RankOutOfMemory: rank 1 ran out of memory: heap limit 128 MiB per rank (--max-rank-heap <MiB> or RANKFLOW_MAX_RANK_HEAP sets it)\n")
  t.notRegex(run.stdout, /never stopped/)
  t.true(run.exitAt - run.reportedAt! < 5000, `exited ${Math.round(run.exitAt - run.reportedAt!)} ms after the report`)
})

test("without the addon (RANKFLOW_NATIVE=0) a rank over its heap still fails alone, through Node's own callback", async (t) => {
  const run = await runFault("oom", { env: { RANKFLOW_MAX_RANK_HEAP: "64", RANKFLOW_NATIVE: "0" }, args: ["--deadlock-after", "0"] })
  t.is(run.code, 1, `${run.signal ?? ""} ${run.stderr}`)
  t.regex(run.stderr, /^rankflow: rank 1 failed: RankOutOfMemory: rank 1 ran out of memory: heap limit 64 MiB per rank/)
})

test("--max-rank-heap sets the limit from the command line; a value under 16 MiB is refused before ranks start", async (t) => {
  const run = await runFault("oom", { args: ["--deadlock-after", "0", "--max-rank-heap", "64"] })
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /^rankflow: rank 1 failed: RankOutOfMemory: rank 1 ran out of memory: heap limit 64 MiB per rank/)
  const refused = await runFault("oom", { args: ["--max-rank-heap", "8"] })
  t.is(refused.code, 2)
  t.is(refused.stderr, "rankflow: --max-rank-heap: expected a number of MiB ≥ 16, got '8'\n")
})

test("the default heap limit is a fair share: smaller with more ranks, never below 128 MiB, never above V8's own", (t) => {
  const one = defaultRankHeapMiB(1)
  const many = defaultRankHeapMiB(1_000_000)
  t.true(one >= defaultRankHeapMiB(64))
  t.is(many, 128)
  t.true(one > 128)
  t.is(rankHeapMiB({ ranks: 4, maxRankHeapMiB: 300.7 }), 300)
  t.throws(() => rankHeapMiB({ ranks: 4, maxRankHeapMiB: 1 }), { instanceOf: InvalidOptions, message: /maxRankHeapMiB: expected a number of MiB ≥ 16, got 1/ })
})

test("ranks that use a fair amount of heap are not limited by the default", async (t) => {
  t.deepEqual(await onRanks(2, "faultRanks.ts", "allocatesSome"), [100, 101])
})
