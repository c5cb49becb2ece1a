// heat2d, comm: the hand-written SPMD version. A 2-D Cartesian layout of the
// ranks (computeDims + cart), one block of rows × columns per rank with a
// ghost layer; each step exchanges the four faces with sendrecvInto — row
// faces are contiguous and sent straight from the field, column faces are
// packed into (and unpacked from) preallocated buffers. Nothing is allocated
// per step; the two field buffers are swapped.
import { blockRange, type Comm, computeDims, PROC_NULL } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { spmdEntry } from "./rank.ts"
import type { FieldResult } from "./field.ts"
import { reduceFieldStats } from "./field.comm.ts"
import { blockStats, type Heat2dParams, heat2dStep, initialValue } from "./heat2d.ts"

const TAG_DOWN = 1
const TAG_UP = 2
const TAG_RIGHT = 3
const TAG_LEFT = 4

/** The row faces of one field buffer: views made once, so a step allocates nothing. */
interface RowFaces {
  readonly field: Float64Array
  readonly firstRow: Float64Array
  readonly lastRow: Float64Array
  readonly ghostAbove: Float64Array
  readonly ghostBelow: Float64Array
}

function setup(comm: Comm, p: Heat2dParams): Kernel<FieldResult> {
  const grid = comm.cart(computeDims(comm.size, 2), [false, false])!
  const [rowStart, rowEnd] = blockRange(p.ny, grid.dims[0]!, grid.coords[0]!)
  const [colStart, colEnd] = blockRange(p.nx, grid.dims[1]!, grid.coords[1]!)
  const rows = rowEnd - rowStart
  const cols = colEnd - colStart
  const stride = cols + 2
  const { source: above, dest: below } = grid.shift(0, 1)
  const { source: left, dest: right } = grid.shift(1, 1)

  // Points on the global edge keep their Dirichlet value: the update skips them.
  const i0 = rowStart === 0 ? 2 : 1
  const i1 = rowEnd === p.ny ? rows : rows + 1
  const j0 = colStart === 0 ? 2 : 1
  const j1 = colEnd === p.nx ? cols : cols + 1

  const faces = (field: Float64Array): RowFaces => ({
    field,
    firstRow: field.subarray(stride + 1, stride + 1 + cols),
    lastRow: field.subarray(rows * stride + 1, rows * stride + 1 + cols),
    ghostAbove: field.subarray(1, 1 + cols),
    ghostBelow: field.subarray((rows + 1) * stride + 1, (rows + 1) * stride + 1 + cols),
  })
  let cur = faces(new Float64Array((rows + 2) * stride))
  let nxt = faces(new Float64Array((rows + 2) * stride))
  const sendColumn = new Float64Array(rows)
  const recvColumn = new Float64Array(rows)

  /** Sends column `from` to `dest` and receives column `into` from `source` (packed; skipped towards PROC_NULL). */
  const exchangeColumn = (u: Float64Array, from: number, dest: number, into: number, source: number, tag: number): void => {
    if (dest !== PROC_NULL) for (let i = 0; i < rows; i++) sendColumn[i] = u[(i + 1) * stride + from]!
    grid.sendrecvInto(sendColumn, dest, tag, recvColumn, source, tag)
    if (source !== PROC_NULL) for (let i = 0; i < rows; i++) u[(i + 1) * stride + into] = recvColumn[i]!
  }

  return {
    reset() {
      for (const buffer of [cur.field, nxt.field]) buffer.fill(0)
      for (let i = 1; i <= rows; i++)
        for (let j = 1; j <= cols; j++) cur.field[i * stride + j] = initialValue(p, rowStart + i - 1, colStart + j - 1)
    },
    phases: {
      run() {
        for (let step = 0; step < p.steps; step++) {
          grid.sendrecvInto(cur.lastRow, below, TAG_DOWN, cur.ghostAbove, above, TAG_DOWN)
          grid.sendrecvInto(cur.firstRow, above, TAG_UP, cur.ghostBelow, below, TAG_UP)
          exchangeColumn(cur.field, cols, right, 0, left, TAG_RIGHT)
          exchangeColumn(cur.field, 1, left, cols + 1, right, TAG_LEFT)
          heat2dStep(cur.field, nxt.field, stride, i0, i1, j0, j1, p.r)
          const done = cur
          cur = nxt
          nxt = done
        }
      },
    },
    result: () => reduceFieldStats(comm, blockStats(p, cur.field, stride, stride + 1, rows, cols, rowStart, colStart)),
  }
}

export const rank = spmdEntry(setup)
