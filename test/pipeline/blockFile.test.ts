// Parallel block I/O of one global array: blocks written by 1–4 ranks (and
// several blocks per rank) make the same file as a serial write, byte for
// byte; reading it back on another decomposition gives each block's values;
// only the block's runs are read; files that do not fit fail on every rank.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import fc from "fast-check"
import { FieldFileError, InvalidArgument, type FieldFileProblem } from "../../src/errors.ts"
import { blockRuns, readBlocks, writeBlocks, type ArraySpec, type WriteComm } from "../../src/pipeline/blockFile.ts"
import { bytesOf, writeNpy, type ElementType } from "../../src/pipeline/npy.ts"
import { cut, globalArray, regionsOf, type FileCase, type ReadBack } from "../fixtures/blockFiles.ts"
import { onRanks, ROOT } from "../helpers.ts"

const scratch = mkdtempSync(join(tmpdir(), "rankflow-blockfile-"))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))
const numpyFile = (name: string): string => join(ROOT, "test/fixtures/npy", name)

/** One thread alone: the collectives are identities. */
const alone: WriteComm = { rank: 0, bcast: <T>(v: T | undefined) => v as T, allgather: <T>(v: T) => [v] }

test("a block's runs: trailing dimensions it spans fully merge into one run", (t) => {
  t.deepEqual(blockRuns([1001], { start: [250], count: [251] }), [[250, 251]])
  t.deepEqual(blockRuns([37, 53], { start: [10, 0], count: [9, 53] }), [[530, 477]], "whole rows: one read")
  t.deepEqual(blockRuns([37, 53], { start: [10, 20], count: [3, 7] }), [[550, 7], [603, 7], [656, 7]])
  t.deepEqual(blockRuns([4, 5, 6], { start: [1, 0, 0], count: [2, 5, 6] }), [[30, 60]])
  t.deepEqual(blockRuns([4, 5, 6], { start: [1, 2, 0], count: [2, 3, 6] }), [[42, 18], [72, 18]], "whole rows of a plane merge")
  t.is(blockRuns([4, 5, 6], { start: [0, 1, 2], count: [4, 3, 2] }).length, 12)
  t.deepEqual(blockRuns([4, 5], { start: [1, 1], count: [0, 3] }), [], "an empty block reads nothing")
})

test("blocks of numpy-written files read as slices of numpy's array", (t) => {
  const f8 = Float64Array.from({ length: 66 }, (_, i) => i * 0.25 - 1)
  for (const block of [{ start: [0, 0], count: [6, 11] }, { start: [2, 3], count: [3, 5] }, { start: [5, 10], count: [1, 1] }, { start: [1, 0], count: [2, 11] }]) {
    const [data] = readBlocks(numpyFile("f8_6x11.npy"), { shape: [6, 11], type: "float64" }, [block])
    t.deepEqual(Array.from(data!), cut(f8, [6, 11], block))
  }
  const i4 = Int32Array.from({ length: 24 }, (_, i) => i * 1000 - 7)
  const blocks = [{ start: [1, 1, 1], count: [1, 2, 3] }, { start: [0, 0, 2], count: [2, 3, 2] }]
  const read = readBlocks(numpyFile("i4_2x3x4.npy"), { shape: [2, 3, 4], type: "int32" }, blocks)
  t.true(read[0] instanceof Int32Array)
  t.deepEqual(read.map((a) => Array.from(a)), blocks.map((b) => cut(i4, [2, 3, 4], b)))
})

test("one thread writes several blocks into one file: the same bytes as writing the whole array", (t) => {
  for (const [shape, type] of [[[1001], "float64"], [[37, 53], "int32"], [[7, 5, 9], "uint8"], [[37, 53], "float32"]] as Array<[number[], ElementType]>) {
    const spec: ArraySpec = { shape, type }
    const global = globalArray(type, shape)
    const path = join(scratch, `alone-${type}-${shape.join("x")}.npy`)
    const blocks = regionsOf(shape, 5, 0, 1)
    writeBlocks(path, spec, blocks, blocks.map((b) => readBlocksLike(type, cut(global, shape, b))), alone)
    const reference = join(scratch, `reference-${type}-${shape.join("x")}.npy`)
    writeNpy(reference, global, shape)
    t.deepEqual(readFileSync(path), readFileSync(reference))
    const raw = join(scratch, `alone-${type}.bin`)
    writeBlocks(raw, { ...spec, format: "raw" }, blocks, blocks.map((b) => readBlocksLike(type, cut(global, shape, b))), alone)
    t.deepEqual(new Uint8Array(readFileSync(raw)), bytesOf(global), "raw: the elements alone, little-endian")
  }
})

