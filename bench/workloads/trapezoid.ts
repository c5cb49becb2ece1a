// trapezoid: ∫₀¹ √(1−x²) dx = π/4 by the trapezoidal rule on 100,000,000
// intervals; the result is reported as 4·∫ ≈ π with |error|. Each
// implementation sums one block of intervals with the shared kernel; the
// blocks' partial sums are added in a different order on different rank
// counts, so results agree to rounding, not bit for bit.
import { pipelineThreads, type Workload } from "./harness.ts"

export interface TrapezoidParams {
  readonly intervals: number
}

export interface TrapezoidResult {
  readonly integral: number
  readonly pi_estimate: number
  readonly abs_err: number
}

/**
 * h · Σ of the trapezoids over intervals [first, last): the inner points
 * once, the two ends of the block halved — one square root per point.
 */
export function trapezoidSum(p: TrapezoidParams, first: number, last: number): number {
  if (last <= first) return 0
  const h = 1 / p.intervals
  const f = (x: number): number => Math.sqrt(Math.max(0, 1 - x * x))
  let sum = (f(first * h) + f(last * h)) / 2
  for (let i = first + 1; i < last; i++) sum += f(i * h)
  return sum * h
}

export function trapezoidResult(integral: number): TrapezoidResult {
  return { integral, pi_estimate: 4 * integral, abs_err: Math.abs(4 * integral - Math.PI) }
}

export const trapezoid: Workload<TrapezoidParams, TrapezoidResult> = {
  name: "trapezoid",
  params: (quick) => ({ intervals: quick ? 1_000_003 : 100_000_000 }),
  impls: {
    "serial-js": { runner: "main", module: new URL("./trapezoid.serial.ts", import.meta.url) },
    "serial-c": { runner: "external", module: new URL("./trapezoid.serialc.ts", import.meta.url) },
    comm: { runner: "ranks", module: new URL("./trapezoid.comm.ts", import.meta.url) },
    pipeline: { runner: "ranks", module: new URL("./trapezoid.pipeline.ts", import.meta.url), threads: pipelineThreads },
  },
  metrics: (p, seconds) => ({ Mintervals_per_s: p.intervals / seconds / 1e6 }),
  // The rule's error on this integrand (a square-root singularity at x = 1) is ~h^1.5: 1e-9 at 10⁶ intervals.
  check: (_, result) => (result.abs_err < 1e-6 ? [] : [`|4·∫ − π| = ${result.abs_err} ≥ 1e-6`]),
  identical: [],
}
