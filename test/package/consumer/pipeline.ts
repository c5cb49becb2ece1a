// A consumer's pipeline: the sum of squares of 0..n-1 over a distributed range, on every rank's comm.
import { init, Pipeline, Range } from "rankflow"

const n = 1000
const squares = Pipeline.distribute(Range.of(n))
  .mapLocal(({ start, end }) => {
    let sum = 0
    for (let i = start; i < end; i++) sum += i * i
    return sum
  })
  .allreduce()

const comm = await init()
const result: number | undefined = Pipeline.run(squares, comm)
if (comm.rank === 0) console.log(`sum of squares below ${n} on ${comm.size} ranks: ${result}`)
