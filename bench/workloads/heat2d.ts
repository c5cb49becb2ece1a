// heat2d: the 2-D heat equation, 5-point explicit stencil, on an nx × ny grid
// of spacing h = 1/(nx − 1) (x ∈ [0, 1], y ∈ [0, Ly]), u0 = sin(πx)·sin(πy/Ly),
// Dirichlet 0 on the edges. Full size 4096 × 4096 (Ly = 1), 100 steps,
// r = α·dt/h² = 0.2. The quick size is not square, so a transposed index
// shows in the fingerprint.
//
// The stencil kernel and the initial and exact fields live here, shared by
// every implementation (heat2d.serial.ts, heat2d.comm.ts), so they compute
// bit-identical fields.
import { checkField, type FieldResult, FieldStats } from "./field.ts"
import { pipelineThreads, type Workload } from "./harness.ts"

export interface Heat2dParams {
  readonly nx: number
  readonly ny: number
  readonly steps: number
  readonly r: number
}

/** sin(π·x_j)·sin(π·y_i/Ly): the initial field at grid point (i, j) (row i, column j), 0 on the edges. */
export function initialValue(p: Heat2dParams, i: number, j: number): number {
  if (i === 0 || j === 0 || i === p.ny - 1 || j === p.nx - 1) return 0
  return Math.sin((Math.PI * j) / (p.nx - 1)) * Math.sin((Math.PI * i) / (p.ny - 1))
}

/** The exact solution's decay after all steps: e^(−π²(1 + 1/Ly²)·α·t), with α·t = steps·r·h². */
export function decay(p: Heat2dParams): number {
  const h = 1 / (p.nx - 1)
  const ly = (p.ny - 1) * h
  return Math.exp(-(Math.PI ** 2) * (1 + 1 / ly ** 2) * p.steps * p.r * h * h)
}

/**
 * One explicit step, rows [i0, i1) and columns [j0, j1) of a row-major array
 * with row length `stride`. A plain flat loop (no closures, no allocation):
 * the hot loop of every implementation.
 */
export function heat2dStep(u: Float64Array, next: Float64Array, stride: number, i0: number, i1: number, j0: number, j1: number, r: number): void {
  for (let i = i0; i < i1; i++) {
    const end = i * stride + j1
    for (let k = i * stride + j0; k < end; k++) {
      next[k] = u[k]! + r * (u[k - stride]! + u[k + stride]! + u[k - 1]! + u[k + 1]! - 4 * u[k]!)
    }
  }
}

/**
 * The statistics of a block of `rows` × `cols` grid points whose top-left
 * point is global (rowStart, colStart), stored from `field[first]` on with
 * row length `stride`.
 */
export function blockStats(p: Heat2dParams, field: Float64Array, stride: number, first: number, rows: number, cols: number, rowStart: number, colStart: number): FieldStats {
  const stats = new FieldStats()
  const d = decay(p)
  for (let i = 0; i < rows; i++) {
    const global = rowStart + i
    const at = first + i * stride
    stats.add(field, at, at + cols, global * p.nx + colStart, (k) => d * initialValue(p, global, colStart + k))
  }
  return stats
}

const cellUpdates = (p: Heat2dParams): number => (p.nx - 2) * (p.ny - 2) * p.steps

export const heat2d: Workload<Heat2dParams, FieldResult> = {
  name: "heat2d",
  params: (quick) => (quick ? { nx: 61, ny: 47, steps: 60, r: 0.2 } : { nx: 4096, ny: 4096, steps: 100, r: 0.2 }),
  impls: {
    "serial-js": { runner: "main", module: new URL("./heat2d.serial.ts", import.meta.url) },
    "serial-c": { runner: "external", module: new URL("./heat2d.serialc.ts", import.meta.url) },
    comm: { runner: "ranks", module: new URL("./heat2d.comm.ts", import.meta.url) },
    pipeline: { runner: "ranks", module: new URL("./heat2d.pipeline.ts", import.meta.url), threads: pipelineThreads },
  "pipeline-js": { runner: "ranks", module: new URL("./heat2d.pipelinejs.ts", import.meta.url), threads: pipelineThreads },
  },
  metrics: (p, seconds) => ({
    us_per_step: (seconds / p.steps) * 1e6,
    Mupdates_per_s: cellUpdates(p) / seconds / 1e6,
    GBps: (16 * cellUpdates(p)) / seconds / 1e9, // one read and one write of 8 bytes per cell update
  }),
  check: (p, result) => checkField(result, decay(p), 1e-3),
  identical: ["fingerprint", "max_abs_err"],
}
