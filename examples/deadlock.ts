// The seed's deadlock pitfall (§7.4): both ranks receive before they send.
// MPI would hang forever; rankflow reports the wait-for cycle and exits 1.
//   tsx examples/deadlock.ts --ranks 2          (the bad version, reported)
//   tsx examples/deadlock.ts --ranks 2 -- fixed is not an option: see `good` below
import { init } from "rankflow"

const comm = await init()
const other = 1 - comm.rank
if (comm.size !== 2) throw new Error("this example runs on exactly 2 ranks (--ranks 2)")

/** GOOD: one rank sends first, the other receives first (or use sendrecv). */
function good(): unknown {
  if (comm.rank === 0) {
    comm.send(`data from ${comm.rank}`, other)
    return comm.recv(other)
  }
  const data = comm.recv(other)
  comm.send(`data from ${comm.rank}`, other)
  return data
}

/** BAD: both wait to receive before sending. */
function bad(): unknown {
  const data = comm.recv(other)
  comm.send(`data from ${comm.rank}`, other)
  return data
}

console.log(`rank ${comm.rank} (good order) got: ${String(good())}`)
console.log(`rank ${comm.rank} (same data with sendrecv) got: ${String(comm.sendrecv(`data from ${comm.rank}`, other, 0, other))}`)
comm.barrier()
console.log(`rank ${comm.rank} now tries the bad order…`)
bad()
