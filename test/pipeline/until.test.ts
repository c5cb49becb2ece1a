// until loops and runs that go wrong say so: an until ending at maxSteps reports that it did not converge
// (Outcome, summary line, --json, --require-converged's exit 3), a NaN measure stops the run at once naming
// the step and rank, --check-finite names the step, rank, field and first global index of a NaN, and each
// until check is one collective call, with the same bits whatever the number of threads.
import test from "ava"
import { RankFailed } from "rankflow"
import { onRanks, runProgram } from "../helpers.ts"

const PROGRAM = "test/fixtures/untilProgram.ts"
/** A bound against hangs only (the runs take about a second). */
const HANG_MS = 120_000

type Doc = { ok: boolean; exitCode: number; summary: { steps: number; lastMeasure: number; converged?: boolean }; result: { fingerprint: string }; trace?: Array<{ collectives: Record<string, number> }> }
const json = async (args: string[]): Promise<Doc> => {
  const run = await runProgram(PROGRAM, [...args, "--json"], HANG_MS)
  return JSON.parse(run.stdout) as Doc
}

test("an until loop that converges says so: converged true in --json, no 'did not converge' line, and --require-converged exits 0", async (t) => {
  const doc = await json(["--ranks", "3"])
  t.like(doc, { ok: true, exitCode: 0, summary: { converged: true } })
  t.true(doc.summary.lastMeasure < 1e-9)
  const text = await runProgram(PROGRAM, ["--ranks", "3", "--require-converged"], HANG_MS)
  t.is(text.code, 0, text.stderr)
  t.notRegex(text.stdout, /did not converge/)
})

test("an until loop that ends at maxSteps reports it: converged false, a summary line with the steps and last measure, exit 0 unless --require-converged (exit 3)", async (t) => {
  const args = ["--ranks", "3", "--tol", "0", "--max-steps", "200"]
  const doc = await json(args)
  t.like(doc, { ok: true, exitCode: 0, summary: { steps: 200, converged: false } })
  const text = await runProgram(PROGRAM, args, HANG_MS)
  t.is(text.code, 0, text.stderr)
  const last = doc.summary.lastMeasure.toExponential(6)
  t.regex(text.stdout, new RegExp(`^did not converge in 200 steps \\(last measure ${last.replace(/[.+-]/g, "\\$&")}\\)$`, "m"))
  const strict = await runProgram(PROGRAM, [...args, "--require-converged"], HANG_MS)
  t.is(strict.code, 3, strict.stderr)
  t.regex(strict.stdout, /^did not converge in 200 steps/m, "the summary is printed before the job ends")
  t.is(strict.stderr.split("\n")[0], `rankflow: rank 0 called comm.abort(3): did not converge in 200 steps (last measure ${last}) (--require-converged)`)
  const strictJson = await runProgram(PROGRAM, [...args, "--require-converged", "--json"], HANG_MS)
  t.like(JSON.parse(strictJson.stdout), { ok: false, exitCode: 3, summary: { converged: false } })
})

for (const threads of [3, 2])
  test(`a NaN measure stops the run at its step with MeasureNotFinite naming the rank whose measure it was, even under MAX, which would drop it (3 ranks on ${threads} threads)`, async (t) => {
    // The NaN is on the last block (rank 2) at step 30; MAX(x, NaN) = x, so only the rank-local check can see it.
    const run = await runProgram(PROGRAM, ["--ranks", "3", "--threads", String(threads), "--nan-step", "30"], HANG_MS)
    t.is(run.code, 1)
    t.regex(run.stderr.split("\n")[0]!, /^rankflow: rank \d failed: MeasureNotFinite: rank 2: until: the measure at step 30 is NaN, not a finite number/)
    t.notRegex(run.stdout, /^result:/m, "no result printed")
  })

test("a NaN measure at a step that is not checked is never seen (checks every 10 steps)", async (t) => {
  const run = await runProgram(PROGRAM, ["--ranks", "2", "--nan-step", "35", "--tol", "0", "--max-steps", "50"], HANG_MS)
  t.is(run.code, 0, run.stderr)
})

test("one collective call per until check: an allreduce with one rank per thread, an allgatherv with several, and no gatherv or bcast per check", async (t) => {
  const base = ["--ranks", "3", "--tol", "0", "--max-steps", "40", "--trace"]
  const every = await json([...base, "--threads", "3", "--check", "1"])
  const tenth = await json([...base, "--threads", "3", "--check", "10"])
  const total = (d: Doc, rank: number) => Object.values(d.trace![rank]!.collectives).reduce((a, b) => a + b, 0)
  for (const rank of [0, 1, 2]) {
    t.is(every.trace![rank]!.collectives.allreduce, 40, `rank ${rank}`)
    t.is(tenth.trace![rank]!.collectives.allreduce, 4, `rank ${rank}`)
    t.is(total(every, rank) - total(tenth, rank), 36, "36 more checks cost exactly 36 more collective calls")
    t.is(every.trace![rank]!.collectives.bcast, undefined)
    t.is(every.trace![rank]!.collectives.gatherv, 1, "the final gather only")
  }
  const shared = await json([...base, "--threads", "2", "--check", "1"])
  for (const rank of [0, 1]) t.like(shared.trace![rank]!.collectives, { allgatherv: 40, gatherv: 1 })
  t.is(shared.trace![0]!.collectives.allreduce, undefined)
})

