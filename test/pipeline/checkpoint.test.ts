// Checkpoints: written by one rank count and read back on another with the
// same values; a crash mid-write leaves only a .tmp directory that restarts
// ignore and the next checkpoint removes; keep-K prunes; a checkpoint that
// does not fit the pipeline is refused naming each difference.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { CheckpointError, FieldFileError, InvalidArgument } from "../../src/errors.ts"
import type { WriteComm } from "../../src/pipeline/blockFile.ts"
import { latestCheckpoint, listCheckpoints, readCheckpoint, writeCheckpoint, type CheckpointComm, type Manifest } from "../../src/pipeline/checkpoint.ts"
import { readNpy, writeNpy } from "../../src/pipeline/npy.ts"
import { cut } from "../fixtures/blockFiles.ts"
import { fieldAt, type CheckpointCase, type Restored } from "../fixtures/checkpoints.ts"
import { onRanks } from "../helpers.ts"

const scratch = mkdtempSync(join(tmpdir(), "rankflow-checkpoint-"))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

const aloneWrite: WriteComm = { rank: 0, bcast: <T>(v: T | undefined) => v as T, allgather: <T>(v: T) => [v] }
const alone: CheckpointComm = { ...aloneWrite, size: 1 }

const FIELDS = [
  { name: "u", type: "float64", previous: true },
  { name: "mask", type: "uint8" },
  { name: "h", type: "float32" },
] as const

/** Checks every restored block of every field against the values at `step`. */
function checkRestored(t: import("ava").ExecutionContext, c: CheckpointCase, results: Restored[], step: number): void {
  let blocks = 0
  for (const r of results) {
    t.is(r.step, step)
    t.deepEqual(r.extra, { measure: 1 / (step + 1) })
    for (const f of c.fields) {
      const restored = r.fields[f.name]!
      r.blocks.forEach((b, i) => {
        t.deepEqual(restored.current[i], cut(fieldAt(f.type, c.shape, step, 0), c.shape, b), `${f.name} at ${b.start}`)
        if (f.previous === true) t.deepEqual(restored.previous![i], cut(fieldAt(f.type, c.shape, step, 1), c.shape, b))
        else t.is(restored.previous, undefined)
      })
    }
    blocks += r.blocks.length
  }
  t.is(blocks, c.partitions, "every block restored once")
}

test("a checkpoint written on 3 ranks restores on 2 ranks with other blocks, previous levels and extra state; keep 2 prunes older ones", async (t) => {
  const dir = join(scratch, "three-to-two")
  const written: CheckpointCase = { dir, shape: [37, 53], partitions: 4, fields: FIELDS }
  const [paths] = await onRanks<string[]>(3, "checkpoints.ts", "saveSteps", { ...written, steps: [0, 10, 20, 30], keep: 2 })
  t.deepEqual(paths, [0, 10, 20, 30].map((s) => join(dir, `step-${String(s).padStart(9, "0")}`)))
  t.deepEqual(readdirSync(dir).sort(), ["step-000000020", "step-000000030"])
  const latest = latestCheckpoint(dir)!
  t.is(latest.step, 30)
  t.deepEqual(readdirSync(latest.path).sort(), ["h.npy", "manifest.json", "mask.npy", "u.npy", "u.prev.npy"])
  const manifest = JSON.parse(readFileSync(join(latest.path, "manifest.json"), "utf8")) as Manifest
  t.like(manifest, { format: "rankflow-checkpoint", formatVersion: 1, step: 30, shape: [37, 53], ranks: 3, extra: { measure: 1 / 31 } })
  t.deepEqual(manifest.fields, [
    { name: "u", type: "float64", files: ["u.npy", "u.prev.npy"] },
    { name: "mask", type: "uint8", files: ["mask.npy"] },
    { name: "h", type: "float32", files: ["h.npy"] },
  ])
  t.regex(manifest.rankflow, /^\d+\.\d+\.\d+/)
  // the files are plain global arrays, as numpy.save would write them
  const reference = join(scratch, "reference-u.npy")
  writeNpy(reference, fieldAt("float64", [37, 53], 30, 0), [37, 53])
  t.deepEqual(readFileSync(join(latest.path, "u.npy")), readFileSync(reference))
  const restored = await onRanks<Restored>(2, "checkpoints.ts", "restore", { ...written, partitions: 5 })
  checkRestored(t, { ...written, partitions: 5 }, restored, 30)
})

