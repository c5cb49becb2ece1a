/**
 * NumPy's `.npy` format, the file numpy users already have: a header (magic
 * `\x93NUMPY`, version, header length, then a Python dict literal naming
 * `descr`, `fortran_order` and `shape`, padded so the data starts at a
 * multiple of 64 bytes) followed by the elements in row-major order. Reads
 * versions 1.0, 2.0 and 3.0, writes 1.0 exactly as numpy does (byte for
 * byte), and maps the four element types of rankflow's fields to their
 * little-endian dtypes: `float64` ↔ `<f8`, `float32` ↔ `<f4`, `int32` ↔
 * `<i4`, `uint8` ↔ `|u1`. Big-endian data, Fortran order and other dtypes are
 * refused with a {@link FieldFileError} naming the file and what it holds.
 *
 * Whole-array helpers (`readNpy`, `writeNpy`) are for one rank; a field's blocks
 * are read and written in parallel by blockFile.ts with the same header.
 *
 * Layer: pipeline (rank side). Imports node:fs and errors.ts only.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs"
import { FieldFileError } from "../errors.ts"

import { ELEMENT_BYTES, type ElementType, type FieldArray } from "../plan/description.ts"
import { arrayOf } from "./field.ts"

export type { ElementType }

/** The typed array holding elements of an {@link ElementType}. */
export type ElementArray = FieldArray

/** What a `.npy` header says: element type, shape, and where the data starts. */
export interface NpyHeader {
  /** The element type the dtype maps to. */
  readonly type: ElementType
  /** The array's shape, outermost dimension first (row-major). */
  readonly shape: ReadonlyArray<number>
  /** Byte offset of the first element (the header's full length, a multiple of 64 for files numpy wrote). */
  readonly dataOffset: number
  /** Format version as `[major, minor]`, e.g. `[1, 0]`. */
  readonly version: readonly [number, number]
}

/** The dtype string numpy writes for each type (sizes: ELEMENT_BYTES; arrays: field.ts's arrayOf). */
const DESCR: Record<ElementType, string> = { float64: "<f8", float32: "<f4", int32: "<i4", uint8: "|u1" }

/** Little-endian dtype strings numpy may write for each type (`|` marks "byte order not applicable"). */
const DESCRS: Record<string, ElementType> = { "<f8": "float64", "<f4": "float32", "<i4": "int32", "|u1": "uint8", "<u1": "uint8" }

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY
const ALIGN = 64
/** numpy leaves room for the first axis to grow to this many digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21

/** Bytes per element of `type`. */
export const bytesPerElement = (type: ElementType): number => ELEMENT_BYTES[type]


/** The numpy dtype string rankflow writes for `type` (`"<f8"`, `"<f4"`, `"<i4"`, `"|u1"`). */
export const descrOf = (type: ElementType): string => DESCR[type]

/** The element type held by a typed array, or undefined for other arrays. */
export function elementTypeOf(data: unknown): ElementType | undefined {
  if (data instanceof Float64Array) return "float64"
  if (data instanceof Float32Array) return "float32"
  if (data instanceof Int32Array) return "int32"
  if (data instanceof Uint8Array) return "uint8"
  return undefined
}

/** Number of elements of an array of `shape` (1 for shape `[]`). */
export const elementCount = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

const showShape = (shape: ReadonlyArray<number>): string => `[${shape.join(", ")}]`

/**
 * The header numpy writes for an array of `type` and `shape` (version 1.0,
 * C order): the bytes before the data, 64-byte aligned, identical to
 * `numpy.save`'s.
 */
