/**
 * A grid field's data in and out: initial values from a function of the
 * coordinates, from an array held by rank 0 (scattered, each thread receiving
 * its blocks' interiors), or from a file each rank reads its block of; and
 * the whole field (or several) gathered on rank 0 in global row-major order.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { FieldDataMismatch } from "../errors.ts"
import type { FieldArray, FieldInit, FieldSpec } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import type { GridBlock, GridLayout } from "../plan/layout.ts"
import { arrayOf, type FieldBlock } from "./field.ts"
import { readFieldBlocks } from "./fieldFile.ts"

/** One gathered field, or several by name. */
export type FieldArrays = FieldArray | Readonly<Record<string, unknown>>

/** Where a grid's blocks are: the layout, the grid's shape, and the thread holding each partition. */
export interface BlockPlacement {
  readonly layout: GridLayout
  readonly shape: ReadonlyArray<number>
  /** Thread (world rank) of each partition. */
  readonly owner: ReadonlyArray<number>
}

/** Sets every field's initial values (and previous levels) on this thread's blocks: a collective call when a field comes from rank 0's array. */
export function initializeFields(blocks: ReadonlyArray<FieldBlock>, specs: ReadonlyArray<FieldSpec>, where: BlockPlacement, comm: Comm): void {
  specs.forEach((spec, f) => {
    initializeLevel(blocks, spec, f, "u", spec.init, where, comm)
    if (spec.previous !== undefined) initializeLevel(blocks, spec, f, "prev", spec.previous, where, comm)
  })
}

function initializeLevel(blocks: ReadonlyArray<FieldBlock>, spec: FieldSpec, f: number, which: "u" | "prev", init: FieldInit, where: BlockPlacement, comm: Comm): void {
  const what = which === "u" ? spec.name : `${spec.name} (previous level)`
  if (init.kind === "function") for (const b of blocks) b.initialize(init.fn, f, which)
  else if (init.kind === "array") {
    const mine = scatterBlocks(init.data, spec, what, blocks, where, comm)
    let at = 0
    for (const b of blocks) {
      b.setInterior(f, which, mine.subarray(at, at + b.points))
      at += b.points
    }
  } else {
    const data = readFieldBlocks(init, spec, where.shape, blocks.map((b) => b.block))
    blocks.forEach((b, i) => b.setInterior(f, which, data[i]!))
  }
}

const pointsOf = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/**
 * Rank 0's array cut into the blocks of every thread (their interiors,
 * row-major, in partition order) and scattered: this thread's part. Rank 0
 * checks the array first and every rank throws the same error if it is wrong.
 */
function scatterBlocks(data: ArrayLike<number> | undefined, spec: FieldSpec, what: string, blocks: ReadonlyArray<FieldBlock>, { layout, shape, owner }: BlockPlacement, comm: Comm): FieldArray {
  const points = pointsOf(shape)
  const problem = comm.rank === 0 ? arrayProblem(data, points) : undefined
  const verdict = comm.bcast(problem ?? "", 0)
  if (verdict !== "") throw new FieldDataMismatch(what, verdict)
  let all: FieldArray | undefined
  let counts: number[] | undefined
  if (comm.rank === 0) {
    all = arrayOf(spec.type, points)
    const strides = shape.map((_, d) => pointsOf(shape.slice(d + 1)))
    let at = 0
    for (const b of layout.blocks) at = copyBlockOut(data!, strides, b, all, at)
    counts = Array.from({ length: comm.size }, () => 0)
    layout.blocks.forEach((b, p) => (counts![owner[p]!]! += pointsOf(b.count)))
  }
  const mine = comm.scatterv(all, counts, 0)
  const expected = blocks.reduce((a, b) => a + b.points, 0)
  if (mine.length !== expected) throw new FieldDataMismatch(what, `this thread received ${mine.length} points for blocks of ${expected}`)
  return mine
}

function arrayProblem(data: ArrayLike<number> | undefined, points: number): string | undefined {
  if (data === undefined || data === null) return "rank 0 holds no array (it must hold the whole field in global row-major order)"
  if (typeof data.length !== "number") return `rank 0 holds ${typeof data}, not an array`
  if (data.length !== points) return `rank 0's array has ${data.length} elements, the grid ${points} points`
  return undefined
}

/** Copies block b's points from the global row-major `data` into `out` at `at`; returns the end. */
function copyBlockOut(data: ArrayLike<number>, strides: ReadonlyArray<number>, b: GridBlock, out: FieldArray, at: number): number {
  forEachRow(b, strides, (flat, length) => {
    for (let k = 0; k < length; k++) out[at + k] = data[flat + k]!
    at += length
  })
  return at
}

/** Calls `row(global flat index of the row's first point, row length)` for each row of block b, in row-major order. */
function forEachRow(b: GridBlock, strides: ReadonlyArray<number>, row: (flat: number, length: number) => void): void {
  const dims = b.count.length
  const rowLength = b.count[dims - 1]!
  const rows = pointsOf(b.count.slice(0, -1))
  for (let r = 0; r < rows; r++) {
    let rest = r
    let flat = b.start[dims - 1]!
    for (let d = dims - 2; d >= 0; d--) {
      flat += (b.start[d]! + (rest % b.count[d]!)) * strides[d]!
      rest = Math.floor(rest / b.count[d]!)
    }
    row(flat, rowLength)
  }
}

/**
 * The fields `fields` (indices) on rank 0 in global row-major order — one
 * array, or a record by name with `record` — undefined on other ranks.
 */
export function gatherFields(blocks: ReadonlyArray<FieldBlock>, layout: GridLayout, grid: Grid, specs: ReadonlyArray<FieldSpec>, fields: ReadonlyArray<number>, comm: Comm, record: boolean): FieldArrays | undefined {
  const out: Record<string, FieldArray> = {}
  const prev: Record<string, FieldArray> = {}
  let last: FieldArray | undefined
  for (const f of fields) {
    last = gatherOne(blocks, layout, grid, specs[f]!, f, comm, "u")
    if (last !== undefined) out[specs[f]!.name] = last
  }
  // Gathering every field gathers their previous levels too: the record has the shape point functions see.
  if (record && fields.length === specs.length)
    specs.forEach((spec, f) => {
      if (spec.previous === undefined && blocks[0]?.levels[f]!.buffers.length !== 3) return
      const level = gatherOne(blocks, layout, grid, spec, f, comm, "prev")
      if (level !== undefined) prev[spec.name] = level
    })
  if (comm.rank !== 0 && last === undefined) return undefined
  return record ? { ...out, prev } as FieldArrays : last
}

function gatherOne(blocks: ReadonlyArray<FieldBlock>, layout: GridLayout, grid: Grid, spec: FieldSpec, f: number, comm: Comm, which: "u" | "prev"): FieldArray | undefined {
  const mine = arrayOf(spec.type, blocks.reduce((a, b) => a + b.points, 0))
  let at = 0
  for (const b of blocks) {
    b.copyInterior(mine, at, f, which)
    at += b.points
  }
  const gathered = comm.gatherv(mine, 0)
  if (gathered === undefined || grid.dims === 1) return gathered
  const shape = grid.shape as ReadonlyArray<number>
  const strides = shape.map((_, d) => pointsOf(shape.slice(d + 1)))
  const out = arrayOf(spec.type, pointsOf(shape))
  at = 0
  for (const b of layout.blocks)
    forEachRow(b, strides, (flat, length) => {
      out.set(gathered.subarray(at, at + length), flat)
      at += length
    })
  return out
}
