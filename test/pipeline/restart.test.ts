// Checkpoint and restart: a run that writes checkpoints, stops, and resumes
// from the newest one (on another rank count) gives exactly the fields of a
// run never interrupted — random grids, fields, element types and previous
// levels, a time-blocked loop restarted mid-cycle, an until loop — and the
// command line refuses a restart with nothing to restart from.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import fc from "fast-check"
import { fingerprint } from "rankflow"
import { onRanks, runProgram } from "../helpers.ts"
import type { Case, Side } from "../fixtures/multiFields.ts"

const prints = (v: unknown): unknown =>
  ArrayBuffer.isView(v) ? `${v.constructor.name}:${fingerprint(v)}` : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, prints(x)])) : v

const sideArb: fc.Arbitrary<Side> = fc.oneof(fc.constant({ kind: "periodic" } as const), fc.constant({ kind: "neumann" } as const), fc.integer({ min: 0, max: 5 }).map((value) => ({ kind: "dirichlet", value }) as const))
const caseArb = fc.record({ dims: fc.constantFrom(1, 2), count: fc.integer({ min: 1, max: 3 }), total: fc.integer({ min: 4, max: 12 }), cut: fc.integer({ min: 1, max: 11 }) }).chain(({ dims, count, total, cut }) =>
  fc.record({
    c: fc.record({
      shape: fc.constant(dims === 1 ? [23] : [11, 13]),
      sides: fc.array(sideArb, { minLength: dims, maxLength: dims }),
      fields: fc.tuple(
        ...Array.from({ length: count }, (_, j) =>
          fc.record({
            name: fc.constant(["u", "v", "w"][j]!),
            type: fc.constantFrom("float64" as const, "float32" as const, "int32" as const, "uint8" as const),
            previous: fc.boolean(),
            weights: fc.array(fc.constantFrom(0, 0.05, -0.05, 1), { minLength: count, maxLength: count }),
          }),
        ),
      ),
      steps: fc.constant(total),
    }) as fc.Arbitrary<Case>,
    // The checkpoint step: some step before the end, a multiple of the checkpoint interval.
    at: fc.constant(Math.min(cut, total - 1)),
  }),
)

const scratch = () => mkdtempSync(join(tmpdir(), "rankflow-restart-"))

test("a checkpoint at a random step, restarted on another rank count, equals the uninterrupted run bit for bit (12 random grids of 1–3 fields, types, previous levels)", async (t) => {
  const samples = fc.sample(caseArb, { numRuns: 12, seed: 77 })
  const cases = samples.map((s) => s.c)
  const dirs = cases.map(() => scratch())
  try {
    const whole = (await onRanks<unknown[]>(1, "multiFields.ts", "runCases", { cases }))[0]!
    // Phase 1 on 3 ranks: run to the checkpoint step, checkpointing every step there divides.
    await onRanks(3, "multiFields.ts", "runCheckpointed", { cases, steps: samples.map((s) => s.at), every: samples.map((s) => s.at), dirs, restart: false })
    for (const [k, d] of dirs.entries()) t.deepEqual(readdirSync(d), [`step-${String(samples[k]!.at).padStart(9, "0")}`])
    // Phase 2 on 2 ranks (and on 4): resume to the end.
    for (const ranks of [2, 4]) {
      const resumed = (await onRanks<unknown[]>(ranks, "multiFields.ts", "runCheckpointed", { cases, steps: cases.map((c) => c.steps), dirs, restart: true }))[0]!
      cases.forEach((c, k) => t.deepEqual(prints(resumed[k]), prints(whole[k]), `${ranks} ranks, from step ${samples[k]!.at}: ${JSON.stringify(c)}`))
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  }
})

test("a loop blocked in time (ghosts exchanged every 8 steps) restarts mid-cycle with the same field", async (t) => {
  const whole = (await onRanks<Float64Array>(2, "multiFields.ts", "blockedHeat", { steps: 100, dir: "unused", restart: false }))[0]!
  for (const at of [8, 13, 37]) {
    const dir = scratch()
    try {
      await onRanks(4, "multiFields.ts", "blockedHeat", { steps: at, every: at, dir, restart: false })
      const resumed = (await onRanks<Float64Array>(3, "multiFields.ts", "blockedHeat", { steps: 100, dir, restart: true }))[0]!
      t.is(fingerprint(resumed), fingerprint(whole), `checkpoint at step ${at}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

test("an until loop restarts at its checkpoint, makes the check it was taken before, and stops at the same step", async (t) => {
  const whole = (await onRanks<{ value: Float64Array; steps: number; converged: boolean }>(2, "multiFields.ts", "jacobiUntil", { maxSteps: 3000, dir: "unused", restart: false }))[0]!
  t.true(whole.converged)
  // Checkpoints every 7 steps land on checks; stop the first run well before convergence, at a check.
  const dir = scratch()
  try {
    const first = (await onRanks<{ steps: number; converged: boolean }>(3, "multiFields.ts", "jacobiUntil", { maxSteps: 700, every: 7, dir, restart: false }))[0]!
    t.false(first.converged)
    const resumed = (await onRanks<{ value: Float64Array; steps: number; converged: boolean }>(1, "multiFields.ts", "jacobiUntil", { maxSteps: 3000, dir, restart: true }))[0]!
    t.is(resumed.steps, whole.steps)
    t.true(resumed.converged)
    t.is(fingerprint(resumed.value), fingerprint(whole.value))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("heat from the command line: --checkpoint-every writes step directories, --restart on other ranks resumes to the uninterrupted fingerprint; no checkpoint is exit 2", async (t) => {
  const dir = scratch()
  try {
    const whole = await runProgram("pipelines/heat.ts", ["--ranks", "2", "--t", "0.03"])
    const first = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--t", "0.012", "--checkpoint-every", "400", "--checkpoint-dir", dir, "--checkpoint-keep", "2"])
    t.is(first.code, 0, first.stderr)
    t.deepEqual(readdirSync(dir), ["step-000000800", "step-000001200"])
    const resumed = await runProgram("pipelines/heat.ts", ["--ranks", "4", "--t", "0.03", "--restart", "--checkpoint-dir", dir])
    t.is(resumed.code, 0, resumed.stderr)
    t.regex(resumed.stdout, /^heat: 4 ranks on 2 threads, [0-9.]+ s, 3000 steps \(restarted after step 1200: 1800 run, /m)
    t.is(/fingerprint (\w+)/.exec(resumed.stdout)?.[1], /fingerprint (\w+)/.exec(whole.stdout)?.[1])
    const none = await runProgram("pipelines/heat.ts", ["--ranks", "2", "--restart", "--checkpoint-dir", join(dir, "missing")])
    t.is(none.code, 2)
    t.regex(none.stderr, /--restart: no complete checkpoint in .*missing/)
    t.false(existsSync(join(dir, "missing")))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
