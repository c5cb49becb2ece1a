// matvec, kernels: matvec.comm.ts with the local product in rankflow's
// WebAssembly dgemv (Dense.dgemv, bit-identical to multiplyRows) on A's rows
// and x held in the kernels' memory: the one-shot phase copies the scattered
// rows in (timed), the iterations copy nothing but the allgathered y into x.
import { blockCounts, type Comm, Dense } from "rankflow"
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import type { Kernel } from "./kernel.ts"
import { type MatvecParams, type MatvecResult, normalizeInto, problem } from "./matvec.ts"
import { spmdEntry } from "./rank.ts"

function setup(comm: Comm, p: MatvecParams): Kernel<MatvecResult> {
  const rows = blockCounts(p.n, comm.size)
  const mine = rows[comm.rank]!
  const root = comm.rank === 0 ? problem(p) : undefined
  const x = Dense.alloc(p.n)
  const yLocal = Dense.alloc(mine)
  const aLocal = Dense.alloc(mine * p.n)
  let y0: Float64Array | undefined
  let lambda = 0
  return {
    reset: () => root !== undefined && x.set(root.x),
    phases: {
      oneshot() {
        aLocal.set(comm.scatterv(root?.a, rows.map((r) => r * p.n), 0))
        comm.bcastInto(x, 0)
        Dense.dgemv(aLocal, x, yLocal, mine, p.n)
        y0 = comm.gatherv(yLocal, 0)
      },
      iterate() {
        for (let k = 0; k < p.iterations; k++) {
          Dense.dgemv(aLocal, x, yLocal, mine, p.n)
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
