// A consumer's 2-rank program: an object and a Float64Array from rank 0 to rank 1, typed end to end.
import { init, Status, SUM, type Comm } from "rankflow"

const comm: Comm = await init()
if (comm.rank === 0) {
  comm.send({ greeting: "hello", values: [1, 2, 3] }, 1, 7)
  comm.send(Float64Array.of(1.5, 2.5, 3.5), 1, 8)
} else if (comm.rank === 1) {
  const message = comm.recv<{ greeting: string; values: number[] }>(0, 7)
  const into = new Float64Array(3)
  const status = new Status()
  comm.recvInto(into, 0, 8, status)
  console.log(`received ${message.greeting} ${message.values.join(",")} and ${status.count} × ${status.type}: ${Array.from(into).join(",")}`)
}
const total: number = comm.allreduce(comm.rank + 1, SUM)
if (comm.rank === 0) console.log(`sum over ${comm.size} ranks: ${total}`)
