// Monte Carlo π (seed §5), SPMD style: each rank draws its share of the
// samples (remainder included: no samples lost to N // size) from its own
// random stream, and the counts are summed with reduce. The hand-written
// baseline for pipelines/pi.ts.
//   tsx examples/pi_monte_carlo.ts --ranks 4
import { blockCounts, init, randomStream, SUM } from "rankflow"

const comm = await init()
const N_TOTAL = 100_000_000
const nLocal = blockCounts(N_TOTAL, comm.size)[comm.rank]!

comm.barrier()
const start = comm.wtime()
const random = randomStream(2024, comm.rank) // a stream per rank
const xy = new Float64Array(4096) // 2048 points per fill
let inside = 0
for (let left = 2 * nLocal; left > 0; left -= xy.length) {
  const n = Math.min(xy.length, left)
  random.fill(xy, 0, n)
  for (let i = 0; i < n; i += 2) inside += +(xy[i]! * xy[i]! + xy[i + 1]! * xy[i + 1]! <= 1)
}
const totalInside = comm.reduce(inside, SUM, 0)
const seconds = comm.wtime() - start

if (comm.rank === 0) {
  const pi = (4 * totalInside!) / N_TOTAL
  console.log(`Parallel Monte Carlo estimation of π on ${comm.size} ranks, ${N_TOTAL.toLocaleString("en")} samples`)
  console.log(`Estimated π: ${pi.toFixed(10)}`)
  console.log(`Actual π:    ${Math.PI.toFixed(10)}`)
  console.log(`Error:       ${Math.abs(pi - Math.PI).toFixed(10)}`)
  console.log(`Time: ${seconds.toFixed(4)} s, ${Math.round(N_TOTAL / seconds).toLocaleString("en")} samples/s`)
}
