// Reductions in a program that reduces several array types: allreduce of a 4096-element
// Float32Array and Int32Array (SUM, MAX) on 2 ranks, timed before and after the ranks have reduced
// eight other types with the same ops. One elementwise loop per op used to serve every type, and
// went megamorphic after five of them (~70 ns per element instead of ~3); each op now compiles a
// loop per type (src/comm/ops.ts), so the two times should match. One JSON line per case.
//   tsx bench/reduce_types.ts --ranks 2
import { init, MAX, SUM } from "rankflow"

const comm = await init()
const LENGTH = 4096
const CALLS = 2000
const cases = [
  { type: Float32Array, op: SUM },
  { type: Int32Array, op: SUM },
  { type: Float32Array, op: MAX },
  { type: Int32Array, op: MAX },
] as const

const timeCase = (c: (typeof cases)[number]): number => {
  const value = new c.type(LENGTH).fill(comm.rank + 1)
  const out = new c.type(LENGTH)
  for (let i = 0; i < 200; i++) comm.allreduce(value, c.op, out)
  comm.barrier()
  const t0 = comm.wtime()
  for (let i = 0; i < CALLS; i++) comm.allreduce(value, c.op, out)
  const seconds = (comm.wtime() - t0) / CALLS
  const expected = c.op === SUM ? (comm.size * (comm.size + 1)) / 2 : comm.size
  if (out[0] !== expected || out[LENGTH - 1] !== expected) throw new Error(`reduce_types: ${c.type.name} ${c.op.name} gave ${out[0]}, expected ${expected}`)
  return seconds
}

const before = cases.map(timeCase)
const others = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Uint32Array, Float64Array, Float32Array, Int32Array]
for (const T of others) for (const op of [SUM, MAX]) for (let i = 0; i < 50; i++) comm.allreduce(new T(64).fill(1), op)
const after = cases.map(timeCase)
if (comm.rank === 0)
  cases.forEach((c, k) =>
    console.log(JSON.stringify({ workload: "reduce_types", impl: "rankflow", ranks: comm.size, params: { type: c.type.name, op: c.op.name, length: LENGTH, calls: CALLS }, wall_s: (before[k]! + after[k]!) * CALLS, result: { checked: true }, metrics: { us_per_call: before[k]! * 1e6, us_per_call_after_types: after[k]! * 1e6, ratio: after[k]! / before[k]! } })),
  )
