// Data in and out of grid pipelines, and fields of each element type, on
// real ranks: a field from rank 0's array reaches every rank's block (gather
// gives the array back, on uneven 1-3-D grids); the wrong array fails on every
// rank; a field read from a .npy file (ours or numpy's) or a raw file gives
// the same mapLocal, reductions and gather as its computed twin; save() on
// 1-4 ranks writes a file readNpy reads back equal to gather(); Float32,
// Int32 and Uint8 fields gather their typed arrays, reduce and stay
// bit-identical across rank counts; --explain shows packed fields.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { type ElementType, explain, explainJson, fingerprint, Pipeline, readNpy, writeNpy } from "rankflow"
import { computed, type DataCase, globalArray, gridOf, smooth1, smooth2, valueAt } from "../fixtures/fieldData.ts"
import { onRanks, ROOT, runProgram } from "../helpers.ts"

const scratch = mkdtempSync(join(tmpdir(), "rankflow-fielddata-"))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

const ARRAYS = { float64: Float64Array, float32: Float32Array, int32: Int32Array, uint8: Uint8Array } as const
type AnyArray = Float64Array | Float32Array | Int32Array | Uint8Array
/** Threads × partitions: real thread counts, and more partitions than threads. */
const LAYOUTS = [[1, 1], [2, 2], [3, 3], [4, 4], [2, 5]] as const
const what = ([threads, partitions]: readonly [number, number]) => (threads === partitions ? `${threads} rank(s)` : `${partitions} partitions on ${threads} threads`)
const withPartitions = <T extends object>(args: T, [threads, partitions]: readonly [number, number]) => (threads === partitions ? args : { ...args, partitions })
const filled = (type: ElementType, length: number, value: (i: number) => number): AnyArray => {
  const a = new ARRAYS[type](length)
  for (let i = 0; i < length; i++) a[i] = value(i)
  return a
}
const same = (a: unknown, b: AnyArray): boolean => a instanceof b.constructor && fingerprint(a as AnyArray) === fingerprint(b)

test("a field from rank 0's array (other ranks pass undefined) reaches every block: gather gives the array back, typed, on uneven 1-, 2- and 3-D grids, alone or beside a computed field", async (t) => {
  const cases: DataCase[] = [
    { shape: [1001], type: "float64" },
    { shape: [37, 53], type: "float64" },
    { shape: [37, 53], type: "int32" },
    { shape: [7, 5, 9], type: "uint8" },
    { shape: [13, 11], type: "float32" },
  ]
  for (const layout of LAYOUTS) {
    const [got] = await onRanks<Array<{ alone: unknown; pair: { u: unknown; v: unknown } }>>(layout[0], "fieldData.ts", "scatterGather", withPartitions({ cases }, layout))
    cases.forEach(({ shape, type }, k) => {
      const want = globalArray(type, shape) as AnyArray
      t.true(same(got![k]!.alone, want), `${type} ${shape.join("×")} on ${what(layout)}`)
      t.true(same(got![k]!.pair.u, want), `as field u of two, ${type} ${shape.join("×")} on ${what(layout)}`)
      t.true(same(got![k]!.pair.v, globalArray("int32", shape) as AnyArray), "the computed field beside it")
    })
  }
})

test("an array of the wrong length, or none, on rank 0 fails with FieldDataMismatch on every rank, naming the lengths; nothing hangs", async (t) => {
  for (const [length, message] of [
    [37 * 53 - 1, "field u: rank 0's array has 1960 elements, the grid 1961 points"],
    [37 * 53 + 53, "field u: rank 0's array has 2014 elements, the grid 1961 points"],
    [null, "field u: rank 0 holds no array (it must hold the whole field in global row-major order)"],
  ] as const)
    for (const layout of [[1, 1], [3, 3], [2, 4]] as const) {
      const errors = await onRanks<{ tag: string; message: string }>(layout[0], "fieldData.ts", "badArray", withPartitions({ shape: [37, 53], length }, layout))
      t.is(errors.length, layout[0])
      for (const e of errors) t.deepEqual(e, { tag: "FieldDataMismatch", message }, `${what(layout)}`)
    }
})