export function formatNpyHeader(type: ElementType, shape: ReadonlyArray<number>): Uint8Array {
  checkShape(shape, "formatNpyHeader")
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`
  let dict = `{'descr': '${DESCR[type]}', 'fortran_order': False, 'shape': ${tuple}, }`
  if (shape.length > 0) dict += " ".repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length)
  const withNewline = dict.length + 1
  const prefix = MAGIC.length + 2 + 2 // magic, version, uint16 length
  const pad = ALIGN - ((prefix + withNewline) % ALIGN) // numpy pads a full 64 when already aligned
  const headerLength = withNewline + pad
  if (headerLength > 0xffff) throw new FieldFileError("(header)", "unsupported", `a header of at most 65535 bytes`, `${headerLength} bytes for shape ${showShape(shape)}`)
  const out = new Uint8Array(prefix + headerLength)
  out.set(MAGIC, 0)
  out[6] = 1
  out[7] = 0
  out[8] = headerLength & 0xff
  out[9] = headerLength >> 8
  const text = dict + " ".repeat(pad) + "\n"
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i)
  return out
}

function checkShape(shape: ReadonlyArray<number>, where: string): void {
  if (!shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new FieldFileError(where, "unsupported", "a shape of non-negative integers", showShape(shape))
}

/**
 * Reads a `.npy` header from its first bytes (`bytes` must hold the whole
 * header; {@link readNpyHeader} reads it from a file). `path` only names the
 * file in errors.
 *
 * @throws FieldFileError `not-npy` when the magic or the dict is malformed,
 * `unsupported` for big-endian or other dtypes and Fortran order.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const notNpy = (found: string): FieldFileError => new FieldFileError(path, "not-npy", "a .npy file (numpy.save)", found)
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw notNpy("no \\x93NUMPY magic at its start")
  const major = bytes[6]!
  const minor = bytes[7]!
  let lengthBytes: number
  if (major === 1) lengthBytes = 2
  else if (major === 2 || major === 3) lengthBytes = 4
  else throw new FieldFileError(path, "unsupported", ".npy version 1.0, 2.0 or 3.0", `version ${major}.${minor}`)
  if (bytes.length < 8 + lengthBytes) throw notNpy("a header cut short")
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLength = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true)
  const dataOffset = 8 + lengthBytes + headerLength
  if (bytes.length < dataOffset) throw new FieldFileError(path, "short", `a header of ${headerLength} bytes`, `${bytes.length - 8 - lengthBytes} bytes`)
  const raw = bytes.subarray(8 + lengthBytes, dataOffset)
  const text = major === 3 ? new TextDecoder("utf-8").decode(raw) : Array.from(raw, (b) => String.fromCharCode(b)).join("") // 1.0/2.0: latin1
  let dict: Map<string, PyValue>
  try {
    dict = parseDict(text)
  } catch (e) {
    throw notNpy(`a header that is not a Python dict literal (${(e as Error).message}): ${JSON.stringify(text.trim())}`)
  }
  const descr = dict.get("descr")
  const fortran = dict.get("fortran_order")
  const shape = dict.get("shape")
  if (typeof descr !== "string" || typeof fortran !== "boolean" || !Array.isArray(shape))
    throw notNpy(`a header without 'descr', 'fortran_order' and 'shape': ${JSON.stringify(text.trim())}`)
  const type = DESCRS[descr]
  if (type === undefined) {
    const bigEndian = descr.startsWith(">") && ["f8", "f4", "i4"].includes(descr.slice(1))
    const hint = bigEndian
      ? "; it is big-endian: convert it with numpy, np.save(path, a.astype(a.dtype.newbyteorder('<')))"
      : "; convert it with numpy, e.g. np.save(path, a.astype('<f8'))"
    throw new FieldFileError(path, "unsupported", "dtype <f8, <f4, <i4 or |u1 (float64, float32, int32, uint8)", `dtype '${descr}'${hint}`)
  }
  if (fortran)
    throw new FieldFileError(path, "unsupported", "C (row-major) order", "fortran_order True; save it in C order with numpy, np.save(path, np.ascontiguousarray(a))")
  if (!shape.every((n): n is number => typeof n === "number")) throw notNpy(`a shape that is not a tuple of integers: ${JSON.stringify(text.trim())}`)
  checkShape(shape, path)
  return { type, shape, dataOffset, version: [major, minor] }
}

/**
 * Reads the header of the `.npy` file at `path`, and checks that the file
 * is long enough for the data it announces.
 *
 * @throws FieldFileError `missing` when the file cannot be opened, `short`
 * when it holds fewer bytes than header and data, `not-npy` for a malformed
 * header, `unsupported` for big-endian or other dtypes and Fortran order.
 *
 * @example
 * ```ts
 * import { init, readNpyHeader, writeNpy } from "rankflow"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const path = join(tmpdir(), `rankflow-header-${process.pid}-${comm.rank}.npy`)
 * writeNpy(path, new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3])
 * const header = readNpyHeader(path)
 * console.log(header.type, header.shape, header.dataOffset) // int32 [ 2, 3 ] 128
 * rmSync(path)
 * ```
 */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openFile(path)
  try {
    return headerOf(fd, path)
  } finally {
    closeSync(fd)
  }
}

/** Opens `path` for reading; a missing or unreadable file is a FieldFileError `missing`. */
export function openFile(path: string, flags = "r"): number {
  try {
    return openSync(path, flags)
  } catch (e) {
    // Node's message already starts with the code ("ENOENT: no such file or directory, open …").
    throw new FieldFileError(path, "missing", "a readable file", (e as Error).message)
  }
}

/** The header of the open `.npy` file `fd`, checked against the file's size. */
export function headerOf(fd: number, path: string): NpyHeader {
  const size = fstatSync(fd).size
  const first = new Uint8Array(Math.min(size, 4096))
  readFully(fd, first, 0, first.length, 0, path)
  let bytes = first
  const view = new DataView(first.buffer)
  const end = first.length < 12 ? 0 : first[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true)
  if (end > first.length && end <= size) {
    bytes = new Uint8Array(end) // a header longer than the first read (padding, or a 2.0/3.0 file)
    readFully(fd, bytes, 0, end, 0, path)
  }
  const header = parseNpyHeader(bytes, path)
  const need = header.dataOffset + elementCount(header.shape) * bytesPerElement(header.type)
  if (size < need)
    throw new FieldFileError(path, "short", `${need} bytes (header ${header.dataOffset} + shape ${showShape(header.shape)} of ${header.type})`, `${size} bytes`)
  return header
}

/** Reads exactly `length` bytes at `position` into `into[offset…]`; the end of the file first is a FieldFileError `short`. */
export function readFully(fd: number, into: Uint8Array, offset: number, length: number, position: number, path: string): void {
  while (length > 0) {
    const got = readSync(fd, into, offset, Math.min(length, 0x40000000), position)
    if (got === 0) throw new FieldFileError(path, "short", `${length} more bytes at byte ${position}`, "the end of the file")
    offset += got
    position += got
    length -= got
  }
}

/** Writes exactly `length` bytes of `from[offset…]` at `position`. */
export function writeFully(fd: number, from: Uint8Array, offset: number, length: number, position: number): void {
  while (length > 0) {
    const put = writeSync(fd, from, offset, Math.min(length, 0x40000000), position)
    offset += put
    position += put
    length -= put
  }
}

/** Whether typed arrays on this machine are little-endian, as the files are (every machine Node 20 ships binaries for but s390x). */
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

/** The bytes of a typed array (a view, no copy): the file's bytes, since files and host are little-endian. */
export function bytesOf(data: ElementArray): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) throw new FieldFileError("(any file)", "unsupported", "a little-endian machine (files hold little-endian elements)", "a big-endian one")
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/** A whole array read from a file: its element type, shape and row-major data. */
export interface NpyArray {
  /** The element type. */
  readonly type: ElementType
  /** The shape, outermost dimension first. */
  readonly shape: ReadonlyArray<number>
  /** The elements in row-major order. */
  readonly data: ElementArray
}

/**
 * Reads a whole `.npy` file on this rank (for small arrays, or on rank 0;
 * a field's blocks are read in parallel by the pipeline).
 *
 * @throws FieldFileError as {@link readNpyHeader}.
 *
 * @example
 * ```ts
 * import { init, readNpy, writeNpy } from "rankflow"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const path = join(tmpdir(), `rankflow-read-${process.pid}-${comm.rank}.npy`)
 * writeNpy(path, new Float32Array([0.5, 1.5, 2.5]))
 * const a = readNpy(path) // np.load(path) gives the same
 * console.log(a.type, a.shape, a.data) // float32 [ 3 ] Float32Array(3) [ 0.5, 1.5, 2.5 ]
 * rmSync(path)
 * ```
 */
export function readNpy(path: string): NpyArray {
  const fd = openFile(path)
  try {
    const header = headerOf(fd, path)
    const data = arrayOf(header.type, elementCount(header.shape))
    readFully(fd, bytesOf(data), 0, data.byteLength, header.dataOffset, path)
    return { type: header.type, shape: header.shape, data }
  } finally {
    closeSync(fd)
  }
}

/**
 * Writes `data` as a `.npy` file of `shape` (default: 1-D), byte for byte
 * what `numpy.save` writes for the same array; `np.load(path)` reads it.
 *
 * @throws FieldFileError `shape` when `shape` does not
 * hold `data.length` elements.
 *
 * @example
 * ```ts
 * import { init, readNpy, writeNpy } from "rankflow"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const path = join(tmpdir(), `rankflow-write-${process.pid}-${comm.rank}.npy`)
 * writeNpy(path, new Uint8Array([1, 0, 1, 1, 0, 0]), [2, 3]) // one file per rank here
 * console.log(readNpy(path).shape) // [ 2, 3 ]
 * rmSync(path)
 * ```
 */
export function writeNpy(path: string, data: ElementArray, shape: ReadonlyArray<number> = [data.length]): void {
  const type = elementTypeOf(data)
  if (type === undefined) throw new FieldFileError(path, "type", "a Float64Array, Float32Array, Int32Array or Uint8Array", Object.prototype.toString.call(data))
  if (elementCount(shape) !== data.length)
    throw new FieldFileError(path, "shape", `shape ${showShape(shape)} (${elementCount(shape)} elements)`, `${data.length} elements of data`)
  const header = formatNpyHeader(type, shape)
  const fd = openSync(path, "w")
  try {
    writeFully(fd, header, 0, header.length, 0)
    writeFully(fd, bytesOf(data), 0, data.byteLength, header.length)
  } finally {
    closeSync(fd)
  }
}

// ---- the header's dict: a tiny reader for the Python literals numpy writes --

type PyValue = string | boolean | number | null | PyValue[]

/** Parses `{'key': value, ...}` where values are strings, True/False/None, ints and tuples/lists of them. */
function parseDict(text: string): Map<string, PyValue> {
  let i = 0
  const space = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++
  }
  const expect = (c: string): void => {
    space()
    if (text[i] !== c) throw new Error(`expected '${c}' at ${i}`)
    i++
  }
  const value = (): PyValue => {
    space()
    const c = text[i]
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1)
      if (end < 0) throw new Error("unterminated string")
      const s = text.slice(i + 1, end)
      i = end + 1
      return s
    }
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]"
      i++
      const items: PyValue[] = []
      for (;;) {
        space()
        if (text[i] === close) break
        items.push(value())
        space()
        if (text[i] === ",") i++
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`)
      }
      i++
      return items
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(i))
    if (word === null) throw new Error(`unexpected '${text.slice(i, i + 10)}'`)
    i += word[0].length
    return word[0] === "True" ? true : word[0] === "False" ? false : word[0] === "None" ? null : Number(word[0].replace("L", ""))
  }
  const dict = new Map<string, PyValue>()
  expect("{")
  for (;;) {
    space()
    if (text[i] === "}") break
    const key = value()
    if (typeof key !== "string") throw new Error("a key that is not a string")
    expect(":")
    dict.set(key, value())
    space()
    if (text[i] === ",") i++
    else if (text[i] !== "}") throw new Error(`expected ',' or '}' at ${i}`)
  }
  i++
  space()
  if (i !== text.length) throw new Error("text after the dict")
  return dict
}
