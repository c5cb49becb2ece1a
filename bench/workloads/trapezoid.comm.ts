// trapezoid, comm: the hand-written SPMD version. Each rank sums a block of
// intervals (blockRange: remainders included, no interval lost) and the
// partial sums are added on rank 0 with reduce.
import { blockRange, type Comm, SUM } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { spmdEntry } from "./rank.ts"
import { type TrapezoidParams, type TrapezoidResult, trapezoidResult, trapezoidSum } from "./trapezoid.ts"

function setup(comm: Comm, p: TrapezoidParams): Kernel<TrapezoidResult> {
  const [first, last] = blockRange(p.intervals, comm.size, comm.rank)
  let integral = 0
  return {
    phases: {
      run() {
        integral = comm.reduce(trapezoidSum(p, first, last), SUM, 0) ?? 0
      },
    },
    result: () => trapezoidResult(integral),
  }
}

export const rank = spmdEntry(setup)
