// matmul, kernels: rank 0 holds A and B; the timed phase scatters A's rows
// (scatterv), broadcasts B (bcastInto), multiplies the local rows with
// Dense.dgemm on operands in the kernels' memory (the copies into it are
// timed) and gathers C (gatherv).
import { blockCounts, type Comm, Dense } from "rankflow"
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import type { Kernel } from "./kernel.ts"
import { type MatmulParams, type MatmulResult, problem } from "./matmul.ts"
import { spmdEntry } from "./rank.ts"

function setup(comm: Comm, p: MatmulParams): Kernel<MatmulResult> {
  const { n } = p
  const rows = blockCounts(n, comm.size)
  const mine = rows[comm.rank]!
  const root = comm.rank === 0 ? problem(p) : undefined
  const b = new Float64Array(n * n)
  const kA = Dense.alloc(mine * n)
  const kB = Dense.alloc(n * n)
  const kC = Dense.alloc(mine * n)
  let c: Float64Array | undefined
  return {
    reset: () => root !== undefined && b.set(root.b),
    phases: {
      multiply() {
        kA.set(comm.scatterv(root?.a, rows.map((r) => r * n), 0))
        comm.bcastInto(b, 0)
        kB.set(b)
        Dense.dgemm(kA, kB, kC, mine, n, n)
        c = comm.gatherv(kC, 0)
      },
    },
    result: () =>
      c === undefined
        ? { c_fingerprint: "", c_sum: 0 }
        : { c_fingerprint: fingerprintHex(new Fingerprint().add(c, 0, c.length, 0).lanes), c_sum: c.reduce((s, v) => s + v, 0) },
  }
}

export const rank = spmdEntry(setup)
