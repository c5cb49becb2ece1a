// Parallel matrix-vector product y = A·x (seed §6): rows of A scattered with
// scatterv (N need not divide by the rank count), x broadcast, the local
// product computed with rankflow's WebAssembly SIMD dgemv (Dense.dgemv), y
// gathered with gatherv and checked against the serial product (ml-matrix,
// an independent implementation).
//   tsx examples/matvec.ts --ranks 3
import { Matrix } from "ml-matrix"
import { blockCounts, Dense, init } from "rankflow"

const comm = await init()
const N = 1000

/** Reproducible normal-ish entries (sum of uniforms), so every run checks the same matrix. */
function randomValues(n: number, seed: number): Float64Array {
  const out = new Float64Array(n)
  let s = seed >>> 0 || 1
  const uniform = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296)
  for (let i = 0; i < n; i++) out[i] = uniform() + uniform() + uniform() - 1.5
  return out
}

const rows = blockCounts(N, comm.size)
const A = comm.rank === 0 ? randomValues(N * N, 42) : undefined
const x = comm.rank === 0 ? randomValues(N, 7) : undefined

let serialSeconds = 0
let ySerial: number[] = []
if (comm.rank === 0) {
  const t0 = comm.wtime()
  ySerial = Matrix.from1DArray(N, N, A!).mmul(Matrix.columnVector(x!)).getColumn(0)
  serialSeconds = comm.wtime() - t0
}

comm.barrier()
const start = comm.wtime()
const localA = comm.scatterv(A, rows.map((r) => r * N), 0)
const xAll = comm.bcast(x, 0)
const localY = Dense.dgemv(localA, xAll, new Float64Array(rows[comm.rank]!), rows[comm.rank]!, N)
const y = comm.gatherv(localY, 0)
comm.barrier()
const parallelSeconds = comm.wtime() - start

if (comm.rank === 0) {
  let diff = 0
  let norm = 0
  for (let i = 0; i < N; i++) {
    diff += (ySerial[i]! - y![i]!) ** 2
    norm += ySerial[i]! ** 2
  }
  const error = Math.sqrt(diff / norm)
  console.log(`Parallel matrix-vector multiplication, ${N} × ${N} on ${comm.size} ranks (rows: ${rows.join(", ")})`)
  console.log(`Serial time:   ${serialSeconds.toFixed(4)} s`)
  console.log(`Parallel time: ${parallelSeconds.toFixed(4)} s (scatter + bcast + local product + gather)`)
  console.log(`Relative error: ${error.toExponential(2)} ${error < 1e-10 ? "✓ results match" : "✗ results differ"}`)
}
