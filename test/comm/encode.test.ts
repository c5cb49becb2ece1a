import { deserialize, serialize } from "node:v8"
import test from "ava"
import fc from "fast-check"
import { Decoder, Encoder, PACKED_FORMAT } from "../../src/comm/encode.ts"

const encoder = new Encoder(64 * 1024)
const decoder = new Decoder()
const v8RoundTrip = (v: unknown): unknown => deserialize(serialize(v))

/** Encodes and decodes `v` (which must be taken); the decoded value. */
function packedRoundTrip(v: unknown): unknown {
  const n = encoder.encode(v)
  if (n < 0) throw new Error(`not taken: ${String(v)}`)
  if (encoder.bytes[0] !== PACKED_FORMAT) throw new Error("missing format byte")
  return decoder.decode(encoder.bytes, n)
}

const typedArrays = fc.oneof(
  fc.int8Array(),
  fc.uint8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
)

/** Values the light encoding takes: trees of plain objects and dense arrays over scalars, strings and typed arrays. */
const { taken } = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.double(), // NaN, ±0, ±Infinity included
    fc.integer(),
    fc.constantFrom(2 ** 31 - 1, -(2 ** 31), 2 ** 31, -0, 0),
    fc.string({ unit: "binary" }), // lone surrogates included
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ maxLength: 200 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    typedArrays,
  ),
  taken: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("leaf"), tie("array"), tie("object")),
  array: fc.array(tie("taken"), { maxLength: 6 }),
  object: fc.dictionary(fc.oneof(fc.string().filter((k) => k !== "__proto__"), fc.constantFrom("0", "10", "-1", "1.5", "constructor", "toString")), tie("taken"), { maxKeys: 6 }),
}))

test("property: values the encoding takes decode exactly as v8 serialize/deserialize gives them", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(taken, (v) => {
        // Key order matters too (Object.keys), and -0 vs 0: deepEqual checks both.
        const ours = packedRoundTrip(v)
        const theirs = v8RoundTrip(v)
        if (!sameValue(ours, theirs)) throw new Error(`differs: ${String(ours)} vs ${String(theirs)}`)
      }),
      { numRuns: 2000 },
    ),
  )
})

test("property: random values the encoding refuses are left to v8 (encode returns -1), and taken ones are never refused", (t) => {
  const refused = fc.oneof(
    fc.constant(new Map([[1, 2]])),
    fc.constant(new Set([1])),
    fc.date(),
    fc.bigInt().map((b) => ({ b })),
    fc.constant(Buffer.from([1, 2])),
    fc.constant(new DataView(new ArrayBuffer(4))),
    fc.constant(/re/g),
    fc.constant(new Error("e")),
    fc.constant(new (class Point { x = 1 })()),
    fc.constant([1, , 3]), // a hole
    fc.constant(Object.assign([1, 2], { named: 3 })),
    fc.constant(JSON.parse('{"__proto__": 1}') as unknown),
  )
  t.notThrows(() =>
    fc.assert(
      fc.property(taken, refused, fc.nat(3), (v, bad, where) => {
        const nested = where === 0 ? bad : where === 1 ? [v, bad] : where === 2 ? { v, bad } : { a: [{ v }, bad] }
        if (encoder.encode(nested) !== -1) throw new Error("a value outside the encoding was taken")
        if (encoder.encode(v) < 0) throw new Error("a value inside the encoding was refused")
      }),
      { numRuns: 500 },
    ),
  )
})

test("an object reached twice (shared or cyclic) goes to v8, which keeps the identity", (t) => {
  const shared = { k: 1 }
  t.is(encoder.encode({ a: shared, b: shared }), -1)
  const cyclic: Record<string, unknown> = { x: 1 }
  cyclic.self = cyclic
  t.is(encoder.encode(cyclic), -1)
  const bytes = Uint8Array.of(1)
  t.is(encoder.encode([bytes, bytes]), -1)
  // Equal but distinct objects are fine.
  t.deepEqual(packedRoundTrip([{ k: 1 }, { k: 1 }]), [{ k: 1 }, { k: 1 }])
})

test("a value larger than the limit, or nested deeper than 64, goes to v8", (t) => {
  const small = new Encoder(256)
  t.true(small.encode("x".repeat(200)) > 0)
  t.is(small.encode("x".repeat(300)), -1)
  t.is(small.encode({ blob: new Uint8Array(300) }), -1)
  t.is(small.encode(Array.from({ length: 100 }, (_, i) => i)), -1)
  let deep: unknown = 1
  for (let i = 0; i < 70; i++) deep = [deep]
  t.is(encoder.encode(deep), -1)
  // and the encoder still works after a refusal
  t.deepEqual(packedRoundTrip({ after: [1, "two"] }), { after: [1, "two"] })
})

test("getters are read once, and typed arrays arrive as copies of their own bytes (not of the whole buffer)", (t) => {
  let reads = 0
  const withGetter = {
    get g() {
      reads++
      return 7
    },
  }
  t.deepEqual(packedRoundTrip(withGetter), { g: 7 })
  t.is(reads, 1)
  const whole = Float64Array.of(1, 2, 3, 4)
  const got = packedRoundTrip({ part: whole.subarray(1, 3) }) as { part: Float64Array }
  t.deepEqual(got.part, Float64Array.of(2, 3))
  t.is(got.part.buffer.byteLength, 16)
})

test("the encoding is smaller than or close to v8's and starts with a byte v8 never starts with", (t) => {
  t.is(serialize({ a: 1 })[0], 0xff)
  t.not(PACKED_FORMAT, 0xff)
  const n = encoder.encode({ blob: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) })
  t.true(n > 0 && n <= 32, `${n} bytes`)
})

/** SameValue equality over plain trees (Object.is on leaves, key order and typed-array types checked). */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>
    const y = b as unknown as ArrayLike<unknown>
    if (x.length !== y.length) return false
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false
    return true
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}
