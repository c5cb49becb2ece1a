// The 1-D heat equation written by hand against the communicator (the seed's
// physics section): block partition with remainders, one ghost cell per side
// exchanged with sendrecvInto each step, PROC_NULL at the physical edges,
// Dirichlet boundaries, the error against sin(πx)·e^(−απ²t) reduced with MAX.
// The baseline the declarative pipeline must match.
//   tsx examples/halo.ts --ranks 4
import { blockRange, init, MAX } from "rankflow"

const comm = await init()
const N = 1000 // grid points on [0, 1], x_i = i·dx; need not divide by the rank count
const alpha = 0.01
const dt = 1e-5
const steps = 50_000 // T = 0.5
const dx = 1 / (N - 1)
const r = (alpha * dt) / dx ** 2 // 0.0998: stable (≤ 1/2)

const line = comm.cart([comm.size], [false])!
const { source: left, dest: right } = line.shift(0, 1) // PROC_NULL past the ends
const [start, end] = blockRange(N, comm.size, comm.rank)
const n = end - start

// Local block with a ghost cell at each end; two buffers swapped each step.
let u = new Float64Array(n + 2)
let next = new Float64Array(n + 2)
for (let i = 1; i <= n; i++) u[i] = Math.sin(Math.PI * (start + i - 1) * dx)
const first = start === 0 ? 2 : 1 // x = 0 and x = 1 stay at 0 (Dirichlet)
const last = end === N ? n - 1 : n
const views = (a: Float64Array) => ({ a, lo: a.subarray(1, 2), hi: a.subarray(n, n + 1), ghostLo: a.subarray(0, 1), ghostHi: a.subarray(n + 1, n + 2) })
let cur = views(u)
let nxt = views(next)

const t0 = comm.wtime()
for (let step = 0; step < steps; step++) {
  line.sendrecvInto(cur.hi, right, 0, cur.ghostLo, left, 0) // my last cell → right neighbour's ghost
  line.sendrecvInto(cur.lo, left, 1, cur.ghostHi, right, 1) // my first cell → left neighbour's ghost
  const a = cur.a
  const b = nxt.a
  for (let i = first; i <= last; i++) b[i] = a[i]! + r * (a[i - 1]! - 2 * a[i]! + a[i + 1]!)
  ;[cur, nxt] = [nxt, cur]
}
const seconds = comm.wtime() - t0

const decay = Math.exp(-alpha * Math.PI ** 2 * steps * dt)
let localError = 0
for (let i = 1; i <= n; i++) localError = Math.max(localError, Math.abs(cur.a[i]! - Math.sin(Math.PI * (start + i - 1) * dx) * decay))
const maxError = comm.allreduce(localError, MAX)
const field = comm.gatherv(cur.a.slice(1, n + 1), 0)
if (comm.rank === 0) {
  let checksum = 0
  for (let i = 0; i < N; i++) checksum += field![i]! * (i + 1)
  console.log(`1-D heat, N = ${N}, ${steps} steps on ${comm.size} ranks: ${((seconds / steps) * 1e6).toFixed(2)} µs/step`)
  console.log(`max |u − exact| = ${maxError.toExponential(3)}`)
  console.log(`checksum = ${checksum.toPrecision(17)}`)
}
