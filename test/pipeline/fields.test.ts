// Pipelines of several fields and element types on real ranks, against the
// same scheme run serially the plain way: random grids × rank counts ×
// boundaries × field counts × element types, bit for bit.
import test from "ava"
import fc from "fast-check"
import { type ElementType, fingerprint } from "rankflow"
import { onRanks } from "../helpers.ts"
import { type Case, type FieldCase, initial, type Side, update } from "../fixtures/multiFields.ts"

const ARRAYS = { float64: Float64Array, float32: Float32Array, int32: Int32Array, uint8: Uint8Array } as const
type AnyArray = Float64Array | Float32Array | Int32Array | Uint8Array

/** The scheme of fixtures/multiFields.ts serially, with every boundary written out by hand. */
function serial(c: Case): Record<string, unknown> {
  const shape = c.shape
  const dims = shape.length
  const total = shape.reduce((a, b) => a * b, 1)
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1))
  const index = (k: number) => shape.map((n, d) => Math.floor(k / strides[d]!) % n)
  const isFixed = (g: ReadonlyArray<number>) => g.some((x, d) => c.sides[d]!.kind === "dirichlet" && (x === 0 || x === shape[d]! - 1))
  const fixedValue = (g: ReadonlyArray<number>) => {
    // A corner on two Dirichlet edges holds the later dimension's value (edges are fixed dimension by dimension).
    let d = g.length - 1
    while (!(c.sides[d]!.kind === "dirichlet" && (g[d] === 0 || g[d] === shape[d]! - 1))) d--
    return (c.sides[d] as { value: number }).value
  }
  const fill = (j: number, previous: boolean): AnyArray => {
    const a = new ARRAYS[c.fields[j]!.type](total)
    for (let k = 0; k < total; k++) {
      const g = index(k)
      a[k] = isFixed(g) ? fixedValue(g) : initial(j, g, previous)
    }
    return a
  }
  let cur = c.fields.map((_, j) => fill(j, false))
  let prev = c.fields.map((f, j) => (f.previous ? fill(j, true) : cur[j]!))
  /** Field j at global index g, one step outside the grid at most along one dimension. */
  const at = (a: AnyArray, g: number[]): number => {
    for (let d = 0; d < dims; d++) {
      const n = shape[d]!
      if (g[d]! >= 0 && g[d]! < n) continue
      const side = c.sides[d]!
      if (side.kind === "dirichlet") return new (a.constructor as typeof Float64Array)([side.value])[0]!
      g[d] = side.kind === "periodic" ? (g[d]! + n) % n : g[d]! < 0 ? -g[d]! : 2 * (n - 1) - g[d]!
    }
    return a[g.reduce((s, x, d) => s + x * strides[d]!, 0)]!
  }
  for (let step = 0; step < c.steps; step++) {
    const next = c.fields.map((f, j) => new ARRAYS[f.type](cur[j]!))
    for (let k = 0; k < total; k++) {
      const g = index(k)
      if (isFixed(g)) continue
      const sums = cur.map((a) => {
        let s = 0
        for (let d = 0; d < dims; d++) for (const dir of [-1, 1]) s += at(a, g.map((x, e) => (e === d ? x + dir : x)))
        return s
      })
      c.fields.forEach((f, j) => (next[j]![k] = update(f, cur[j]![k]!, prev[j]![k]!, sums)))
    }
    prev = c.fields.map((f, j) => (f.previous ? cur[j]! : next[j]!))
    cur = next
  }
  const out: Record<string, unknown> = Object.fromEntries(c.fields.map((f, j) => [f.name, cur[j]]))
  out.prev = Object.fromEntries(c.fields.flatMap((f, j) => (f.previous ? [[f.name, prev[j]]] : [])))
  return out
}

const sideArb: fc.Arbitrary<Side> = fc.oneof(fc.constant({ kind: "periodic" } as const), fc.constant({ kind: "neumann" } as const), fc.integer({ min: 0, max: 9 }).map((value) => ({ kind: "dirichlet", value }) as const))
const fieldArb = (j: number, count: number): fc.Arbitrary<FieldCase> =>
  fc.record({
    name: fc.constant(["u", "v", "w"][j]!),
    type: fc.constantFrom<ElementType>("float64", "float32", "int32", "uint8"),
    previous: fc.boolean(),
    weights: fc.array(fc.constantFrom(0, 0.05, -0.05, 0.1, 1, -1), { minLength: count, maxLength: count }),
  })
const caseArb: fc.Arbitrary<Case> = fc
  .record({ dims: fc.constantFrom(1, 2, 3), count: fc.integer({ min: 1, max: 3 }), steps: fc.integer({ min: 1, max: 4 }), extra: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }) })
  .chain(({ dims, count, steps, extra }) =>
    fc.record({
      // At least 2 points per rank along any axis the layout may cut (8 partitions), plus a remainder.
      shape: fc.constant(extra.slice(0, dims).map((e) => (dims === 3 ? 8 : dims === 2 ? 9 : 17) + e)),
      sides: fc.array(sideArb, { minLength: dims, maxLength: dims }),
      fields: fc.tuple(...Array.from({ length: count }, (_, j) => fieldArb(j, count))),
      steps: fc.constant(steps),
    }),
  )

const cases = fc.sample(caseArb, { numRuns: 30, seed: 1212 })
const want = cases.map(serial)

const fingerprints = (v: unknown): unknown =>
  ArrayBuffer.isView(v) ? `${v.constructor.name}:${fingerprint(v)}` : typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fingerprints(x)])) : v

for (const [threads, partitions] of [[1, 1], [2, 2], [3, 3], [4, 4], [2, 8], [3, 5]] as const) {
  const what = threads === partitions ? `${threads} rank${threads > 1 ? "s" : ""}` : `${partitions} partitions on ${threads} threads`
  test(`30 random grids of 1–3 fields (Float64, Float32, Int32, Uint8, some with a previous level) equal the serial loop bit for bit on ${what}`, async (t) => {
    const results = await onRanks<unknown[]>(threads, "multiFields.ts", "runCases", { cases, ...(threads === partitions ? {} : { partitions }) })
    const got = results[0]!
    cases.forEach((c, k) => t.deepEqual(fingerprints(got[k]), fingerprints(want[k]), JSON.stringify(c)))
    t.true(results.slice(1).every((r) => r.every((v) => v === undefined || v === null)))
  })
}
