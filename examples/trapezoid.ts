// Trapezoidal integration of ∫₀¹ √(1−x²) dx = π/4 (seed §5), SPMD style.
// Trapezoids are split by index with blockRange, so every rank count
// integrates exactly the same n trapezoids (the seed's n // size drops some).
//   tsx examples/trapezoid.ts --ranks 4
import { blockRange, init, SUM } from "rankflow"

const comm = await init()
const a = 0
const b = 1
const N = 10_000_000
const h = (b - a) / N
const f = (x: number): number => Math.sqrt(Math.max(0, 1 - x * x))

comm.barrier()
const start = comm.wtime()
const [first, last] = blockRange(N, comm.size, comm.rank) // trapezoids [first, last)
let local = 0
for (let i = first; i < last; i++) local += f(a + i * h) + f(a + (i + 1) * h)
local *= h / 2
const integral = comm.reduce(local, SUM, 0)
const seconds = comm.wtime() - start

if (comm.rank === 0) {
  console.log(`Parallel trapezoidal integration on ${comm.size} ranks, ${N.toLocaleString("en")} trapezoids`)
  console.log(`Integral value: ${integral!.toFixed(12)}`)
  console.log(`Estimated π:    ${(4 * integral!).toFixed(12)}`)
  console.log(`Error:          ${Math.abs(4 * integral! - Math.PI).toExponential(3)}`)
  console.log(`Time: ${seconds.toFixed(4)} s`)
}
