// Collective communication (seed §4): bcast, scatter, gather, reduce, allreduce.
//   tsx examples/collective.ts --ranks 4
import { init, SUM } from "rankflow"

const comm = await init()
const { rank, size } = comm

// 1. Broadcast a configuration object from rank 0.
const config = comm.bcast(rank === 0 ? { param: "simulation_config", timesteps: 1000, dt: 0.01 } : undefined, 0)
console.log(`Rank ${rank} received broadcast: ${JSON.stringify(config)}`)
comm.barrier()

// 2. Scatter rows of a size × 4 table: a typed array splits into equal blocks.
const work = rank === 0 ? Float64Array.from({ length: size * 4 }, (_, i) => i) : undefined
const localWork = comm.scatter(work, 0)
console.log(`Rank ${rank} received: [${localWork.join(", ")}]`)
comm.barrier()

// 3. Gather one result per rank on rank 0.
const localResult = (rank + 1) ** 2
const allResults = comm.gather(localResult, 0)
if (rank === 0) console.log(`Rank 0 gathered all results: [${allResults!.join(", ")}]`)
comm.barrier()

// 4. Reduce (sum) a typed array onto rank 0.
const total = comm.reduce(Float64Array.of(rank + 1), SUM, 0)
if (rank === 0) console.log(`Sum of all ranks (1+2+...+${size}): ${total![0]} (expected ${(size * (size + 1)) / 2})`)

// 5. Allreduce: the sum on every rank.
const globalSum = comm.allreduce(new Float64Array(3).fill(rank + 1), SUM)
console.log(`Rank ${rank} sees global sum: [${globalSum.join(", ")}]`)
