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
