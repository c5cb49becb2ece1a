// Monte Carlo π (seed §5), SPMD style: each rank draws its share of the
// samples (remainder included: no samples lost to N // size) and the counts
// are summed with reduce. The hand-written baseline for pipelines/pi.ts.
//   tsx examples/pi_monte_carlo.ts --ranks 4
import { blockCounts, init, SUM } from "rankflow"

const comm = await init()
const N_TOTAL = 100_000_000
const nLocal = blockCounts(N_TOTAL, comm.size)[comm.rank]!

/** Points of [0,1)² inside the quarter circle, from a xorshift128 stream seeded by `seed`. */
function countInside(n: number, seed: number): number {
  // Marsaglia xorshift128 on 32-bit words (plain JS numbers: no BigInt, no allocation).
  let s0 = (seed * 0x9e3779b1) | 1
  let s1 = seed ^ 0x6c078965
  let s2 = 0x2545f491 ^ seed
  let s3 = 0x5bd1e995
  const next = (): number => {
    let t = s0 ^ (s0 << 11)
    s0 = s1
    s1 = s2
    s2 = s3
    s3 = s3 ^ (s3 >>> 19) ^ (t ^ (t >>> 8))
    return (s3 >>> 0) / 4294967296
  }
  let inside = 0
  for (let i = 0; i < n; i++) {
    const x = next()
    const y = next()
    if (x * x + y * y <= 1) inside++
  }
  return inside
}

comm.barrier()
const start = comm.wtime()
const inside = countInside(nLocal, comm.rank + 1)
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
