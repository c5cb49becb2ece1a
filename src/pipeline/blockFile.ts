/**
 * Parallel block I/O of one global row-major array on a 1-, 2- or 3-D grid:
 * each rank reads or writes only its blocks (a block is a `start` and a
 * `count` per dimension), with one positional read or write per contiguous
 * run of the file (rows that follow each other in the file are merged into
 * one run). The file is a `.npy` (header checked against the grid) or a raw
 * binary of little-endian elements (no header; its size is checked).
 *
 * Blocks are given and returned as plain row-major copies of their interior
 * (no ghosts), so this module knows nothing of the executor's field storage.
 * Element types are never converted: a file of another type than the field's
 * is refused (the error says whether a lossless conversion exists).
 *
 * Layer: pipeline (rank side). Imports node:fs, npy.ts, errors.ts and the Comm type.
 */
import { closeSync, fsyncSync, ftruncateSync, fstatSync, openSync } from "node:fs"
import type { Comm } from "../comm/comm.ts"
import { FieldFileError, InvalidArgument } from "../errors.ts"
import {
  bytesOf,
  bytesPerElement,
  elementCount,
  elementTypeOf,
  formatNpyHeader,
  headerOf,
  openFile,
  readFully,
  writeFully,
  type ElementArray,
  type ElementType,
} from "./npy.ts"
import { arrayOf } from "./field.ts"

/** How a data file is laid out: `.npy` (header, then data) or raw little-endian elements. */
export type FileFormat = "npy" | "raw"

/** The global array a file holds: the grid's shape and the field's element type. */
export interface ArraySpec {
  /** Global shape, outermost dimension first (row-major; the last dimension is contiguous). */
  readonly shape: ReadonlyArray<number>
  /** Element type of the field. */
  readonly type: ElementType
  /** The file's format; default: `"npy"` when the path ends in `.npy`, else `"raw"`. */
  readonly format?: FileFormat
}

/** A block of the global array: its first index and its extent along each dimension. */
export interface BlockRegion {
  /** Global index of the block's first point, per dimension. */
  readonly start: ReadonlyArray<number>
  /** Number of points along each dimension. */
  readonly count: ReadonlyArray<number>
}

/** The format of `path` under `spec`: explicit, or by extension. */
export const formatOf = (path: string, spec: ArraySpec): FileFormat => spec.format ?? (path.endsWith(".npy") ? "npy" : "raw")

const showShape = (shape: ReadonlyArray<number>): string => `[${shape.join(", ")}]`

/** Widening conversions that lose nothing, for the error's advice. */
const LOSSLESS: Record<ElementType, ReadonlyArray<ElementType>> = {
  uint8: ["int32", "float32", "float64"],
  int32: ["float64"],
  float32: ["float64"],
  float64: [],
}
const DESCR: Record<ElementType, string> = { float64: "<f8", float32: "<f4", int32: "<i4", uint8: "|u1" }

function typeMismatch(path: string, want: ElementType, got: ElementType): FieldFileError {
  const advice = LOSSLESS[got].includes(want)
    ? `; ${got} → ${want} is lossless but rankflow does not convert: np.save(path, np.load(path).astype('${DESCR[want]}'))`
    : `; ${got} → ${want} would lose values: declare the field ${got}, or convert the file with numpy`
  return new FieldFileError(path, "type", `${want} (the field's type)`, `${got}${advice}`)
}

/**
 * Opens `path` for reading and checks it against `spec` before any data is
 * read: the `.npy` header's shape and type, or a raw file's size. Returns the
 * descriptor and the data's byte offset.
 */
function openChecked(path: string, spec: ArraySpec): { fd: number; dataOffset: number } {
  const fd = openFile(path)
  try {
    if (formatOf(path, spec) === "npy") {
      const header = headerOf(fd, path)
      if (header.shape.length !== spec.shape.length || header.shape.some((n, d) => n !== spec.shape[d]))
        throw new FieldFileError(path, "shape", `shape ${showShape(spec.shape)} (the grid)`, `shape ${showShape(header.shape)}`)
      if (header.type !== spec.type) throw typeMismatch(path, spec.type, header.type)
      return { fd, dataOffset: header.dataOffset }
    }
    const bytes = elementCount(spec.shape) * bytesPerElement(spec.type)
    const size = fstatSync(fd).size
    if (size !== bytes)
      throw new FieldFileError(
        path,
        size < bytes ? "short" : "size",
        `${bytes} bytes (shape ${showShape(spec.shape)} of ${spec.type}, raw little-endian)`,
        `${size} bytes${size % bytesPerElement(spec.type) === 0 ? ` (${size / bytesPerElement(spec.type)} elements)` : ""}`,
      )
    return { fd, dataOffset: 0 }
  } catch (e) {
    closeSync(fd)
    throw e
  }
}

