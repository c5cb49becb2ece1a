// Parallel merge sort (seed exercise 2): each rank sorts its block, then
// sorted runs are merged pairwise up a binary tree with point-to-point
// messages — rank r receives from r + d and merges while r + d is a rank —
// until rank 0 holds everything, checked against a serial sort.
//   tsx examples/sort.ts --ranks 4 [--n 1000003]
import { blockRange, initWithParams, Param } from "rankflow"

const { comm, params } = await initWithParams({ n: Param.int(1_000_003, "values to sort", { min: 1 }) })
const n = params.n

/** Deterministic pseudo-random values (a hash of the index): every rank can make its own block. */
const value = (i: number): number => (Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0) / 2 ** 32

/** Merges two sorted runs into a new sorted array. */
function merge(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length && j < b.length) out[k++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!
  out.set(a.subarray(i), k)
  out.set(b.subarray(j), k + a.length - i)
  return out
}

const [start, end] = blockRange(n, comm.size, comm.rank)
const t0 = comm.wtime()
let run: Float64Array = Float64Array.from({ length: end - start }, (_, k) => value(start + k)).sort()
for (let d = 1; d < comm.size; d *= 2) {
  if (comm.rank % (2 * d) === d) {
    comm.send(run, comm.rank - d, d) // typed arrays travel as raw bytes
    break
  }
  if (comm.rank + d < comm.size) run = merge(run, comm.recv<Float64Array>(comm.rank + d, d))
}
const seconds = comm.wtime() - t0

if (comm.rank === 0) {
  const t1 = performance.now()
  const serial = Float64Array.from({ length: n }, (_, i) => value(i)).sort()
  const serialSeconds = (performance.now() - t1) / 1000
  const same = run.length === n && run.every((v, i) => v === serial[i])
  console.log(`sorted ${n} values on ${comm.size} ranks in ${seconds.toFixed(3)} s (serial sort: ${serialSeconds.toFixed(3)} s)`)
  console.log(`identical to the serial sort: ${same}`)
}
