import test from "ava"
import { describe, formatNumber, numericSummary, summarize } from "../../src/pipeline/summary.ts"

test("numbers print as they are: integers without decimals, NaN and infinities by name", (t) => {
  t.is(summarize(5), "5")
  t.is(summarize(3.14159265358979), "3.14159265358979")
  t.is(formatNumber(5, 6), "5")
  t.is(formatNumber(1 / 3, 6), "0.333333")
  t.is(formatNumber(1.5e-8, 6), "1.5e-8")
  t.is(summarize(NaN), "NaN")
  t.is(summarize(-Infinity), "-Infinity")
  t.is(summarize(12n), "12n")
})

test("typed arrays of every element type show type, length, finite extremes and counts of NaN and infinities", (t) => {
  t.regex(summarize(Float64Array.of(1, NaN, 3, Infinity, -Infinity, NaN)), /^Float64Array\(6\) min 1 max 3, 2 NaN, 1 \+Infinity, 1 -Infinity fingerprint [0-9a-f]{16}$/)
  t.regex(summarize(new Float64Array(4).fill(NaN)), /^Float64Array\(4\) no finite value, 4 NaN fingerprint/, "a field full of NaN is not 'min 0 max 0'")
  t.regex(summarize(Float32Array.of(0.5, 2)), /^Float32Array\(2\) min 0\.5 max 2 /)
  for (const T of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array])
    t.regex(summarize(T.of(3, 1, 2)), new RegExp(`^${T.name}\\(3\\) min 1 max 3 fingerprint`))
  t.regex(summarize(BigInt64Array.of(-5n, 7n)), /^BigInt64Array\(2\) min -5 max 7 /)
  t.regex(summarize(BigUint64Array.of(9n)), /^BigUint64Array\(1\) min 9 max 9 /)
  t.regex(summarize(new Float64Array(0)), /^Float64Array\(0\) empty/)
})

test("objects print field by field; arrays by their contents", (t) => {
  t.is(summarize({ steps: 40, residual: 1e-9, field: Float64Array.of(0, 1) }).split("\n")[1], "  steps: 40")
  t.regex(summarize({ steps: 40, residual: 1e-9, field: Float64Array.of(0, 1) }), /\n {2}residual: 1e-9\n {2}field: Float64Array\(2\) min 0 max 1 /)
  t.is(summarize([1, 2, 3]), "[1, 2, 3]")
  t.regex(summarize(Array.from({ length: 20 }, (_, i) => i)), /^Array\(20\) min 0 max 19$/)
  t.is(summarize([Uint16Array.of(1), Uint16Array.of(2)]), "Array(2) of Uint16Array(1)")
  t.is(summarize({}), "{}")
  t.is(summarize({ u: Float64Array.of(1), prev: {} }).split("\n")[2], "  prev: {}", "an empty record inside prints as {}")
  t.is(summarize("text"), "text")
  t.not(summarize({ a: { b: 1 } }), "[object Object]")
})

test("--json's form of a result is plain JSON: NaN as a string, typed arrays summarised", (t) => {
  const data = describe({ n: 5, bad: NaN, field: Float64Array.of(1, NaN), big: 2n, list: [1, 2] })
  t.deepEqual(JSON.parse(JSON.stringify(data)), {
    n: 5,
    bad: "NaN",
    field: { type: "Float64Array", length: 2, min: 1, max: 1, nan: 1, positiveInfinity: 0, negativeInfinity: 0, fingerprint: numericSummary(Float64Array.of(1, NaN)).fingerprint },
    big: "2",
    list: [1, 2],
  })
})
