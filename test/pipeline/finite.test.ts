// The --check-finite scan: the first NaN or ±Infinity among a block's interior points in row-major order,
// ghosts never scanned, local indices turned into global ones; Float32 scanned, integer arrays skipped.
import test from "ava"
import { FieldNotFinite } from "rankflow"
import { checkFinite, firstNonFinite, globalIndexOf, type FieldGeometry } from "../../src/pipeline/finite.ts"

/** A block of `count` interior points with a ghost frame of `ghost`, starting at global `start`. */
function geometry(count: number[], ghost: number, start: number[]): FieldGeometry {
  const shape = count.map((c) => c + 2 * ghost)
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1))
  return { shape, strides, ghost, count, start }
}
const flat = (g: FieldGeometry, local: number[]): number => local.reduce((a, i, d) => a + (i + g.ghost) * g.strides[d]!, 0)

test("1-D: the first non-finite interior point; ghosts holding NaN are not reported", (t) => {
  const g = geometry([6], 2, [100])
  const data = new Float64Array(10).fill(1)
  data[0] = data[9] = NaN // ghosts
  t.is(firstNonFinite(data, g), -1)
  data[flat(g, [4])] = Infinity
  data[flat(g, [5])] = NaN
  t.is(firstNonFinite(data, g), flat(g, [4]))
  t.deepEqual(globalIndexOf(firstNonFinite(data, g), g), [104])
})

test("2-D and 3-D: the first in row-major order, as a global index", (t) => {
  const g2 = geometry([4, 5], 1, [10, 20])
  const d2 = new Float64Array(6 * 7)
  d2[flat(g2, [3, 0])] = NaN
  d2[flat(g2, [2, 4])] = -Infinity
  t.deepEqual(globalIndexOf(firstNonFinite(d2, g2), g2), [12, 24])
  const g3 = geometry([3, 4, 5], 2, [7, 0, 30])
  const d3 = new Float64Array(7 * 8 * 9)
  d3[flat(g3, [2, 0, 0])] = NaN
  d3[flat(g3, [1, 3, 4])] = NaN
  d3[flat(g3, [1, 3, 5 + 1])] = NaN // a ghost beside it: not scanned
  t.deepEqual(globalIndexOf(firstNonFinite(d3, g3), g3), [8, 3, 34])
})

test("Float32 fields are scanned, integer fields skipped; huge finite values and -0 are finite", (t) => {
  const g = geometry([3], 1, [0])
  t.is(firstNonFinite(Float32Array.of(0, -0, 3.4e38, Infinity, 0), g), 3)
  t.is(firstNonFinite(Float64Array.of(0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, 0), g), -1)
  t.is(firstNonFinite(Int32Array.of(0, 1, 2, 3, 4), g), -1)
  t.is(firstNonFinite(new Uint8Array(5), g), -1)
})

test("checkFinite throws FieldNotFinite with the step, rank, field, global index and value", (t) => {
  const g = geometry([2, 3], 1, [5, 6])
  const data = new Float64Array(4 * 5)
  data[flat(g, [1, 2])] = -Infinity
  const error = t.throws(() => checkFinite(data, g, 300, 3, "v"), { instanceOf: FieldNotFinite })
  t.like(error, { step: 300, rank: 3, field: "v", index: [6, 8], value: "-Infinity" })
  t.is(error!.message, "rank 3: field v holds -Infinity at global index [6, 8] after step 300 (--check-finite)")
  t.notThrows(() => checkFinite(new Float64Array(20), g, 1, 0, "v"))
})
