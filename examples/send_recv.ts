// Point-to-point (seed §3): an object (serialized) and a Float64Array (raw
// bytes, received into a preallocated buffer) from rank 0 to rank 1.
//   tsx examples/send_recv.ts --ranks 2
import { init, Status } from "rankflow"

const comm = await init()
if (comm.size < 2) throw new Error("this example needs at least 2 ranks (--ranks 2)")

if (comm.rank === 0) {
  const data = { message: "Hello from rank 0", value: 42, array: [1, 2, 3] }
  comm.send(data, 1, 11)
  console.log("Rank 0 sent:", data)
} else if (comm.rank === 1) {
  console.log("Rank 1 received:", comm.recv(0, 11))
}
comm.barrier()

if (comm.rank === 0) {
  const array = Float64Array.of(1, 2, 3, 4, 5)
  comm.send(array, 1, 22)
  console.log("Rank 0 sent array:", array)
} else if (comm.rank === 1) {
  const array = new Float64Array(5)
  const status = new Status()
  comm.recvInto(array, 0, 22, status)
  console.log(`Rank 1 received array (${status.transport}, ${status.count} × ${status.type}):`, array)
}
