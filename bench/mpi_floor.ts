// The floor under the MPI transport's 8 B latency: the same ping-pong as bench/pingpong_batches.ts
// with no rankflow engine at all — a bare JavaScript loop on the addon (write the frame into the
// staging buffer, send(); probe(), then waitAny() until the reply is there). What this measures
// against C-MPI (bench/c/mpi_pingpong_batches.c) in the same minute is what Node and Node-API cost
// before any of rankflow's own work. Run under mpirun on 2 processes, alternated with the C twin:
//   mpirun -np 2 --mca btl self,vader node --import=tsx bench/mpi_floor.ts
// One JSON line from rank 0, impl "node-addon".
import { compactTag } from "../src/transport/mpi.ts"
import { mpiAddon } from "../src/transport/mpiAddon.ts"

const BATCHES = 200
const TRIPS = 1000
const mpi = mpiAddon()
const [rank, size, , compactMax] = mpi.init(new Uint8Array(new SharedArrayBuffer(1 << 20)), 1)
if (size !== 2) throw new Error(`mpi_floor runs on 2 processes, not ${size}`)
const peer = 1 - rank
const out = new ArrayBuffer(16 + 16 * 1024)
const arrivals = new Int32Array(2 + 8) // a slot per process, then the 8 arm words waitInto uses
mpi.bindThread(out, arrivals)
const staging = new ArrayBuffer(16 * 1024)
mpi.bind(peer, peer, 1, staging)
const words = new Int32Array(out)
const outDoubles = new Float64Array(out)
const inDoubles = new Float64Array(staging)
const value = new Float64Array(1).fill(rank + 1)
// Descriptor (destination, MPI tag, frame bytes), then the frame: as the engine sends it, a compact frame (the
// header in the MPI tag, the 8 bytes alone) where the addon takes one, else header (context, tag, kind, bytes) and 8 bytes.
const compact = compactMax >= 8 ? compactTag(0, 1, 1) : -1
const send = (): void => {
  if (compact >= 0) {
    words[0] = peer
    words[1] = compact
    words[2] = 8
    outDoubles[2] = value[0]!
    mpi.send()
    return
  }
  words[0] = peer
  words[1] = 1
  words[2] = 24
  words[4] = 0
  words[5] = 1
  words[6] = 1
  words[7] = 8
  outDoubles[4] = value[0]!
  mpi.send()
}
const recv = (): void => {
  if (mpi.probe(peer) === 0) {
    while (!mpi.waitAny(50_000));
    arrivals[peer] = 0
  }
  value[0] = inDoubles[2]!
}
const trip = (): void => {
  if (rank === 0) {
    send()
    recv()
  } else {
    recv()
    send()
  }
}
/** One batch's one-way time (s); the warm-up (10⁵ round trips, as bench/pingpong_batches.ts) runs batches too, so V8 compiles this loop there. */
const batch = (): number => {
  const start = mpi.wtime()
  for (let i = 0; i < TRIPS; i++) trip()
  return (mpi.wtime() - start) / (2 * TRIPS)
}
for (let b = 0; b < 100; b++) batch()
let best = Infinity
const t0 = mpi.wtime()
for (let b = 0; b < BATCHES; b++) best = Math.min(best, batch())
const mean = (mpi.wtime() - t0) / (2 * BATCHES * TRIPS)
if (rank === 0)
  console.log(JSON.stringify({ workload: "pingpong", impl: "node-addon", ranks: 2, params: { op: "pingpong_8B_batches", bytes: 8, trips: BATCHES * TRIPS }, result: { bytes: 8 }, metrics: { one_way_us: mean * 1e6, best_batch_us: best * 1e6 } }))
mpi.finalize()
