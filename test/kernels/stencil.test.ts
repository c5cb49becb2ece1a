// The stencil kernels' module: the committed src/kernels/stencil.wasm.ts is
// what stencil.wat assembles to, and the row sweeps give the bits of the same
// operations in JavaScript (unrolled and table-driven, f64 and f32, rows
// starting off the 16-byte alignment and odd lengths for the scalar points).
import { readFileSync } from "node:fs"
import test from "ava"
import { StencilKernels } from "rankflow"
import { generated } from "../../scripts/build-wasm.ts"

test("src/kernels/stencil.wasm.ts equals a fresh build of stencil.wat", async (t) => {
  const mine = (await generated()).find((g) => g.path.endsWith("stencil.wasm.ts"))
  t.truthy(mine)
  t.is(readFileSync(mine!.path, "utf8"), mine!.source, "stale: run npx tsx scripts/build-wasm.ts")
})

for (const type of ["float64", "float32"] as const)
  for (const count of [1, 3, 4, 5, 7, 9, 11])
    test(`row sweep, ${count} term${count > 1 ? "s" : ""}, ${type}: the bits of the JavaScript operations, both forms`, (t) => {
      const k = new StencilKernels(1 << 16)
      const n = 37
      const u = k.alloc(type, n + 16)
      const out = k.alloc(type, n + 16)
      for (let i = 0; i < u.length; i++) u[i] = Math.sin(i * 1.7) * 3
      const size = type === "float64" ? 8 : 4
      const offsets = Array.from({ length: count }, (_, j) => ((j * 5) % 15) - 7)
      const weights = Array.from({ length: count }, (_, j) => Math.cos(j + 0.3) / 3)
      const row = k.compile(type, offsets.map((o) => o * size), weights)
      const F = type === "float32" ? Math.fround : (x: number) => x
      const w = weights.map(F)
      for (const [mode, first] of [[0, 8], [1, 8], [0, 9], [1, 11]] as const) {
        const s = 0.37
        out.fill(0)
        row(out, u, first, n - first, s, mode) // from 9 and 11 the first points run before the output is 16-byte aligned
        for (let i = first; i < n; i++) {
          let acc = F(w[0]! * u[i + offsets[0]!]!)
          for (let j = 1; j < count; j++) acc = F(acc + F(w[j]! * u[i + offsets[j]!]!))
          const want = mode === 0 ? acc : F(u[i]! + F(F(s) * acc))
          t.is(out[i], type === "float32" ? Math.fround(want) : want, `point ${i}, mode ${mode}`)
        }
        t.is(out[n], 0, "nothing written past the row")
        t.is(out[first - 1], 0, "nothing written before the row")
      }
    })

test("alloc refuses more than the memory holds", (t) => {
  const k = new StencilKernels(1024)
  t.throws(() => k.alloc("float64", 1 << 20), { instanceOf: RangeError })
})

