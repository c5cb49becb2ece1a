// The .npy format: headers round-trip, files numpy wrote (test/fixtures/npy,
// made once by make.py there) are read right, files rankflow writes are byte
// for byte numpy's, and files rankflow cannot read are refused by name.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { FieldFileError, type FieldFileProblem } from "../../src/errors.ts"
import * as Npy from "../../src/pipeline/npy.ts"
import { ROOT } from "../helpers.ts"

const FIXTURES = join(ROOT, "test/fixtures/npy")
const fixture = (name: string): string => join(FIXTURES, name)
const scratch = mkdtempSync(join(tmpdir(), "rankflow-npy-"))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

/** The arrays make.py saved, recomputed from the flat index. */
const f8 = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i * 0.25 - 1)
const f4 = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i * 1.5)
const i4 = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i * 1000 - 7)
const u1 = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256)

const numpyWritten: Array<{ file: string; type: Npy.ElementType; shape: number[]; data: Npy.ElementArray }> = [
  { file: "f8_3x4.npy", type: "float64", shape: [3, 4], data: f8(12) },
  { file: "f8_6x11.npy", type: "float64", shape: [6, 11], data: f8(66) },
  { file: "f4_5.npy", type: "float32", shape: [5], data: f4(5) },
  { file: "i4_2x3x4.npy", type: "int32", shape: [2, 3, 4], data: i4(24) },
  { file: "i4_23.npy", type: "int32", shape: [23], data: i4(23) },
  { file: "u1_7.npy", type: "uint8", shape: [7], data: u1(7) },
]

for (const { file, type, shape, data } of numpyWritten) {
  test(`${file}: numpy's file reads as ${type} ${shape.join("×")} with the values numpy saved`, (t) => {
    const a = Npy.readNpy(fixture(file))
    t.is(a.type, type)
    t.deepEqual(a.shape, shape)
    t.deepEqual(a.data, data)
    const h = Npy.readNpyHeader(fixture(file))
    t.is(h.dataOffset % 64, 0, "numpy aligns the data to 64 bytes")
    t.deepEqual(h.version, [1, 0])
  })

  test(`${file}: rankflow writes the same array byte for byte as numpy.save`, (t) => {
    const out = join(scratch, file)
    Npy.writeNpy(out, data, shape)
    t.deepEqual(readFileSync(out), readFileSync(fixture(file)))
    t.deepEqual(Npy.formatNpyHeader(type, shape), new Uint8Array(readFileSync(fixture(file)).subarray(0, Npy.readNpyHeader(fixture(file)).dataOffset)))
  })
}

test("versions 2.0 and 3.0 (4-byte header length) read as 1.0 does", (t) => {
  for (const [file, version] of [["f8_3x4_v2.npy", [2, 0]], ["f8_3x4_v3.npy", [3, 0]]] as const) {
    const a = Npy.readNpy(fixture(file))
    t.deepEqual(a.shape, [3, 4])
    t.deepEqual(a.data, f8(12))
    t.deepEqual(Npy.readNpyHeader(fixture(file)).version, version)
  }
})

test("headers round-trip for every type and 1-, 2- and 3-D shapes, and the data starts at a multiple of 64", (t) => {
  for (const type of ["float64", "float32", "int32", "uint8"] as const)
    for (const shape of [[0], [1], [1001], [37, 53], [7, 5, 9], [123456789012, 3], []]) {
      const bytes = Npy.formatNpyHeader(type, shape)
      t.is(bytes.length % 64, 0)
      const h = Npy.parseNpyHeader(bytes, "x.npy")
      t.is(h.type, type)
      t.deepEqual(h.shape, shape)
      t.is(h.dataOffset, bytes.length)
    }
})

test("a header already 64-aligned before padding gets numpy's full 64 bytes of padding, byte for byte", (t) => {
  const shape = [0, 0, 0, 100, 1000, 1000, 1000, 1000, 1, 1]
  const numpy = readFileSync(fixture("f8_empty_full_pad.npy"))
  t.true(numpy.subarray(numpy.length - 65).toString("latin1").startsWith(" ".repeat(64)), "numpy's file ends in 64 spaces and a newline")
  t.deepEqual(Npy.formatNpyHeader("float64", shape), new Uint8Array(numpy))
  t.deepEqual(Npy.readNpy(fixture("f8_empty_full_pad.npy")).shape, shape)
})