function readBlocksLike(type: ElementType, values: number[]): import("../../src/pipeline/npy.ts").ElementArray {
  const make = { float64: Float64Array, float32: Float32Array, int32: Int32Array, uint8: Uint8Array }[type]
  return make.from(values)
}

test("property: any blocks of any 1-3-D array, written in any order by one thread, read back as the array's slices", (t) => {
  const dir = mkdtempSync(join(scratch, "property-"))
  let run = 0
  const arbitraryCase = fc
    .record({
      shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
      type: fc.constantFrom<ElementType>("float64", "float32", "int32", "uint8"),
      partitions: fc.integer({ min: 1, max: 6 }),
      raw: fc.boolean(),
    })
    .chain((c) =>
      fc.record({
        c: fc.constant(c),
        reads: fc.array(
          fc.tuple(...c.shape.map((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: n })))).map((ranges) => ({
            start: ranges.map(([a, b]) => Math.min(a, b)),
            count: ranges.map(([a, b]) => Math.abs(a - b)),
          })),
          { maxLength: 4 },
        ),
      }),
    )
  fc.assert(
    fc.property(arbitraryCase, ({ c, reads }) => {
      const global = globalArray(c.type, c.shape)
      const path = join(dir, `case-${run++}${c.raw ? ".bin" : ".npy"}`)
      const spec: ArraySpec = { shape: c.shape, type: c.type }
      const blocks = regionsOf(c.shape, c.partitions, 0, 1).reverse()
      writeBlocks(path, spec, blocks, blocks.map((b) => readBlocksLike(c.type, cut(global, c.shape, b))), alone)
      const whole = readBlocks(path, spec, [{ start: c.shape.map(() => 0), count: c.shape }])[0]!
      const runs = reads.map((b) => blockRuns(c.shape, b).length)
      return (
        Buffer.from(bytesOf(whole)).equals(Buffer.from(bytesOf(global))) &&
        readBlocks(path, spec, reads).every((a, i) => Array.from(a).join() === cut(global, c.shape, reads[i]!).join()) &&
        reads.every((b, i) => runs[i]! <= b.count.slice(0, -1).reduce((p, q) => p * q, 1))
      )
    }),
    { numRuns: 200 },
  )
  t.pass()
})

const CASES = (dir: string, ranks: number): FileCase[] => [
  { path: join(dir, `line-${ranks}.npy`), shape: [1001], type: "float64", writePartitions: ranks, readPartitions: ranks === 1 ? 3 : ranks - 1 },
  { path: join(dir, `plane-${ranks}.npy`), shape: [37, 53], type: "int32", writePartitions: ranks, readPartitions: 5 },
  { path: join(dir, `plane-many-${ranks}.npy`), shape: [37, 53], type: "float32", writePartitions: 2 * ranks + 1, readPartitions: 1 },
  { path: join(dir, `box-${ranks}.bin`), shape: [7, 5, 9], type: "uint8", writePartitions: ranks + 2, readPartitions: 4 },
  { path: join(dir, `line-one-writer-${ranks}.npy`), shape: [1001], type: "int32", writePartitions: 1, readPartitions: 2 }, // ranks with no block still take part
]

for (const ranks of [1, 2, 3, 4]) {
  test(`blocks written by ${ranks} rank(s) make the same file as a serial write, and read back on another decomposition`, async (t) => {
    const cases = CASES(scratch, ranks)
    const results = await onRanks<ReadBack[][]>(ranks, "blockFiles.ts", "writeAndRead", { cases })
    cases.forEach((c, i) => {
      const global = globalArray(c.type, c.shape)
      const reference = join(scratch, `serial-${ranks}-${i}.npy`)
      writeNpy(reference, global, c.shape)
      const expected = c.path.endsWith(".npy") ? readFileSync(reference) : Buffer.from(bytesOf(global))
      t.deepEqual(readFileSync(c.path), expected, c.path)
      const blocks = results.flatMap((perRank) => perRank[i]!)
      t.is(blocks.length, c.readPartitions, "every block read once")
      for (const b of blocks) t.deepEqual(b.data, cut(global, c.shape, b), `${c.path} block at ${b.start}`)
    })
  })
}