test("a crash mid-write leaves only a .tmp directory: restarts use the previous checkpoint and the next checkpoint removes it", async (t) => {
  const dir = join(scratch, "crash")
  const c: CheckpointCase = { dir, shape: [1001], partitions: 2, fields: [{ name: "u", type: "float64", previous: true }] }
  await onRanks(2, "checkpoints.ts", "saveSteps", { ...c, steps: [5] })
  const crash = await t.throwsAsync(onRanks(2, "checkpoints.ts", "crashMidWrite", { ...c, step: 7 }))
  t.regex(crash!.message, /writeBlocks: datas\[0\] = float64\[1\]/, "it failed writing the second field")
  t.deepEqual(readdirSync(dir).sort(), ["step-000000005", "step-000000007.tmp"])
  t.true(existsSync(join(dir, "step-000000007.tmp", "u.npy")), "the crash came after the first field was written")
  t.false(existsSync(join(dir, "step-000000007.tmp", "manifest.json")))
  t.is(latestCheckpoint(dir)!.step, 5)
  checkRestored(t, { ...c, partitions: 3 }, await onRanks<Restored>(1, "checkpoints.ts", "restore", { ...c, partitions: 3 }), 5)
  await onRanks(3, "checkpoints.ts", "saveSteps", { ...c, partitions: 3, steps: [9] })
  t.deepEqual(readdirSync(dir).sort(), ["step-000000005", "step-000000009"])
  t.is(latestCheckpoint(dir)!.step, 9)
})

const one = (dir: string, step: number, extra?: unknown): void => {
  writeCheckpoint(dir, step, { shape: [2, 3], blocks: [{ start: [0, 0], count: [2, 3] }], fields: [{ name: "u", type: "int32", current: [Int32Array.of(1, 2, 3, 4, 5, step)] }], extra }, alone)
}

test("a step written twice is replaced, and reading a given step finds it", (t) => {
  const dir = join(scratch, "twice")
  one(dir, 3)
  one(dir, 4)
  one(dir, 3, "again")
  t.deepEqual(readdirSync(dir).sort(), ["step-000000003", "step-000000004"])
  const r = readCheckpoint(dir, { shape: [2, 3], fields: [{ name: "u", type: "int32" }] }, [{ start: [1, 0], count: [1, 3] }], { step: 3 })
  t.is(r.extra, "again")
  t.deepEqual(Array.from(r.fields.u!.current[0]!), [4, 5, 3])
  t.deepEqual(Array.from(readNpy(join(dir, "step-000000004", "u.npy")).data), [1, 2, 3, 4, 5, 4])
  t.is(readCheckpoint(dir, { shape: [2, 3], fields: [{ name: "u", type: "int32" }] }, []).step, 4, "the newest by default")
})

test("steps order numerically, also past the zero padding", (t) => {
  const dir = join(scratch, "order")
  for (const step of [99, 1_000_000_000, 7]) one(dir, step)
  t.deepEqual(listCheckpoints(dir).map((c) => c.step), [7, 99, 1_000_000_000])
  t.is(latestCheckpoint(dir)!.step, 1_000_000_000)
})

test("restarting with no checkpoint names the directory and the .tmp directories it ignored", (t) => {
  const expected = { shape: [2, 3], fields: [{ name: "u", type: "int32" as const }] }
  const missing = t.throws(() => readCheckpoint(join(scratch, "never"), expected, []), { instanceOf: CheckpointError })!
  t.is(missing.problem, "none")
  t.regex(missing.message, /never: no complete checkpoint to restart from: .*the directory does not exist/)
  const dir = join(scratch, "only-tmp")
  mkdirSync(join(dir, "step-000000004.tmp"), { recursive: true })
  writeFileSync(join(dir, "step-000000004.tmp", "manifest.json"), "{}")
  t.is(latestCheckpoint(dir), undefined)
  const e = t.throws(() => readCheckpoint(dir, expected, []), { instanceOf: CheckpointError })!
  t.is(e.problem, "none")
  t.regex(e.message, /1 incomplete \.tmp checkpoint\(s\) ignored/)
  one(join(scratch, "with-one"), 2)
  const noStep = t.throws(() => readCheckpoint(join(scratch, "with-one"), expected, [], { step: 5 }), { instanceOf: CheckpointError })!
  t.regex(noStep.message, /no checkpoint at step 5 \(steps: 2\)/)
})

