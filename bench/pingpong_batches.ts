// 8 B ping-pong between 2 ranks on whatever transport runs it, timed in batches: the mean
// one-way time over 200 batches of 1000 round trips and the best batch, which separates the
// transport's own cost from a loaded machine's descheduling (issue 14's MPI latency target).
// C-MPI's twin is bench/c/mpi_pingpong_batches.c; run both alternately under one lock:
//   mpicc -O2 -o /tmp/mpi_pingpong_batches bench/c/mpi_pingpong_batches.c
//   for i in 1 2 3; do mpirun -np 2 --mca btl self,vader /tmp/mpi_pingpong_batches
//     mpirun -np 2 --mca btl self,vader node --import=tsx bench/pingpong_batches.ts; done
//   tsx bench/pingpong_batches.ts --ranks 2      (the threads transport)
// With the argument `-- mixed`, the ranks first exchange messages of a dozen other types, as a
// program does before its hot loop (impl "rankflow-<transport>-mixed"): the engine's copies then
// see many array types, which made their element loops megamorphic before frameCopy.ts's views.
// One JSON line from rank 0, impl "rankflow-<transport>".
import { init, positionals } from "rankflow"

const comm = await init()
if (comm.size !== 2) throw new Error(`pingpong_batches runs on 2 ranks, not ${comm.size}`)
const BATCHES = 200
const TRIPS = 1000
/** 10⁵ untimed round trips: after 2·10⁴, V8 was still compiling now-and-then paths during the timed batches (see bench/pingpong.ts). */
const WARMUP_BATCHES = 100
const peer = 1 - comm.rank
const mixed = positionals()[0] === "mixed"
if (mixed) {
  const values: unknown[] = ["text", 3, { a: [1, 2] }, new Uint8Array(5), new Int32Array(3), new Float32Array(2), new Uint16Array(7), new Int8Array(4), new Uint32Array(2), new Int16Array(6), new BigInt64Array(1), Buffer.from("abc"), new DataView(new ArrayBuffer(8)), new ArrayBuffer(12)]
  for (let i = 0; i < 2000; i++)
    for (const value of values) {
      if (comm.rank === 0) comm.send(value, peer, 2)
      else comm.recv(peer, 2)
    }
}
// Each rank sends its own bytes (rank + 1) and receives the other's.
const mine = new Uint8Array(8).fill(comm.rank + 1)
const buffer = new Uint8Array(8)
const trip = (): void => {
  if (comm.rank === 0) {
    comm.send(mine, peer, 1)
    comm.recvInto(buffer, peer, 1)
  } else {
    comm.recvInto(buffer, peer, 1)
    comm.send(mine, peer, 1)
  }
}
/** One batch's one-way time (s). The warm-up runs batches too: V8 compiles this loop there, not while timed. */
const batch = (): number => {
  const start = comm.wtime()
  for (let i = 0; i < TRIPS; i++) trip()
  return (comm.wtime() - start) / (2 * TRIPS)
}
for (let b = 0; b < WARMUP_BATCHES; b++) batch()
comm.barrier()
let best = Infinity
const t0 = comm.wtime()
for (let b = 0; b < BATCHES; b++) best = Math.min(best, batch())
const mean = (comm.wtime() - t0) / (2 * BATCHES * TRIPS)
if (comm.rank === 0) {
  if (buffer[0] !== 2 || buffer[7] !== 2) throw new Error(`pingpong_batches: rank 0 received ${buffer[0]}…${buffer[7]}, expected rank 1's 2s`)
  console.log(JSON.stringify({ workload: "pingpong", impl: `rankflow-${process.env.OMPI_COMM_WORLD_SIZE === undefined ? "threads" : "mpi"}${mixed ? "-mixed" : ""}`, ranks: 2, params: { op: "pingpong_8B_batches", bytes: 8, trips: BATCHES * TRIPS }, result: { bytes: 8 }, metrics: { one_way_us: mean * 1e6, best_batch_us: best * 1e6 } }))
}
