// heat1d, comm: the hand-written SPMD version (as examples/halo.ts). Block
// partition with remainders, one ghost cell per side exchanged with
// sendrecvInto each step (PROC_NULL past the ends), two buffers swapped;
// nothing is allocated per step.
import { blockRange, type Comm } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { spmdEntry } from "./rank.ts"
import { FieldStats, type FieldResult } from "./field.ts"
import { reduceFieldStats } from "./field.comm.ts"
import { decay, type Heat1dParams, heat1dStep, initialValue, ratio } from "./heat1d.ts"

/** The faces of one field buffer: views made once, so a step allocates nothing. */
interface Faces {
  readonly field: Float64Array
  readonly first: Float64Array
  readonly last: Float64Array
  readonly ghostLeft: Float64Array
  readonly ghostRight: Float64Array
}

export function setup(comm: Comm, p: Heat1dParams): Kernel<FieldResult> {
  const r = ratio(p)
  const line = comm.cart([comm.size], [false])!
  const { source: left, dest: right } = line.shift(0, 1)
  const [start, end] = blockRange(p.n, comm.size, comm.rank)
  const n = end - start
  // Points on the global ends keep their Dirichlet value: the update skips them.
  const first = start === 0 ? 2 : 1
  const last = end === p.n ? n - 1 : n

  const faces = (field: Float64Array): Faces => ({
    field,
    first: field.subarray(1, 2),
    last: field.subarray(n, n + 1),
    ghostLeft: field.subarray(0, 1),
    ghostRight: field.subarray(n + 1, n + 2),
  })
  let cur = faces(new Float64Array(n + 2))
  let nxt = faces(new Float64Array(n + 2))

  return {
    reset() {
      for (let i = 1; i <= n; i++) cur.field[i] = initialValue(p, start + i - 1)
    },
    phases: {
      run() {
        for (let step = 0; step < p.steps; step++) {
          line.sendrecvInto(cur.last, right, 0, cur.ghostLeft, left, 0) // my last point → right neighbour's ghost
          line.sendrecvInto(cur.first, left, 1, cur.ghostRight, right, 1) // my first point → left neighbour's ghost
          heat1dStep(cur.field, nxt.field, first, last, r)
          const done = cur
          cur = nxt
          nxt = done
        }
      },
    },
    result() {
      const d = decay(p)
      const stats = new FieldStats().add(cur.field, 1, n + 1, start, (k) => d * initialValue(p, start + k))
      return reduceFieldStats(comm, stats)
    },
  }
}

export const rank = spmdEntry(setup)
