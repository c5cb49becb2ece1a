// tour.ts — run with: npx tsx tour.ts --ranks 4
import { init, ANY_SOURCE, Status, waitAll } from "rankflow"

const comm = await init() // the supervisor re-launches this module on every rank
const { rank, size } = comm
const right = (rank + 1) % size, left = (rank - 1 + size) % size

// One send for everything: objects are serialized, typed arrays go as raw bytes.
if (rank === 0) comm.send({ hello: "from rank 0", at: new Date() }, 1 % size, 11)
if (rank === 1 % size) console.log("got", comm.recv(0, 11))

// Receive into a preallocated buffer: no allocation, type and size checked.
const out = new Float64Array(1000).fill(rank), into = new Float64Array(1000)
waitAll([comm.isend(out, right), comm.irecvInto(into, left)])

// Who sent what: a Status tells source, tag, size and the transport used.
const status = new Status()
const fromAnyone = comm.sendrecv(rank, right, 5, ANY_SOURCE, 5, status)
console.log(`rank ${rank}: ${into[0]} came from ${left}; ${fromAnyone} via ${status.transport}`)
comm.barrier()