test("a file written on 3 ranks reads back on 2 ranks with other blocks", async (t) => {
  const dir = mkdtempSync(join(scratch, "cross-"))
  const cases = CASES(dir, 3)
  await onRanks(3, "blockFiles.ts", "writeAndRead", { cases })
  const again = cases.map((c) => ({ ...c, writePartitions: undefined, readPartitions: 7 }))
  const results = await onRanks<ReadBack[][]>(2, "blockFiles.ts", "writeAndRead", { cases: again })
  again.forEach((c, i) => {
    const global = globalArray(c.type, c.shape)
    const blocks = results.flatMap((perRank) => perRank[i]!)
    t.is(blocks.length, 7)
    for (const b of blocks) t.deepEqual(b.data, cut(global, c.shape, b))
  })
})

const spec23: ArraySpec = { shape: [2, 3], type: "float64" }

test("a missing file, another shape, another type, a short file and a raw file of the wrong size fail before reading", (t) => {
  const fails = (path: string, spec: ArraySpec, problem: FieldFileProblem, pattern: RegExp): void => {
    const block = { start: spec.shape.map(() => 0), count: spec.shape.map(() => 1) }
    const e = t.throws(() => readBlocks(path, spec, [block]), { instanceOf: FieldFileError })!
    t.is(e.problem, problem)
    t.regex(e.message, pattern)
  }
  fails(join(scratch, "none.npy"), spec23, "missing", /none\.npy: cannot open/)
  fails(numpyFile("f8_3x4.npy"), spec23, "shape", /expected shape \[2, 3\] \(the grid\), found shape \[3, 4\]/)
  fails(numpyFile("i4_2x3x4.npy"), { shape: [2, 3, 4], type: "float64" }, "type", /expected float64 .*found int32; int32 → float64 is lossless but rankflow does not convert/)
  fails(numpyFile("f8_6x11.npy"), { shape: [6, 11], type: "float32" }, "type", /found float64; float64 → float32 would lose values/)
  const short = join(scratch, "short.npy")
  copyFileSync(numpyFile("f8_6x11.npy"), short)
  truncateSync(short, 600)
  fails(short, { shape: [6, 11], type: "float64" }, "short", /expected 656 bytes .*found 600 bytes/)
  const raw = join(scratch, "wrong.bin")
  writeFileSync(raw, new Uint8Array(56))
  fails(raw, spec23, "size", /expected 48 bytes \(shape \[2, 3\] of float64, raw little-endian\), found 56 bytes \(7 elements\)/)
  fails(raw, { ...spec23, shape: [2, 4] }, "short", /expected 64 bytes/)
  fails(numpyFile("big_endian_f8.npy"), { shape: [4], type: "float64" }, "unsupported", /big-endian/)
})

test("every rank of a job sees the same error for a file of the wrong shape", async (t) => {
  const c: FileCase = { path: numpyFile("f8_6x11.npy"), shape: [11, 6], type: "float64", readPartitions: 3 }
  const errors = await onRanks<{ tag: string; problem: string; message: string }>(3, "blockFiles.ts", "readMismatch", c)
  t.is(errors.length, 3)
  for (const e of errors) {
    t.is(e.tag, "FieldFileError")
    t.is(e.problem, "shape")
    t.regex(e.message, /expected shape \[11, 6\] \(the grid\), found shape \[6, 11\]/)
  }
})

test("blocks outside the array and data of the wrong type or length are refused by name", (t) => {
  const path = join(scratch, "args.npy")
  const e1 = t.throws(() => writeBlocks(path, spec23, [{ start: [1, 0], count: [2, 3] }], [new Float64Array(6)], alone), { instanceOf: InvalidArgument })!
  t.regex(e1.message, /blocks\[0\] = start \[1, 0\] count \[2, 3\] must lie inside the array of shape \[2, 3\]/)
  const e2 = t.throws(() => writeBlocks(path, spec23, [{ start: [0, 0], count: [1, 3] }], [new Float32Array(3)], alone), { instanceOf: InvalidArgument })!
  t.regex(e2.message, /datas\[0\] = float32\[3\] must be a float64 array of 3 elements/)
  t.throws(() => readBlocks(path, spec23, [{ start: [0], count: [2] }]), { instanceOf: InvalidArgument })
})

test("a file rank 0 cannot create is a FieldFileError on every rank, not a hang", (t) => {
  const e = t.throws(() => writeBlocks(join(scratch, "no-such-dir", "x.npy"), spec23, [], [], alone), { instanceOf: FieldFileError })!
  t.is(e.problem, "write")
  t.regex(e.message, /rank 0: .*ENOENT/)
})
