// The checkable answer of a heat benchmark, computed the same way from a
// serial field and from distributed blocks: max |u − exact|, the RMS error,
// max |u|, and a bit-exact fingerprint. Each rank adds the rows it owns; the
// partial sums and maxima are reduced on rank 0 (field.comm.ts).
//
// Rank side and main side. Imports no rankflow: serial-js modules use it
// (see harness.ts on what serial modules must not load).
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"

/** The result line of the heat workloads. */
export interface FieldResult {
  readonly max_abs_err: number
  readonly l2_err: number
  readonly max_abs_u: number
  readonly fingerprint: string
}

/** Partial statistics of the points one rank (or the serial run) owns. */
export class FieldStats {
  private readonly fingerprint = new Fingerprint()
  private sumSquares = 0
  private count = 0
  private maxError = 0
  private maxAbs = 0

  /** Adds `values[from, to)`, global indices from `globalIndex` on, whose exact values are `exact(k)` for k = 0 … to − from − 1. */
  add(values: Float64Array, from: number, to: number, globalIndex: number, exact: (k: number) => number): this {
    for (let i = from; i < to; i++) {
      const error = Math.abs(values[i]! - exact(i - from))
      this.maxError = Math.max(this.maxError, error)
      this.maxAbs = Math.max(this.maxAbs, Math.abs(values[i]!))
      this.sumSquares += error * error
    }
    this.count += to - from
    this.fingerprint.add(values, from, to, globalIndex)
    return this
  }

  /** The partial sums (SUM-reduced across ranks) and maxima (MAX-reduced). */
  partials(): { sums: Float64Array; maxima: Float64Array } {
    const [a, b] = this.fingerprint.lanes
    return { sums: Float64Array.of(this.sumSquares, this.count, a!, b!), maxima: Float64Array.of(this.maxError, this.maxAbs) }
  }

  /** The result of a serial run (or of partials already reduced). */
  result(): FieldResult {
    const { sums, maxima } = this.partials()
    return fieldResult(sums, maxima)
  }
}

/** The result from partial sums [Σ err², count, lane₀, lane₁] and maxima [max err, max |u|] (reduced or not). */
export function fieldResult(sums: Float64Array, maxima: Float64Array): FieldResult {
  return {
    max_abs_err: maxima[0]!,
    l2_err: Math.sqrt(sums[0]! / sums[1]!),
    max_abs_u: maxima[1]!,
    fingerprint: fingerprintHex(sums.subarray(2)),
  }
}

/** Problems with a heat result: error above `tolerance`, or max |u| off the exact peak `peak` by more than `tolerance`. */
export function checkField(result: FieldResult, peak: number, tolerance: number): string[] {
  const problems: string[] = []
  if (!(result.max_abs_err < tolerance)) problems.push(`max |u − exact| = ${result.max_abs_err} ≥ ${tolerance}`)
  if (!(Math.abs(result.max_abs_u - peak) < tolerance)) problems.push(`max |u| = ${result.max_abs_u}, expected ≈ ${peak}`)
  if (!/^[0-9a-f]{16}$/.test(result.fingerprint)) problems.push(`fingerprint ${result.fingerprint} is not 16 hex digits`)
  return problems
}
