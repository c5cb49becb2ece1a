// matvec, comm: the hand-written SPMD version. Rank 0 holds A and x₀; the
// one-shot phase scatters A's rows (scatterv, remainders to the first ranks),
// broadcasts x₀ (bcastInto), multiplies the local rows and gathers y
// (gatherv). The iterate phase keeps the rows resident: each power iteration
// multiplies them and assembles the new x on every rank with allgatherv.
import { blockCounts, type Comm } from "rankflow"
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import type { Kernel } from "./kernel.ts"
import { type MatvecParams, type MatvecResult, multiplyRows, normalizeInto, problem } from "./matvec.ts"
import { spmdEntry } from "./rank.ts"

function setup(comm: Comm, p: MatvecParams): Kernel<MatvecResult> {
  const rows = blockCounts(p.n, comm.size)
  const mine = rows[comm.rank]!
  const root = comm.rank === 0 ? problem(p) : undefined
  const x = new Float64Array(p.n)
  const yLocal = new Float64Array(mine)
  let aLocal: Float64Array = new Float64Array(0)
  let y0: Float64Array | undefined
  let lambda = 0
  return {
    reset: () => root !== undefined && x.set(root.x),
    phases: {
      oneshot() {
        aLocal = comm.scatterv(root?.a, rows.map((r) => r * p.n), 0)
        comm.bcastInto(x, 0)
        multiplyRows(aLocal, mine, p.n, x, yLocal)
        y0 = comm.gatherv(yLocal, 0)
      },
      iterate() {
        for (let k = 0; k < p.iterations; k++) {
          multiplyRows(aLocal, mine, p.n, x, yLocal)
          lambda = normalizeInto(comm.allgatherv(yLocal), x) // allgatherv returns a new n-vector (32 KB at N = 4000)
        }
      },
    },
    result: () =>
      y0 === undefined
        ? { y_fingerprint: "", y_sum: 0, lambda }
        : { y_fingerprint: fingerprintHex(new Fingerprint().add(y0, 0, p.n, 0).lanes), y_sum: y0.reduce((s, v) => s + v, 0), lambda },
  }
}

export const rank = spmdEntry(setup)