/** next = 3u − 1 at every point, stored in the type; its gather, SUM, MAX, MIN, serially. */
function serialFold(values: AnyArray): { gathered: AnyArray; sum: number; max: number; min: number } {
  const gathered = values.map((v) => 3 * v - 1) as AnyArray
  let sum = 0
  for (const v of gathered) sum += v
  return { gathered, sum, max: Math.max(...gathered), min: Math.min(...gathered) }
}

test("a field read from a .npy file written by writeNpy, or from raw elements, gives the same mapLocal, reductions and gather as its computed twin (1–4 ranks, 5 partitions)", async (t) => {
  const cases: Array<DataCase & { format?: "raw" }> = [
    { shape: [37, 53], type: "float64" },
    { shape: [1001], type: "int32" },
    { shape: [7, 5, 9], type: "uint8", format: "raw" },
    { shape: [13, 11], type: "float32" },
  ]
  for (const c of cases) {
    const values = globalArray(c.type, c.shape) as AnyArray
    const path = join(scratch, `in-${c.type}-${c.shape.join("x")}.${c.format === "raw" ? "bin" : "npy"}`)
    if (c.format === "raw") writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    else writeNpy(path, values, c.shape)
    const want = serialFold(values)
    for (const layout of LAYOUTS) {
      const [got] = await onRanks<{ file: { gathered: unknown; sum: number; max: number; min: number }; computed: { gathered: unknown; sum: number; max: number; min: number } }>(layout[0], "fieldData.ts", "fileVsComputed", withPartitions({ path, ...c }, layout))
      const label = `${c.type} ${c.shape.join("×")} on ${what(layout)}`
      t.true(same(got!.file.gathered, want.gathered), label)
      t.true(same(got!.computed.gathered, want.gathered), label)
      t.deepEqual({ ...got!.file, gathered: 0 }, { ...got!.computed, gathered: 0 }, label)
      t.like(got!.file, { max: want.max, min: want.min })
      t.true(Math.abs(got!.file.sum - want.sum) <= 1e-9 * Math.abs(want.sum), `${label}: sum ${got!.file.sum} vs ${want.sum}`)
    }
  }
})

test("fields read from numpy's own .npy files (f8 6×11, i4 23, u1 7) hold numpy's values and fold like computed ones", async (t) => {
  const numpy: Array<{ file: string; shape: number[]; type: ElementType; value: (i: number) => number }> = [
    { file: "f8_6x11.npy", shape: [6, 11], type: "float64", value: (i) => i * 0.25 - 1 },
    { file: "i4_23.npy", shape: [23], type: "int32", value: (i) => i * 1000 - 7 },
    { file: "u1_7.npy", shape: [7], type: "uint8", value: (i) => (i * 37) % 256 },
  ]
  for (const { file, shape, type, value } of numpy) {
    const values = filled(type, shape.reduce((a, b) => a * b, 1), value)
    const want = serialFold(values)
    for (const layout of [[1, 1], [3, 3]] as const) {
      const [got] = await onRanks<{ file: { gathered: unknown; sum: number; max: number; min: number } }>(layout[0], "fieldData.ts", "fileVsComputed", { path: join(ROOT, "test/fixtures/npy", file), shape, type })
      t.true(same(got!.file.gathered, want.gathered), `${file} on ${what(layout)}`)
      t.like(got!.file, { sum: want.sum, max: want.max, min: want.min })
    }
  }
  const errors = await onRanks<{ tag: string; message: string }>(2, "fieldData.ts", "badFile", { path: join(ROOT, "test/fixtures/npy/f8_6x11.npy"), shape: [11, 6], type: "float64" })
  for (const e of errors) t.is(e.tag, "FieldFileError", `a 6×11 file on an 11×6 grid: ${e.message}`)
  const typed = await onRanks<{ tag: string; message: string }>(2, "fieldData.ts", "badFile", { path: join(ROOT, "test/fixtures/npy/i4_23.npy"), shape: [23], type: "float64" })
  for (const e of typed) t.is(e.tag, "FieldFileError", `an int32 file for a float64 field: ${e.message}`)
  const missing = await onRanks<{ tag: string; message: string }>(3, "fieldData.ts", "badFile", { path: join(scratch, "no-such-file.npy"), shape: [23], type: "float64" })
  t.is(missing.length, 3)
  for (const e of missing) t.like(e, { tag: "FieldFileError" }, `a missing file fails on every rank: ${e.message}`)
  t.true(missing.some((e) => e.message.includes("no-such-file.npy")))
})