// window: k steps in one call, tiled along dimension 0 and skewed by the radius, against k untiled row sweeps.
for (const type of ["float64", "float32"] as const)
  for (const [dims, count, radius] of [[1, 3, 1], [1, 4, 2], [2, 5, 1], [2, 9, 1], [3, 7, 1]] as const)
    test(`window, ${dims}-D, ${count} terms, ${type}: tiled steps give the bits of untiled row sweeps`, (t) => {
      const k = new StencilKernels(1 << 22)
      const g = 6 // ghost frame: k · radius with k = 6 / radius
      const count0 = dims === 1 ? 203 : dims === 2 ? 37 : 13
      const shape = Array.from({ length: dims }, (_, d) => (d === 0 ? count0 : d === 1 ? 11 : 9) + 2 * g)
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, c) => a * c, 1))
      const length = shape.reduce((a, c) => a * c, 1)
      const size = type === "float64" ? 8 : 4
      const axisOffset = (j: number) => (j % 2 === 0 ? -1 : 1) * (1 + ((j >> 1) % radius))
      const offsets = Array.from({ length: count }, (_, j) => (j === count - 1 ? 0 : axisOffset(j) * strides[(j >> 1) % dims]!))
      const weights = Array.from({ length: count }, (_, j) => Math.cos(j + 0.3) / 3)
      const steps = Math.floor(g / radius)
      // Update ranges as a wide-ghost window gives them: widened by (steps − 1 − j)·radius on the low side of dim 0 and both sides of the others.
      const ranges = Array.from({ length: steps }, (_, j) => {
        const w = (steps - 1 - j) * radius
        return { lo: shape.map(() => g - w), hi: shape.map((n, d) => n - g + (d === 0 ? 0 : w)) }
      })
      const fill = (a: Float64Array | Float32Array) => {
        for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37) * 2
      }
      const row = k.compile(type, offsets.map((o) => o * size), weights)
      const refA = k.alloc(type, length), refB = k.alloc(type, length)
      fill(refA)
      fill(refB)
      let x = refA, y = refB
      for (let j = 0; j < steps; j++) {
        const { lo, hi } = ranges[j]!
        const n = hi[dims - 1]! - lo[dims - 1]!
        if (dims === 1) row(y, x, lo[0]!, n, 0.37, 1)
        else if (dims === 2) for (let a = lo[0]!; a < hi[0]!; a++) row(y, x, a * strides[0]! + lo[1]!, n, 0.37, 1)
        else for (let a = lo[0]!; a < hi[0]!; a++) for (let c = lo[1]!; c < hi[1]!; c++) row(y, x, a * strides[0]! + c * strides[1]! + lo[2]!, n, 0.37, 1)
        ;[x, y] = [y, x]
      }
      for (const tile of [0, 1, 3, 5, 16]) {
        const u = k.alloc(type, length), v = k.alloc(type, length)
        fill(u)
        fill(v)
        const run = k.window(type, offsets.map((o) => o * size), weights, 0.37, 1, { dims, strides, ranges, radius, tile })
        run(u, v, 0, steps)
        const result = steps % 2 === 1 ? v : u
        t.deepEqual(Array.from(result), Array.from(x), `tile ${tile}`)
      }
      // A shorter window runs the last steps' (narrower) ranges.
      const u = k.alloc(type, length), v = k.alloc(type, length)
      fill(u)
      fill(v)
      k.window(type, offsets.map((o) => o * size), weights, 0.37, 1, { dims, strides, ranges, radius, tile: 4 })(u, v, steps - 1, 1)
      t.not(v[ranges[steps - 1]!.lo.reduce((a, l, d) => a + l * strides[d]!, 0)], u[ranges[steps - 1]!.lo.reduce((a, l, d) => a + l * strides[d]!, 0)])
      t.throws(() => k.window(type, offsets.map((o) => o * size), weights, 0.37, 1, { dims, strides, ranges, radius, tile: 4 })(u, v, steps - 1, 2), { instanceOf: RangeError })
    })

