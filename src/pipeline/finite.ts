/**
 * `--check-finite K`: a scan of a block's interior points for NaN and
 * ±Infinity, naming the first one found by its global index. The scan takes
 * a typed array and the block's geometry, so it runs per field whatever
 * holds the field; integer fields cannot hold NaN or ±Infinity and are
 * skipped.
 *
 * Cost: one multiply-add per point (`acc += v * 0` stays 0 unless some v is
 * NaN or ±Infinity), row by row; the exact point is looked for only in a row
 * that failed. Nothing is allocated unless a point is found.
 *
 * Layer: pipeline (rank side). Loads no Effect.
 */
import { FieldNotFinite } from "../errors.ts"
import type { FieldArray } from "../plan/description.ts"

/** Where a block's interior lies in its array (row-major, a ghost frame of `ghost` on every side). */
export interface FieldGeometry {
  /** Extents of the array per dimension, ghosts included. */
  readonly shape: ReadonlyArray<number>
  /** Row-major strides of the array per dimension. */
  readonly strides: ReadonlyArray<number>
  /** Ghost width on every side. */
  readonly ghost: number
  /** Interior points per dimension. */
  readonly count: ReadonlyArray<number>
  /** Global index of the first interior point per dimension. */
  readonly start: ReadonlyArray<number>
}

/**
 * The flat array index of the first interior point (row-major order) holding
 * NaN or ±Infinity, or −1 when there is none. Integer arrays: always −1.
 */
export function firstNonFinite(data: FieldArray, geometry: FieldGeometry): number {
  if (!(data instanceof Float64Array || data instanceof Float32Array)) return -1
  const { strides, ghost: g, count } = geometry
  const dims = count.length
  const rowLength = count[dims - 1]!
  // Rows run along the last dimension; up to two outer dimensions (grids are 1-, 2- or 3-D).
  const n0 = dims >= 2 ? count[0]! : 1
  const n1 = dims >= 3 ? count[1]! : 1
  const s0 = dims >= 2 ? strides[0]! : 0
  const s1 = dims >= 3 ? strides[1]! : 0
  const outer0 = dims >= 2 ? g : 0
  const outer1 = dims >= 3 ? g : 0
  for (let a = outer0; a < outer0 + n0; a++)
    for (let b = outer1; b < outer1 + n1; b++) {
      const from = a * s0 + b * s1 + g
      const to = from + rowLength
      // Four independent sums: one chain would wait on each add's latency.
      let a0 = 0
      let a1 = 0
      let a2 = 0
      let a3 = 0
      let k = from
      for (; k + 3 < to; k += 4) {
        a0 += data[k]! * 0
        a1 += data[k + 1]! * 0
        a2 += data[k + 2]! * 0
        a3 += data[k + 3]! * 0
      }
      for (; k < to; k++) a0 += data[k]! * 0
      if (a0 + a1 + a2 + a3 === 0) continue
      for (let j = from; j < to; j++) if (!Number.isFinite(data[j]!)) return j
    }
  return -1
}

/** The global index (one entry per dimension) of flat array index `at` of a block. */
export function globalIndexOf(at: number, geometry: FieldGeometry): number[] {
  return geometry.shape.map((extent, d) => (Math.floor(at / geometry.strides[d]!) % extent) - geometry.ghost + geometry.start[d]!)
}

/**
 * Throws `FieldNotFinite` naming `step`, `rank`, `field` and the global index
 * of the first interior point of `data` holding NaN or ±Infinity; returns
 * when there is none.
 */
export function checkFinite(data: FieldArray, geometry: FieldGeometry, step: number, rank: number, field: string): void {
  const at = firstNonFinite(data, geometry)
  if (at >= 0) throw new FieldNotFinite(step, rank, field, globalIndexOf(at, geometry), String(data[at]))
}

/** `checkFinite` on each of this thread's blocks (today one Float64 field, `u`); `rank` in the error is the block's partition (logical rank). */
export function checkFiniteBlocks(blocks: ReadonlyArray<{ readonly levels: ReadonlyArray<{ readonly u: FieldArray; readonly spec: { readonly name: string } }>; readonly block: { readonly rank: number } } & FieldGeometry>, step: number): void {
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!
    for (let f = 0; f < b.levels.length; f++) checkFinite(b.levels[f]!.u, b, step, b.block.rank, b.levels[f]!.spec.name)
  }
}