/** The typed smoothing of fixtures/fieldData.ts, serially on a periodic grid. */
function serialSmooth(shape: ReadonlyArray<number>, type: ElementType, steps: number): AnyArray {
  const total = shape.reduce((a, b) => a * b, 1)
  let u = filled(type, total, (g) => valueAt(type, g))
  for (let s = 0; s < steps; s++) {
    const next = new ARRAYS[type](total) as AnyArray
    for (let g = 0; g < total; g++) {
      if (shape.length === 1) {
        const n = shape[0]!
        next[g] = smooth1({ length: 3, 0: u[(g - 1 + n) % n]!, 1: u[g]!, 2: u[(g + 1) % n]! }, 1)
      } else {
        const [nx, ny] = shape as [number, number]
        const [a, c] = [Math.floor(g / ny), g % ny]
        const at = (i: number, j: number) => u[((i + nx) % nx) * ny + ((j + ny) % ny)]!
        // A 3 × 3 window with stride 3 around its centre 4.
        next[g] = smooth2([0, at(a - 1, c), 0, at(a, c - 1), at(a, c), at(a, c + 1), 0, at(a + 1, c), 0], 4, 3)
      }
    }
    u = next
  }
  return u
}

test("Float32, Int32 and Uint8 single fields gather their typed arrays, SUM/MAX/MIN over them equal the serial values, and their fingerprints are identical on 1–4 ranks and 5 partitions", async (t) => {
  const cases: Array<DataCase & { steps: number }> = [
    { shape: [29, 31], type: "float32", steps: 6 },
    { shape: [29, 31], type: "int32", steps: 6 },
    { shape: [29, 31], type: "uint8", steps: 6 },
    { shape: [101], type: "int32", steps: 9 },
    { shape: [101], type: "uint8", steps: 9 },
  ]
  for (const c of cases) {
    const want = serialSmooth(c.shape, c.type, c.steps)
    let sum = 0
    for (const v of want) sum += v
    t.true(new Set(want).size > 10, "a field with many distinct values")
    for (const layout of LAYOUTS) {
      const results = await onRanks<{ gathered: unknown; sum: number; max: number; min: number }>(layout[0], "fieldData.ts", "typedRun", withPartitions(c, layout))
      const got = results[0]!
      const label = `${c.type} ${c.shape.join("×")} on ${what(layout)}`
      t.true(got.gathered instanceof ARRAYS[c.type], label)
      t.is(fingerprint(got.gathered as AnyArray), fingerprint(want), label)
      t.like(got, { max: Math.max(...want), min: Math.min(...want) }, label)
      if (c.type === "float32") t.true(Math.abs(got.sum - sum) <= 1e-9 * Math.abs(sum), label)
      else t.is(got.sum, sum, label)
      for (const r of results.slice(1)) t.is(r.max, got.max, "allreduce(MAX): on every rank")
    }
  }
})

test("save('x.npy') on 1–4 ranks (and 5 partitions on 2 threads) writes one .npy file that readNpy reads back equal to gather(), for every element type", async (t) => {
  for (const type of ["float64", "float32", "int32", "uint8"] as const)
    for (const layout of LAYOUTS) {
      const shape = type === "float64" ? [37, 53] : [29, 31]
      const path = join(scratch, `out-${type}-${layout.join("-")}.npy`)
      const [got] = await onRanks<{ saved: string; gathered: AnyArray }>(layout[0], "fieldData.ts", "typedRun", withPartitions({ shape, type, steps: 4, path }, layout))
      t.is(got!.saved, path)
      const read = readNpy(path)
      t.deepEqual(read.shape, shape)
      t.is(read.type, type)
      t.is(fingerprint(read.data), fingerprint(got!.gathered), `${type} on ${what(layout)}`)
      t.is(fingerprint(read.data), fingerprint(serialSmooth(shape, type, 4)))
    }
})

