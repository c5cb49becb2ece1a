// The seed's scaling benchmark (§9, mpi_benchmark.py): for each problem size
// N, every rank multiplies two random (N / ranks)² matrices with rankflow's
// WebAssembly SIMD dgemm (Dense.dgemm, operands allocated in its memory), the
// sums of the products are reduced on rank 0, and the time between barriers
// is printed. Run it on 1, 2, 4 and 8 ranks to see the scaling.
//   tsx examples/scaling_benchmark.ts --ranks 4 [--sizes 500,1000,2000,4000]
import { Dense, initWithParams, Param, SUM } from "rankflow"

const { comm, params } = await initWithParams({ sizes: Param.string("500,1000,2000,4000", "problem sizes N, comma-separated") })
const sizes = params.sizes.split(",").map(Number)
if (!sizes.every((n) => Number.isInteger(n) && n >= comm.size)) throw new RangeError(`--sizes: expected integers ≥ the ${comm.size} ranks, got '${params.sizes}'`)

/** Σ of the product of two random n × n matrices (numpy's `np.random.rand(n, n) @ np.random.rand(n, n)`, summed). */
function benchmarkComputation(n: number): number {
  const [a, b, c] = [Dense.alloc(n * n), Dense.alloc(n * n), Dense.alloc(n * n)]
  for (let i = 0; i < n * n; i++) {
    a[i] = Math.random()
    b[i] = Math.random()
  }
  Dense.dgemm(a, b, c, n, n, n)
  let sum = 0
  for (let i = 0; i < n * n; i++) sum += c[i]!
  for (const array of [a, b, c]) Dense.free(array)
  return sum
}

if (comm.rank === 0) console.log(`MPI-style scaling benchmark on ${comm.size} ranks`)
for (const n of sizes) {
  comm.barrier()
  const t0 = comm.wtime()
  const total = comm.reduce(benchmarkComputation(Math.floor(n / comm.size)), SUM, 0) as number | undefined
  comm.barrier()
  const elapsed = comm.wtime() - t0
  if (total !== undefined) console.log(`problem size ${n}×${n}: ${elapsed.toFixed(4)} s (sum ${total.toExponential(3)})`)
}