function checkBlock(call: string, spec: ArraySpec, block: BlockRegion, index: number): void {
  const { shape } = spec
  const ok =
    block.start.length === shape.length &&
    block.count.length === shape.length &&
    shape.every((n, d) => {
      const s = block.start[d]!
      const c = block.count[d]!
      return Number.isInteger(s) && Number.isInteger(c) && s >= 0 && c >= 0 && s + c <= n
    })
  if (!ok)
    throw new InvalidArgument(call, `blocks[${index}]`, `start ${showShape(block.start)} count ${showShape(block.count)}`, `must lie inside the array of shape ${showShape(shape)}`)
}

function checkSpec(call: string, spec: ArraySpec): void {
  if (spec.shape.length < 1 || !spec.shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new InvalidArgument(call, "shape", showShape(spec.shape), "must be 1 or more non-negative integer extents")
  if (!(spec.type in DESCR)) throw new InvalidArgument(call, "type", spec.type, 'must be "float64", "float32", "int32" or "uint8"')
}

/**
 * The contiguous runs of the file a block covers, in row-major order: pairs
 * of [first element's global flat index, length in elements]. Trailing
 * dimensions the block spans fully merge into one run, so a block of whole
 * rows (a 1-D split of a 2-D grid) is a single run.
 */
export function blockRuns(shape: ReadonlyArray<number>, block: BlockRegion): Array<[number, number]> {
  const D = shape.length
  if (block.count.some((c) => c === 0)) return []
  let k = D - 1 // runs span dimensions k…D-1
  while (k > 0 && block.count[k] === shape[k]) k--
  let inner = 1
  for (let d = k + 1; d < D; d++) inner *= shape[d]!
  const runLength = block.count[k]! * inner
  const strides = new Array<number>(D)
  strides[D - 1] = 1
  for (let d = D - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!
  const runs: Array<[number, number]> = []
  const index = new Array<number>(k).fill(0) // odometer over dimensions 0…k-1
  for (;;) {
    let offset = block.start[k]! * strides[k]!
    for (let d = 0; d < k; d++) offset += (block.start[d]! + index[d]!) * strides[d]!
    runs.push([offset, runLength])
    let d = k - 1
    while (d >= 0 && ++index[d]! === block.count[d]!) index[d--] = 0
    if (d < 0) return runs
  }
}

/**
 * Reads each block of the global array in `path` into a new row-major typed
 * array of `count`'s product elements (of `spec.type`). One positional read
 * per contiguous run; the file's shape and type (or a raw file's size) are
 * checked first.
 *
 * @throws FieldFileError `missing`, `not-npy`, `unsupported`, `shape`,
 * `type`, `short` or `size`, before any data is read.
 *
 * @example
 * ```ts
 * // internal to the executor: imported from the source tree
 * import { init, writeNpy } from "rankflow"
 * import { readBlocks } from "../../src/pipeline/blockFile.ts"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const path = join(tmpdir(), `rankflow-readblocks-${process.pid}.npy`) // ranks are threads of one process
 * if (comm.rank === 0) writeNpy(path, Int32Array.from({ length: 12 }, (_, i) => i), [3, 4])
 * comm.barrier()
 * // each rank reads one column pair: three runs of two elements
 * const [mine] = readBlocks(path, { shape: [3, 4], type: "int32" }, [{ start: [0, 2 * (comm.rank % 2)], count: [3, 2] }])
 * console.log(comm.rank, mine) // 0 Int32Array(6) [ 0, 1, 4, 5, 8, 9 ]
 * comm.barrier()
 * if (comm.rank === 0) rmSync(path)
 * ```
 */
export function readBlocks(path: string, spec: ArraySpec, blocks: ReadonlyArray<BlockRegion>): ElementArray[] {
  const targets = blocks.map((b) => arrayOf(spec.type, elementCount(b.count)))
  readBlocksInto(path, spec, blocks, targets)
  return targets
}

/** {@link readBlocks} into arrays the caller holds (`targets[i]` has `count`'s product elements of `spec.type`). */
export function readBlocksInto(path: string, spec: ArraySpec, blocks: ReadonlyArray<BlockRegion>, targets: ReadonlyArray<ElementArray>): void {
  checkSpec("readBlocks", spec)
  blocks.forEach((b, i) => {
    checkBlock("readBlocks", spec, b, i)
    checkData("readBlocks", spec, b, targets[i], i)
  })
  const { fd, dataOffset } = openChecked(path, spec)
  try {
    const size = bytesPerElement(spec.type)
    blocks.forEach((block, i) => {
      const into = bytesOf(targets[i]!)
      let at = 0
      for (const [first, length] of blockRuns(spec.shape, block)) {
        readFully(fd, into, at, length * size, dataOffset + first * size, path)
        at += length * size
      }
    })
  } finally {
    closeSync(fd)
  }
}

function checkData(call: string, spec: ArraySpec, block: BlockRegion, data: ElementArray | undefined, i: number): void {
  const type = elementTypeOf(data)
  if (type !== spec.type || data === undefined || data.length !== elementCount(block.count))
    throw new InvalidArgument(
      call,
      `datas[${i}]`,
      data === undefined ? "undefined" : `${type ?? Object.prototype.toString.call(data)}[${data.length}]`,
      `must be a ${spec.type} array of ${elementCount(block.count)} elements (the block's count ${showShape(block.count)})`,
    )
}

/**
 * Creates `path` for the global array of `spec` at its full length: the
 * `.npy` header (none for raw) and the data region sized with `ftruncate`
 * (zeros), so ranks can then write their blocks at their positions. Replaces
 * an existing file. Returns the data's byte offset.
 */
export function createArrayFile(path: string, spec: ArraySpec): number {
  checkSpec("createArrayFile", spec)
  const header = formatOf(path, spec) === "npy" ? formatNpyHeader(spec.type, spec.shape) : new Uint8Array(0)
  const fd = openSync(path, "w")
  try {
    writeFully(fd, header, 0, header.length, 0)
    ftruncateSync(fd, header.length + elementCount(spec.shape) * bytesPerElement(spec.type))
  } finally {
    closeSync(fd)
  }
  return header.length
}

/** The collectives {@link writeBlocks} needs of a communicator. */
export type WriteComm = Pick<Comm, "rank" | "bcast" | "allgather">

/** How {@link writeBlocks} finishes. */
export interface WriteOptions {
  /** `fsync` the file after this rank's writes (for checkpoints that must survive a machine crash). Default false. */
  readonly durable?: boolean
}

/**
 * Writes this rank's `blocks` (`datas[i]` the row-major interior of
 * `blocks[i]`) into one file holding the global array of `spec`.
 * Collective: every rank of `comm` calls it, with its own blocks (possibly
 * none). Rank 0 creates and sizes the file first and broadcasts the outcome
 * (a failure is thrown on every rank, before any writes); every rank then
 * writes its runs with positional writes; a closing allgather reports a
 * failed write on every rank, and returns only when the whole file is written.
 *
 * @throws FieldFileError `write` when creating or writing fails on any rank.
 *
 * @example
 * ```ts
 * // internal to the executor: imported from the source tree
 * import { blockRange, init, readNpy } from "rankflow"
 * import { writeBlocks } from "../../src/pipeline/blockFile.ts"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const path = join(tmpdir(), `rankflow-writeblocks-${process.pid}.npy`)
 * const [first, end] = blockRange(5, comm.size, comm.rank) // this rank's rows of a 5 × 3 grid
 * const rows = Float64Array.from({ length: (end - first) * 3 }, (_, i) => first * 3 + i)
 * writeBlocks(path, { shape: [5, 3], type: "float64" }, [{ start: [first, 0], count: [end - first, 3] }], [rows], comm)
 * if (comm.rank === 0) console.log(readNpy(path).data) // Float64Array(15) [ 0, 1, 2, …, 14 ], as np.load(path) shows
 * if (comm.rank === 0) rmSync(path)
 * ```
 */
export function writeBlocks(path: string, spec: ArraySpec, blocks: ReadonlyArray<BlockRegion>, datas: ReadonlyArray<ElementArray>, comm: WriteComm, options: WriteOptions = {}): void {
  checkSpec("writeBlocks", spec)
  if (datas.length !== blocks.length) throw new InvalidArgument("writeBlocks", "datas", `${datas.length} arrays`, `must hold one array per block (${blocks.length})`)
  blocks.forEach((b, i) => {
    checkBlock("writeBlocks", spec, b, i)
    checkData("writeBlocks", spec, b, datas[i], i)
  })
  let created: string | null = null
  if (comm.rank === 0) {
    try {
      createArrayFile(path, spec)
    } catch (e) {
      created = (e as Error).message
    }
  }
  created = comm.bcast(created, 0)
  if (created !== null) throw new FieldFileError(path, "write", "a file rank 0 can create", `rank 0: ${created}`)
  let failed: string | null = null
  try {
    writeLocal(path, spec, blocks, datas, options.durable === true)
  } catch (e) {
    failed = (e as Error).message
  }
  const failures = comm.allgather(failed)
  const first = failures.findIndex((f) => f !== null)
  if (first >= 0) throw new FieldFileError(path, "write", "every rank's blocks written", `rank ${first}: ${failures[first]}`)
}

function writeLocal(path: string, spec: ArraySpec, blocks: ReadonlyArray<BlockRegion>, datas: ReadonlyArray<ElementArray>, durable: boolean): void {
  const fd = openSync(path, "r+")
  try {
    const dataOffset = formatOf(path, spec) === "npy" ? headerOf(fd, path).dataOffset : 0
    const size = bytesPerElement(spec.type)
    blocks.forEach((block, i) => {
      const from = bytesOf(datas[i]!)
      let at = 0
      for (const [first, length] of blockRuns(spec.shape, block)) {
        writeFully(fd, from, at, length * size, dataOffset + first * size)
        at += length * size
      }
    })
    if (durable) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
