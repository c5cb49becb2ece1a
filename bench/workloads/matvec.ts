// matvec: dense y = A·x, N = 4000 (A is 128 MB), entries uniform in [0, 1).
// Two timed phases:
// - oneshot: distribute A and x, multiply, collect y (for comm: scatterv the
//   rows, bcast x, local product, gatherv y; for serial-js: the product);
// - iterate: 50 power iterations with A resident (x ← A·x / ‖A·x‖; comm:
//   local rows, then allgatherv of y), reporting λ ≈ ‖A·x‖. The dominant
//   eigenvalue of such a matrix is ≈ N/2, which checks the answer.
// The local product is a plain row-by-row dot-product loop over a row-major
// Float64Array (not ml-matrix: its Matrix keeps rows as separate arrays and
// allocates its result), shared by every JavaScript implementation and summed
// in the order of rankflow's dgemv (the kernels impl) and of the C version, so
// y and λ are bit-identical in every implementation and on every rank count.
import { randomStream } from "../../src/pipeline/random.ts"
import type { Workload } from "./harness.ts"

export interface MatvecParams {
  readonly n: number
  readonly iterations: number
  readonly seed: number
}

export interface MatvecResult {
  /** Fingerprint of the one-shot product y = A·x₀. */
  readonly y_fingerprint: string
  /** Σ y of the one-shot product (≈ N²/4). */
  readonly y_sum: number
  /** ‖A·x‖ after the power iterations (≈ N/2). */
  readonly lambda: number
}

/** A (row-major, n × n) and x₀, reproducible from the seed (streams 0 and 1). */
export function problem(p: MatvecParams): { a: Float64Array; x: Float64Array } {
  return { a: randomStream(p.seed, 0).fill(new Float64Array(p.n * p.n)), x: randomStream(p.seed, 1).fill(new Float64Array(p.n)) }
}

/**
 * y[i] = Σⱼ a[i·n + j]·x[j] for the `rows` rows of `a`: the hot loop, plain (no
 * closures, no allocation). Each dot product is summed in two interleaved
 * halves (even and odd j, in order), then s0 + s1, then the odd last term:
 * the order of rankflow's WebAssembly dgemv (one f64x2 accumulator per row)
 * and of the C version, so every implementation gives the same bits.
 */
export function multiplyRows(a: Float64Array, rows: number, n: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < rows; i++) {
    let s0 = 0
    let s1 = 0
    const row = i * n
    let j = 0
    for (; j + 1 < n; j += 2) {
      s0 += a[row + j]! * x[j]!
      s1 += a[row + j + 1]! * x[j + 1]!
    }
    y[i] = j < n ? s0 + s1 + a[row + j]! * x[j]! : s0 + s1
  }
}

/** x ← y / ‖y‖₂; returns ‖y‖₂. */
export function normalizeInto(y: Float64Array, x: Float64Array): number {
  let squares = 0
  for (let i = 0; i < y.length; i++) squares += y[i]! * y[i]!
  const norm = Math.sqrt(squares)
  for (let i = 0; i < y.length; i++) x[i] = y[i]! / norm
  return norm
}

const expectedSums = new Map<string, number>()

/** Σᵢ yᵢ computed the other way round, Σⱼ (Σᵢ aᵢⱼ)·xⱼ: an independent check of the product (memoized per size). */
function expectedSum(p: MatvecParams): number {
  const key = `${p.n}/${p.seed}`
  let sum = expectedSums.get(key)
  if (sum === undefined) {
    const { a, x } = problem(p)
    const columns = new Float64Array(p.n)
    for (let i = 0; i < p.n; i++) for (let j = 0; j < p.n; j++) columns[j] = columns[j]! + a[i * p.n + j]!
    sum = columns.reduce((s, c, j) => s + c * x[j]!, 0)
    expectedSums.set(key, sum)
  }
  return sum
}

export const matvec: Workload<MatvecParams, MatvecResult> = {
  name: "matvec",
  params: (quick) => (quick ? { n: 203, iterations: 10, seed: 7 } : { n: 4000, iterations: 50, seed: 7 }),
  impls: {
    "serial-js": { runner: "main", module: new URL("./matvec.serial.ts", import.meta.url) },
    "serial-c": { runner: "external", module: new URL("./matvec.serialc.ts", import.meta.url) },
    comm: { runner: "ranks", module: new URL("./matvec.comm.ts", import.meta.url) },
    kernels: { runner: "ranks", module: new URL("./matvec.kernels.ts", import.meta.url) },
  },
  metrics: (p, _, phases) => ({
    oneshot_s: phases.oneshot!,
    us_per_iter: (phases.iterate! / p.iterations) * 1e6,
    GFLOPs_iter: (2 * p.n * p.n * p.iterations) / phases.iterate! / 1e9,
    GBps_iter: (8 * p.n * p.n * p.iterations) / phases.iterate! / 1e9, // A streamed once per iteration
  }),
  check: (p, result) => {
    const problems: string[] = []
    if (!(Math.abs(result.lambda / (p.n / 2) - 1) < 0.02)) problems.push(`λ = ${result.lambda}, expected ≈ N/2 = ${p.n / 2}`)
    const expected = expectedSum(p)
    if (!(Math.abs(result.y_sum - expected) <= 1e-10 * expected)) problems.push(`Σ y = ${result.y_sum}, expected ${expected} (A's column sums · x₀)`)
    return problems
  },
  identical: ["y_fingerprint", "lambda"],
}