test("save({ u, c }) of two fields (Float64, Int32) writes one file per field, each equal to that field of gather(), on 1, 3 and 4 ranks", async (t) => {
  let first: string | undefined
  for (const layout of [[1, 1], [3, 3], [4, 4], [2, 6]] as const) {
    const paths = { u: join(scratch, `pair-u-${layout.join("-")}.npy`), c: join(scratch, `pair-c-${layout.join("-")}.raw`) }
    const [got] = await onRanks<{ saved: { u: string; c: string }; gathered: { u: Float64Array; c: Int32Array } }>(layout[0], "fieldData.ts", "savePair", withPartitions({ shape: [19, 24], steps: 5, paths }, layout))
    t.deepEqual(got!.saved, paths)
    const u = readNpy(paths.u)
    t.like(u, { type: "float64", shape: [19, 24] })
    t.is(fingerprint(u.data), fingerprint(got!.gathered.u))
    const raw = new Int32Array(new Uint8Array((await import("node:fs")).readFileSync(paths.c)).buffer)
    t.is(fingerprint(raw), fingerprint(got!.gathered.c), "c.raw holds the Int32 elements alone")
    const prints = `${fingerprint(got!.gathered.u)} ${fingerprint(got!.gathered.c)}`
    if (first === undefined) first = prints
    else t.is(prints, first, what(layout))
  }
})

test("explain shows each field with its type and one message per neighbour for two fields, the second field adding only its bytes", (t) => {
  const grid = gridOf([37, 53], true) as import("rankflow").Grid.Grid<2>
  const one = Pipeline.distribute(grid, { u: computed("float64", [37, 53]) })
    .iterate(3, (s) => s.haloExchange().stencil({ u: (f, i, row) => smooth2(f.u, i, row) }))
    .gather()
  const two = Pipeline.distribute(grid, { u: computed("float64", [37, 53]), c: { init: computed("uint8", [37, 53]), type: "uint8" } })
    .iterate(3, (s) => s.haloExchange().stencil({ u: (f, i, row) => smooth2(f.u, i, row) + f.c[i + 1]!, c: (f, i) => f.c[i]! + 1 }))
    .gather()
  type Stage = { stage: string; messages: Array<{ count: number; bytes: number; reason: string }> }
  const exchange = (p: typeof one, ranks: number) => (JSON.parse(explainJson(Pipeline.plan(p, ranks))) as { stages: Stage[] }).stages.find((s) => s.stage.includes("haloExchange"))!
  for (const ranks of [2, 4, 6]) {
    const a = exchange(one, ranks)
    const b = exchange(two, ranks)
    t.is(b.messages[0]!.count, a.messages[0]!.count, `${ranks} ranks: as many messages for two fields as for one`)
    t.is(b.messages[0]!.bytes, (a.messages[0]!.bytes / 8) * 9, `${ranks} ranks: + 1 byte a face point for the Uint8 field`)
    t.regex(b.stage, /haloExchange \(width 1, fields u, c\)/)
    t.regex(b.messages[0]!.reason, /the faces of u \(float64\), c \(uint8\) packed into one message per neighbour/)
  }
  const single = (type: ElementType) =>
    exchange(Pipeline.distribute(grid, computed(type, [37, 53]), { type }).iterate(3, (s) => s.haloExchange().stencil((u, i, row) => smooth2(u, i, row))).gather() as unknown as typeof one, 4).messages[0]!
  const float64 = single("float64")
  t.is(float64.bytes, exchange(one, 4).messages[0]!.bytes, "one field, declared either way")
  for (const [type, size] of [["float32", 4], ["int32", 4], ["uint8", 1]] as const) {
    t.is(single(type).count, float64.count)
    t.is(single(type).bytes, (float64.bytes / 8) * size, `a ${type} field sends ${size}/8 of the bytes`)
  }
  const text = explain(Pipeline.plan(two, 4))
  t.regex(text, /2 × Uint8Array\(\d+\) per rank: field c with its ghost frame/)
  t.regex(text, /\{ u: Float64Array\(1961\), c: Uint8Array\(1961\) \} in global order on rank 0/)
})

test("--explain of grayScott names both fields and packs them into one message per neighbour", async (t) => {
  const run = await runProgram("pipelines/grayScott.ts", ["--ranks", "4", "--n", "64", "--explain", "--dry-run"])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /haloExchange \(width 1, fields u, v\)/)
  t.regex(run.stdout, /ghost faces to neighbours .*: 16 messages, .* — buffer \(the faces of u \(float64\), v \(float64\) packed into one message per neighbour\)/)
  t.notRegex(run.stdout, /^grayScott: /m, "nothing ran")
})
