// Large point-to-point exchanges, repeated: the workload that was stopped with a
// false DeadlockDetected under heavy load. Each round, every rank exchanges
// `--mb` MiB with its ring neighbours three ways: sendrecv into a buffer,
// isend/irecvInto pairs, and blocking send + recv of a fresh array (the
// receive allocates while the peer streams). Prints one JSON line.
//   node --import tsx bench/large_exchange.ts --ranks 2 -- 64 5
// Under load (the false reports needed a starved job): pin the job to one
// core beside busy loops at normal priority, e.g.
//   taskset -c 0 nice -n 19 node --import tsx bench/large_exchange.ts --ranks 2 -- 64 5 &
//   taskset -c 0 yes > /dev/null   (two or three of them; kill them afterwards)
import { init, positionals, SUM, waitAll } from "rankflow"

const comm = await init()
const [mb = "64", rounds = "5"] = positionals()
const n = (Number(mb) * 1024 * 1024) / 8
const right = (comm.rank + 1) % comm.size
const left = (comm.rank - 1 + comm.size) % comm.size
const mine = new Float64Array(n).fill(comm.rank + 1)
const into = new Float64Array(n)
const started = performance.now()
let checks = 0
for (let round = 0; round < Number(rounds); round++) {
  comm.sendrecvInto(mine, right, 1, into, left, 1)
  checks += into[n - 1] === left + 1 ? 1 : 0
  waitAll([comm.isend(mine, right, 2), comm.irecvInto(into, left, 2)])
  checks += into[0] === left + 1 ? 1 : 0
  if (comm.rank % 2 === 0) {
    comm.send(mine, right, 3)
    checks += comm.recv<Float64Array>(left, 3)[n >> 1] === left + 1 ? 1 : 0
  } else {
    checks += comm.recv<Float64Array>(left, 3)[n >> 1] === left + 1 ? 1 : 0
    comm.send(mine, right, 3)
  }
}
const total = comm.allreduce(checks, SUM)
if (comm.rank === 0)
  console.log(JSON.stringify({ workload: "large_exchange", ranks: comm.size, mib: Number(mb), rounds: Number(rounds), ok: total === 3 * Number(rounds) * comm.size, seconds: (performance.now() - started) / 1000 }))
