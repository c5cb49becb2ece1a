// matmul: the dense matrix product C = A·B, N = 1000 (each matrix 8 MB),
// entries uniform in [0, 1) — the lecture's matrix-product benchmark as one
// product distributed by rows. One timed phase, `multiply`: for the
// kernels impl, scatterv A's rows, bcast B, the local block of rows of C with
// rankflow's WebAssembly dgemm (Dense.dgemm, operands in its memory), gatherv
// C on rank 0; serial-js and serial-c run the plain i-p-j loop. Every element
// is summed in order p = 0, 1, … in all of them (the kernel keeps that order),
// so C is bit-identical everywhere: its fingerprint is compared.
import { randomStream } from "../../src/pipeline/random.ts"
import { type Workload } from "./harness.ts"

export interface MatmulParams {
  readonly n: number
  readonly seed: number
}

export interface MatmulResult {
  /** Fingerprint of C (global row-major indices). */
  readonly c_fingerprint: string
  /** Σ C (≈ N³/4). */
  readonly c_sum: number
}

/** A and B (row-major, n × n), reproducible from the seed (streams 0 and 1). */
export function problem(p: MatmulParams): { a: Float64Array; b: Float64Array } {
  return { a: randomStream(p.seed, 0).fill(new Float64Array(p.n * p.n)), b: randomStream(p.seed, 1).fill(new Float64Array(p.n * p.n)) }
}

/** c = a·b for `rows` rows of a (rows × n) and b (n × n): the i-p-j loop, each c element summed in order p. */
export function multiplyPlain(a: Float64Array, b: Float64Array, c: Float64Array, rows: number, n: number): void {
  c.fill(0, 0, rows * n)
  for (let i = 0; i < rows; i++) {
    const ci = i * n
    for (let p = 0; p < n; p++) {
      const aip = a[i * n + p]!
      const bp = p * n
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!
    }
  }
}

const expectedSums = new Map<string, number>()

/** Σ C computed the other way round, Σₚ (Σᵢ aᵢₚ)(Σⱼ bₚⱼ): an independent check (memoized per size). */
function expectedSum(p: MatmulParams): number {
  const key = `${p.n}/${p.seed}`
  let sum = expectedSums.get(key)
  if (sum === undefined) {
    const { a, b } = problem(p)
    const columnsOfA = new Float64Array(p.n)
    const rowsOfB = new Float64Array(p.n)
    for (let i = 0; i < p.n; i++)
      for (let j = 0; j < p.n; j++) {
        columnsOfA[j] = columnsOfA[j]! + a[i * p.n + j]!
        rowsOfB[i] = rowsOfB[i]! + b[i * p.n + j]!
      }
    sum = columnsOfA.reduce((s, c, k) => s + c * rowsOfB[k]!, 0)
    expectedSums.set(key, sum)
  }
  return sum
}

export const matmul: Workload<MatmulParams, MatmulResult> = {
  name: "matmul",
  params: (quick) => ({ n: quick ? 67 : 1000, seed: 11 }),
  impls: {
    "serial-js": { runner: "main", module: new URL("./matmul.serial.ts", import.meta.url) },
    "serial-c": { runner: "external", module: new URL("./matmul.serialc.ts", import.meta.url) },
    kernels: { runner: "ranks", module: new URL("./matmul.kernels.ts", import.meta.url) },
  },
  metrics: (p, seconds) => ({ GFLOPs: (2 * p.n ** 3) / seconds / 1e9 }),
  check: (p, result) => {
    const expected = expectedSum(p)
    return Math.abs(result.c_sum - expected) <= 1e-10 * expected ? [] : [`Σ C = ${result.c_sum}, expected ${expected} (A's column sums · B's row sums)`]
  },
  identical: ["c_fingerprint"],
}