test("a checkpoint that does not fit the pipeline is refused naming every difference", (t) => {
  const dir = join(scratch, "mismatch")
  writeCheckpoint(
    dir,
    1,
    {
      shape: [4],
      blocks: [{ start: [0], count: [4] }],
      fields: [
        { name: "u", type: "float64", current: [new Float64Array(4)], previous: [new Float64Array(4)] },
        { name: "v", type: "float32", current: [new Float32Array(4)] },
        { name: "old", type: "uint8", current: [new Uint8Array(4)] },
      ],
    },
    alone,
  )
  const e = t.throws(
    () =>
      readCheckpoint(dir, { shape: [5], fields: [{ name: "u", type: "float64" }, { name: "v", type: "float64" }, { name: "w", type: "int32" }] }, [{ start: [0], count: [5] }]),
    { instanceOf: CheckpointError },
  )!
  t.is(e.problem, "mismatch")
  t.deepEqual(e.differences, [
    "grid [4] in the checkpoint, [5] in the pipeline",
    "field u has a previous level in the checkpoint, none in the pipeline",
    "field v is float32 in the checkpoint, float64 in the pipeline",
    "field w is not in the checkpoint (it holds u, v, old)",
    "field old is in the checkpoint but not in the pipeline",
  ])
  t.regex(e.message, /step-000000001: checkpoint does not fit the pipeline: grid \[4\] in the checkpoint, \[5\] in the pipeline; /)
})

test("a damaged checkpoint fails loudly: an unreadable manifest, a truncated field file", (t) => {
  const dir = join(scratch, "damaged")
  one(dir, 1)
  writeFileSync(join(dir, "step-000000001", "u.npy"), readFileSync(join(dir, "step-000000001", "u.npy")).subarray(0, 130))
  const short = t.throws(() => readCheckpoint(dir, { shape: [2, 3], fields: [{ name: "u", type: "int32" }] }, [{ start: [0, 0], count: [1, 3] }]), { instanceOf: FieldFileError })!
  t.is(short.problem, "short")
  writeFileSync(join(dir, "step-000000001", "manifest.json"), "{ not json")
  const corrupt = t.throws(() => latestCheckpoint(dir), { instanceOf: CheckpointError })!
  t.is(corrupt.problem, "corrupt")
  t.regex(corrupt.message, /step-000000001: checkpoint is unreadable: manifest\.json: /)
  one(dir, 2)
  t.is(readCheckpoint(dir, { shape: [2, 3], fields: [{ name: "u", type: "int32" }] }, []).step, 2, "a damaged older checkpoint does not stop a restart from the newest")
})

test("bad steps and field names are refused before anything is written", (t) => {
  const dir = join(scratch, "bad-args")
  const state = (name: string) => ({ shape: [2], blocks: [], fields: [{ name, type: "uint8" as const, current: [] }] })
  t.throws(() => writeCheckpoint(dir, -1, state("u"), alone), { instanceOf: InvalidArgument, message: /step = -1 must be a non-negative integer/ })
  t.throws(() => writeCheckpoint(dir, 1, state("../u"), alone), { instanceOf: InvalidArgument, message: /field name = \.\.\/u must be a JavaScript identifier/ })
  t.throws(() => writeCheckpoint(dir, 1, state("u"), alone, { keep: 0 }), { instanceOf: InvalidArgument, message: /keep = 0 must be an integer ≥ 1/ })
  t.false(existsSync(dir))
})

test("extra state keeps every bit of its numbers (NaN, ±Infinity, -0, 0.1 + 0.2) and refuses what JSON cannot hold", (t) => {
  const dir = join(scratch, "extra")
  const extra = { measure: 0.1 + 0.2, best: -Infinity, last: NaN, zero: -0, history: [Infinity, 1e-310, 5], name: "jacobi" }
  const written = writeCheckpoint(dir, 1, { shape: [1], blocks: [], fields: [], extra }, alone)
  t.deepEqual(written.manifest.extra, extra)
  const read = readCheckpoint(dir, { shape: [1], fields: [] }, []).extra as typeof extra
  t.deepEqual(read, extra)
  t.true(Object.is(read.zero, -0))
  t.is(read.measure, 0.30000000000000004)
  t.throws(() => writeCheckpoint(dir, 2, { shape: [1], blocks: [], fields: [], extra: { n: 3n } }, alone), { instanceOf: InvalidArgument, message: /extra = object must be JSON data \(a bigint \(3n\) is not JSON\)/ })
  t.is(latestCheckpoint(dir)!.step, 1, "nothing was written for the refused one")
})