for (const [ranks, fewer] of [[5, 2], [8, 3]] as const)
  test(`the combined measure is bit-identical on ${ranks} threads and on ${fewer}, for SUM and for an op neither associative nor commutative`, async (t) => {
    for (const op of ["sum", "lopsided"]) {
      const args = ["--ranks", String(ranks), "--tol", "0", "--max-steps", "37", "--check", "4", "--op", op]
      const one = await json([...args, "--threads", String(ranks)])
      const shared = await json([...args, "--threads", String(fewer)])
      t.is(one.summary.steps, 37)
      t.is(shared.summary.lastMeasure, one.summary.lastMeasure, op)
      t.is(shared.result.fingerprint, one.result.fingerprint)
    }
  })

test("--check-finite K names the step after which the scan saw a NaN, the rank holding it, the field and the first global index (row-major)", async (t) => {
  // The owner of point (7, 23), from the plan: --check-finite must name it.
  const dry = await runProgram(PROGRAM, ["--ranks", "4", "--mode", "blowUp", "--dry-run", "--json"], HANG_MS)
  const blocks = (JSON.parse(dry.stdout) as { plan: { source: { layout: { blocks: Array<{ rank: number; start: number[]; count: number[] }> } } } }).plan.source.layout.blocks
  const owner = blocks.find((b) => [7, 23].every((x, d) => x >= b.start[d]! && x < b.start[d]! + b.count[d]!))!.rank
  t.true([9, 16].every((x, d) => x >= blocks[owner]!.start[d]! && x < blocks[owner]!.start[d]! + blocks[owner]!.count[d]!), "both NaNs are in one block")
  for (const [k, step] of [[1, 7], [5, 10]] as const) {
    const run = await runProgram(PROGRAM, ["--ranks", "4", "--threads", "4", "--mode", "blowUp", "--check-finite", String(k)], HANG_MS)
    t.is(run.code, 1)
    t.regex(run.stderr.split("\n")[0]!, new RegExp(`^rankflow: rank ${owner} failed: FieldNotFinite: rank ${owner}: field u holds NaN at global index \\[7, 23\\] after step ${step} \\(--check-finite\\)$`))
  }
  const unchecked = await runProgram(PROGRAM, ["--ranks", "4", "--mode", "blowUp"], HANG_MS)
  t.is(unchecked.code, 0, "without the flag the run ends with NaN in its result")
  t.regex(unchecked.stdout, /2 NaN/)
})

test("--check-finite does not fire on a healthy run, and must be a positive integer (exit 2 before any rank starts)", async (t) => {
  const healthy = await runProgram(PROGRAM, ["--ranks", "4", "--mode", "healthy", "--check-finite", "1"], HANG_MS)
  t.is(healthy.code, 0, healthy.stderr)
  t.regex(healthy.stdout, /^result: Float64Array\(600\) min 999999980 max 999999980 fingerprint/m)
  const bad = await runProgram(PROGRAM, ["--ranks", "4", "--check-finite", "0"], HANG_MS)
  t.is(bad.code, 2)
  t.is(bad.stderr, "rankflow: --check-finite: expected a positive integer, got '0'\n")
})

test("Pipeline.runWithStats says whether the until loop converged, on every rank", async (t) => {
  const done = await onRanks<{ steps: number; converged: boolean; measure: number }>(3, "untilRanks.ts", "outcome", { tol: 1e-6, maxSteps: 100_000 })
  for (const r of done) t.like(r, { converged: true, steps: done[0]!.steps })
  t.true(done[0]!.measure < 1e-6)
  const stalled = await onRanks<{ steps: number; converged: boolean; measure: number }>(3, "untilRanks.ts", "outcome", { tol: 1e-6, maxSteps: 50 })
  for (const r of stalled) t.like(r, { converged: false, steps: 50 })
  t.true(stalled[0]!.measure >= 1e-6)
})

test("Pipeline.run's checkFinite option stops the run on the rank holding the NaN, naming its global index; 0 is refused", async (t) => {
  // 40 points on 2 ranks: index 13 is on rank 0, which alone sees the NaN (rank 1 ends or is stopped).
  const error = await t.throwsAsync(onRanks(2, "untilRanks.ts", "blowUp", { k: 3 }), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 0, name: "FieldNotFinite", message: "rank 0: field u holds NaN at global index [13] after step 6 (--check-finite)" })
  const [refused] = await onRanks<string>(2, "untilRanks.ts", "blowUp", { k: 0 })
  t.is(refused, "InvalidPipeline: run: checkFinite must be a positive integer (a step interval), got 0")
})
