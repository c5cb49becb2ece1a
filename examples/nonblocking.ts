// Nonblocking exchange (seed §7.1): each rank sends N doubles to its right
// neighbour and receives from its left with isend/irecvInto, computes while
// the messages move, then waits. Works on any number of ranks ≥ 2.
//   tsx examples/nonblocking.ts --ranks 2
import { init, waitAll } from "rankflow"

const comm = await init()
if (comm.size < 2) throw new Error("this example needs at least 2 ranks (--ranks 2)")

const N = 1_000_000
const right = (comm.rank + 1) % comm.size
const left = (comm.rank - 1 + comm.size) % comm.size
const toSend = new Float64Array(N).map((_, i) => i * (comm.rank + 1))
const received = new Float64Array(N)

const requests = [comm.isend(toSend, right, 0), comm.irecvInto(received, left, 0)] as const

const start = comm.wtime()
let sumOfSquares = 0 // computation overlapping the communication
for (let i = 0; i < N; i++) sumOfSquares += toSend[i]! * toSend[i]!
const computeSeconds = comm.wtime() - start

waitAll(requests)
const sum = received.reduce((s, x) => s + x, 0)
console.log(
  `Rank ${comm.rank}: computed Σx² = ${sumOfSquares.toExponential(3)} in ${computeSeconds.toFixed(6)} s ` +
    `while exchanging; received from rank ${left}: sum = ${sum.toExponential(2)}`,
)
