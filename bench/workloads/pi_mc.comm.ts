// pi_mc, comm: the hand-written SPMD version. Each rank counts a block of
// whole chunks (blockRange over the chunks, so the split changes nothing in
// the result) and the counts are summed on rank 0 with reduce.
import { blockRange, type Comm, SUM } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { chunkCount, insideCounter, type PiParams, type PiResult, piResult } from "./pi_mc.ts"
import { spmdEntry } from "./rank.ts"

function setup(comm: Comm, p: PiParams): Kernel<PiResult> {
  const [first, end] = blockRange(chunkCount(p), comm.size, comm.rank)
  const countInside = insideCounter(p)
  let inside = 0
  return {
    phases: {
      run() {
        inside = comm.reduce(countInside(first, end), SUM, 0) ?? 0
      },
    },
    result: () => piResult(p, inside),
  }
}

export const rank = spmdEntry(setup)