// Unit weights (the heat family: every weight 1 but the centre's) run the unit kernels, which skip the multiplications by 1.
for (const type of ["float64", "float32"] as const)
  for (const [count, centre] of [[3, 1], [5, 4], [7, 6]] as const)
    test(`unit-weight sweep, ${count} terms, ${type}: the bits of the JavaScript operations with the multiplications by 1`, (t) => {
      const k = new StencilKernels(1 << 16)
      const n = 41
      const u = k.alloc(type, n + 16)
      const out = k.alloc(type, n + 16)
      for (let i = 0; i < u.length; i++) u[i] = Math.sin(i * 1.3) * 3 + (i % 7 === 0 ? -0 : 0)
      const size = type === "float64" ? 8 : 4
      const offsets = Array.from({ length: count }, (_, j) => (j === centre ? 0 : ((j * 5) % 13) - 6))
      const weights = Array.from({ length: count }, (_, j) => (j === centre ? -2 * (count >> 1) : 1))
      const F = type === "float32" ? Math.fround : (x: number) => x
      const window = k.window(type, offsets.map((o) => o * size), weights, 0.3, 1, { dims: 1, strides: [1], ranges: [{ lo: [8], hi: [n] }], radius: 6, tile: 0 })
      for (const [mode, first] of [[0, 8], [1, 8], [0, 9], [1, 11]] as const) {
        out.fill(0)
        k.compile(type, offsets.map((o) => o * size), weights)(out, u, first, n - first, 0.3, mode)
        for (let i = first; i < n; i++) {
          let acc = F(weights[0]! * u[i + offsets[0]!]!)
          for (let j = 1; j < count; j++) acc = F(acc + F(weights[j]! * u[i + offsets[j]!]!))
          t.is(out[i], mode === 0 ? acc : F(u[i]! + F(F(0.3) * acc)), `point ${i}, mode ${mode}`)
        }
        t.is(out[n], 0, "nothing written past the row")
      }
      const rows = k.alloc(type, n + 16)
      k.compile(type, offsets.map((o) => o * size), weights)(rows, u, 8, n - 8, 0.3, 1)
      out.fill(0)
      window(u, out, 0, 1)
      t.deepEqual(Array.from(out), Array.from(rows), "the window's unit kernel gives the row's bits")
    })

// The 1-D heat (3 points, unit weights, Float64) runs a window's steps two by two in one pass per tile (pair3u_f64):
// every point of both buffers must hold the bits of the steps run one by one, whatever the ranges' parity,
// length (down to the short ranges that fall back to single steps), shrinking sides, window length and start.
test("window in pairs, 1-D heat, float64: both buffers hold the bits of the steps one by one, tiled or not", (t) => {
  const n = 256
  let cases = 0
  for (const mode of [0, 1])
    for (const [shrinkLo, shrinkHi] of [[1, 1], [1, 0], [0, 1], [0, 0]] as const)
      for (const start of [1, 2, 3, 4]) {
        // Per kernel instance: the buffers once, and the windows' parameter blocks (a few hundred bytes each).
        const k = new StencilKernels(1 << 22)
        const row = k.compile("float64", [-8, 0, 8], [1, -2, 1])
        const [u, v, a0, b0] = [0, 1, 2, 3].map(() => k.alloc("float64", n)) as [Float64Array, Float64Array, Float64Array, Float64Array]
        for (const length of [1, 5, 15, 16, 17, 20, 23, 24, 29, 40, 61, 200, 203])
          for (const steps of [1, 2, 3, 6, 7]) {
            const g = steps + 1
            // Step j updates [lo, hi) widened by (steps − 1 − j) on the sides that shrink.
            const ranges = Array.from({ length: steps }, (_, j) => {
              const w = steps - 1 - j
              return { lo: [start + g - shrinkLo * w], hi: [start + g + length + shrinkHi * w] }
            })
            const fill = (a: Float64Array, seed: number) => {
              for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.61 + seed) * 2 + (i % 5 === 0 ? 1e-300 : 0)
            }
            for (const tile of [0, 5, 16, 37])
            for (const first of steps > 2 ? [0, 1] : [0]) {
              const run = k.window("float64", [-8, 0, 8], [1, -2, 1], 0.37, mode, { dims: 1, strides: [1], ranges, radius: 1, tile })
              fill(u, 0)
              fill(v, 1)
              a0.set(u)
              b0.set(v)
              let a = a0, b = b0
              for (let j = first; j < steps; j++) {
                row(b, a, ranges[j]!.lo[0]!, ranges[j]!.hi[0]! - ranges[j]!.lo[0]!, 0.37, mode)
                ;[a, b] = [b, a]
              }
              run(u, v, first, steps - first)
              const label = `tile ${tile}, mode ${mode}, shrinking ${shrinkLo}/${shrinkHi}, from ${start}, ${length} points, steps ${first}…${steps - 1}`
              t.deepEqual(Array.from(u), Array.from(a0), `${label}: input buffer`)
              t.deepEqual(Array.from(v), Array.from(b0), `${label}: output buffer`)
              cases++
            }
          }
      }
  t.true(cases > 10_000)
})