test("headers written by hand as other writers do (double quotes, no padding, long ints) parse", (t) => {
  const text = `{"descr": "<i4", "shape": (2L, 3L), "fortran_order": False}\n`
  const bytes = new Uint8Array(10 + text.length)
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length, 0])
  for (let i = 0; i < text.length; i++) bytes[10 + i] = text.charCodeAt(i)
  const h = Npy.parseNpyHeader(bytes, "hand.npy")
  t.is(h.type, "int32")
  t.deepEqual(h.shape, [2, 3])
  t.is(h.dataOffset, 10 + text.length)
})

test("'<u1' is read as uint8 like '|u1'", (t) => {
  const bytes = Npy.formatNpyHeader("uint8", [4])
  const text = Buffer.from(bytes).toString("latin1").replace("|u1", "<u1")
  t.is(Npy.parseNpyHeader(new Uint8Array(Buffer.from(text, "latin1")), "u.npy").type, "uint8")
})

const refusal = (t: import("ava").ExecutionContext, file: string, problem: FieldFileProblem, pattern: RegExp): void => {
  const e = t.throws(() => Npy.readNpy(file), { instanceOf: FieldFileError })!
  t.is(e.problem, problem)
  t.is(e.path, file)
  t.regex(e.message, pattern)
}

test("big-endian, Fortran-order and other dtypes are refused naming the file and what it holds", (t) => {
  refusal(t, fixture("big_endian_f8.npy"), "unsupported", /big_endian_f8\.npy: .*dtype '>f8'; it is big-endian/)
  refusal(t, fixture("fortran_f8.npy"), "unsupported", /fortran_f8\.npy: .*fortran_order True/)
  refusal(t, fixture("i8_4.npy"), "unsupported", /i8_4\.npy: .*dtype '<i8'/)
})

test("a missing file, a file that is not .npy, a truncated one and a version 4 are refused", (t) => {
  refusal(t, join(scratch, "nope.npy"), "missing", /nope\.npy: cannot open: .*ENOENT/)
  const text = join(scratch, "text.npy")
  writeFileSync(text, "hello, this is not numpy")
  refusal(t, text, "not-npy", /no \\x93NUMPY magic/)
  const short = join(scratch, "short.npy")
  writeFileSync(short, readFileSync(fixture("f8_3x4.npy")).subarray(0, 200))
  refusal(t, short, "short", /expected 224 bytes .*found 200 bytes/)
  const v4 = join(scratch, "v4.npy")
  const bytes = readFileSync(fixture("f8_3x4.npy"))
  bytes[6] = 4
  writeFileSync(v4, bytes)
  refusal(t, v4, "unsupported", /version 4\.0/)
  const garbled = join(scratch, "garbled.npy")
  const g = readFileSync(fixture("f8_3x4.npy"))
  g.write("{'descr': <f8", 10, "latin1")
  writeFileSync(garbled, g)
  refusal(t, garbled, "not-npy", /not a Python dict literal/)
})

test("write refuses a shape that does not hold the data", (t) => {
  const e = t.throws(() => Npy.writeNpy(join(scratch, "bad.npy"), new Float64Array(6), [4, 2]), { instanceOf: FieldFileError })!
  t.is(e.problem, "shape")
  t.regex(e.message, /shape \[4, 2\] \(8 elements\).*6 elements/)
})

test("headers longer than the first 4 KiB read are read whole (version 2.0 and a padded 1.0)", (t) => {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }`
  const headerLength = 6000 - 12 // data at byte 6000
  const text = dict + " ".repeat(headerLength - dict.length - 1) + "\n"
  const bytes = new Uint8Array(6000 + 20)
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0])
  new DataView(bytes.buffer).setUint32(8, headerLength, true)
  for (let i = 0; i < text.length; i++) bytes[12 + i] = text.charCodeAt(i)
  bytes.set(new Uint8Array(f4(5).buffer), 6000)
  const path = join(scratch, "long-header.npy")
  writeFileSync(path, bytes)
  const a = Npy.readNpy(path)
  t.deepEqual(a.data, f4(5))
  t.is(Npy.readNpyHeader(path).dataOffset, 6000)
  bytes.set([1, 0], 6)
  new DataView(bytes.buffer).setUint16(8, headerLength + 2, true) // 1.0: 2-byte length, 10-byte prefix
  bytes[10] = 0x20
  bytes[11] = 0x20
  writeFileSync(path, bytes)
  t.deepEqual(Npy.readNpy(path).data, f4(5))
  t.deepEqual(Npy.readNpyHeader(path).version, [1, 0])
})
