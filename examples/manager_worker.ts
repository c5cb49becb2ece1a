// Manager-worker (the seed's design pattern 1): rank 0 hands out ranges of
// numbers whose primes are counted by trial division — later ranges cost more
// — one at a time as workers free up, so no worker idles while another has a
// backlog. Prints π(n) and how many ranges each worker took.
//   tsx examples/manager_worker.ts --ranks 4 [--n 2000000 --tasks 200]
import { initWithParams, managerWorker, Param } from "rankflow"

const { comm, params } = await initWithParams({
  n: Param.int(2_000_000, "count the primes below n", { min: 2 }),
  tasks: Param.int(200, "ranges to deal out", { min: 1 }),
})
const { n, tasks } = params

function primesIn(from: number, to: number): number {
  let count = 0
  for (let k = Math.max(from, 2); k < to; k++) {
    let prime = true
    for (let d = 2; d * d <= k; d++) if (k % d === 0) (prime = false), (d = k)
    if (prime) count++
  }
  return count
}

const ranges = Array.from({ length: tasks }, (_, i) => [Math.floor((i * n) / tasks), Math.floor(((i + 1) * n) / tasks)] as const)
const t0 = comm.wtime()
const farm = managerWorker(comm, {
  tasks: comm.rank === 0 ? ranges : undefined,
  work: ([from, to]) => primesIn(from, to),
})
if (farm) {
  console.log(`π(${n}) = ${farm.results.reduce((a, b) => a + b, 0)} in ${(comm.wtime() - t0).toFixed(3)} s`)
  console.log(`ranges per worker: ${farm.tasksPerWorker.join(", ")}`)
}
