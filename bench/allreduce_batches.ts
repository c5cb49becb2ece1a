// Allreduce of one double (SUM) on whatever transport runs it, timed in batches: the mean over
// 200 batches of 1000 calls and the best batch, which separates the transport's own cost from a
// loaded machine's descheduling (issue 14's MPI latency target). C-MPI's twin is
// bench/c/mpi_allreduce_batches.c; run both alternately under one lock:
//   mpicc -O2 -o /tmp/mpi_allreduce_batches bench/c/mpi_allreduce_batches.c
//   for i in 1 2 3; do mpirun -np 2 --mca btl self,vader /tmp/mpi_allreduce_batches
//     mpirun -np 2 --mca btl self,vader node --import=tsx bench/allreduce_batches.ts; done
//   tsx bench/allreduce_batches.ts --ranks 2      (the threads transport)
// One JSON line from rank 0, impl "rankflow-<transport>".
import { init, SUM } from "rankflow"

const comm = await init()
const BATCHES = 200
const CALLS = 1000
let sum = 0
/** One batch's time per call (s). The warm-up runs batches too: V8 compiles this loop there, not while timed. */
const batch = (): number => {
  const start = comm.wtime()
  for (let i = 0; i < CALLS; i++) sum = comm.allreduce(comm.rank + 1, SUM)
  return (comm.wtime() - start) / CALLS
}
// 10⁵ untimed calls (see bench/pingpong.ts on why more than 2·10⁴).
for (let b = 0; b < 100; b++) batch()
comm.barrier()
let best = Infinity
const t0 = comm.wtime()
for (let b = 0; b < BATCHES; b++) best = Math.min(best, batch())
const mean = (comm.wtime() - t0) / (BATCHES * CALLS)
if (sum !== (comm.size * (comm.size + 1)) / 2) throw new Error(`allreduce_batches: sum ${sum}, expected ${(comm.size * (comm.size + 1)) / 2}`)
const slowest = comm.allreduce([mean, best], { concat: (a: number[], b: number[]) => [Math.max(a[0]!, b[0]!), Math.max(a[1]!, b[1]!)] })
if (comm.rank === 0) {
  console.log(JSON.stringify({ workload: "allreduce", impl: `rankflow-${process.env.OMPI_COMM_WORLD_SIZE === undefined ? "threads" : "mpi"}`, ranks: comm.size, params: { op: "allreduce_1_double_batches", bytes: 8, calls: BATCHES * CALLS }, result: { check: sum }, metrics: { us_per_call: slowest[0]! * 1e6, best_batch_us: slowest[1]! * 1e6 } }))
}
