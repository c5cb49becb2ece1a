// heat1d_small and heat1d_large: the 1-D heat equation u_t = α·u_xx on
// [0, 1], n points x_i = i·dx (dx = 1/(n − 1)), explicit 3-point stencil,
// u0 = sin(πx), Dirichlet 0; exact solution sin(πx)·e^(−απ²t).
// - heat1d_small: n = 1004, α = 0.01, dt = 1e-5, 50,000 steps (T = 0.5) —
//   latency-bound: a step is ~1000 updates and two halo exchanges.
// - heat1d_large: n = 10,000,000, 200 steps, dt = 0.25·dx²/α — memory-bound.
//
// The stencil kernel and the initial and exact fields live here, shared by
// every implementation (heat1d.serial.ts, heat1d.comm.ts), so they compute
// bit-identical fields.
import { checkField, type FieldResult } from "./field.ts"
import { type Impl, pipelineThreads, type Workload } from "./harness.ts"

export interface Heat1dParams {
  readonly n: number
  readonly alpha: number
  readonly dt: number
  readonly steps: number
}

/** r = α·dt/dx². */
export const ratio = (p: Heat1dParams): number => (p.alpha * p.dt) * (p.n - 1) ** 2

/** sin(π·x_i), 0 at both ends. */
export const initialValue = (p: Heat1dParams, i: number): number => (i === 0 || i === p.n - 1 ? 0 : Math.sin((Math.PI * i) / (p.n - 1)))

/** e^(−απ²t) at t = steps·dt. */
export const decay = (p: Heat1dParams): number => Math.exp(-p.alpha * Math.PI ** 2 * p.steps * p.dt)

/**
 * One explicit step over points [first, last] (inclusive). A plain loop (no
 * closures, no allocation): the hot loop of every implementation.
 */
export function heat1dStep(u: Float64Array, next: Float64Array, first: number, last: number, r: number): void {
  for (let i = first; i <= last; i++) next[i] = u[i]! + r * (u[i - 1]! - 2 * u[i]! + u[i + 1]!)
}

const impls: Record<string, Impl> = {
  "serial-js": { runner: "main", module: new URL("./heat1d.serial.ts", import.meta.url) },
  "serial-c": { runner: "external", module: new URL("./heat1d.serialc.ts", import.meta.url) },
  comm: { runner: "ranks", module: new URL("./heat1d.comm.ts", import.meta.url) },
  pipeline: { runner: "ranks", module: new URL("./heat1d.pipeline.ts", import.meta.url), threads: pipelineThreads },
  "pipeline-js": { runner: "ranks", module: new URL("./heat1d.pipelinejs.ts", import.meta.url), threads: pipelineThreads },
}

function heat1d(name: string, full: Heat1dParams, quick: Heat1dParams): Workload<Heat1dParams, FieldResult> {
  return {
    name,
    params: (isQuick) => (isQuick ? quick : full),
    impls,
    metrics: (p, seconds) => ({
      us_per_step: (seconds / p.steps) * 1e6,
      Mupdates_per_s: ((p.n - 2) * p.steps) / seconds / 1e6,
      GBps: (16 * (p.n - 2) * p.steps) / seconds / 1e9, // one read and one write of 8 bytes per update
    }),
    check: (p, result) => checkField(result, decay(p), 1e-3),
    identical: ["fingerprint", "max_abs_err"],
  }
}

/** dt = 0.25·dx²/α (r = 0.25). */
const largeDt = (n: number, alpha: number): number => 0.25 / (n - 1) ** 2 / alpha

export const heat1dSmall = heat1d(
  "heat1d_small",
  { n: 1004, alpha: 0.01, dt: 1e-5, steps: 50_000 },
  { n: 1004, alpha: 0.01, dt: 1e-5, steps: 2_000 },
)

export const heat1dLarge = heat1d(
  "heat1d_large",
  { n: 10_000_000, alpha: 0.01, dt: largeDt(10_000_000, 0.01), steps: 200 },
  { n: 100_003, alpha: 0.01, dt: largeDt(100_003, 0.01), steps: 20 },
)
