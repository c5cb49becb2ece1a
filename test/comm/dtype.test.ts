import test from "ava"
import { isObjectKind, KIND_ARRAYBUFFER, KIND_DATAVIEW, KIND_NUMBER, KIND_SERIALIZED, kindName, kindOf, typedByteLength, typedConstructor } from "../../src/comm/dtype.ts"

const TYPED = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]

// First in the file: before any array has been seen, null and undefined must not hit the empty cache.
test("null and undefined are serialized values, from the first call on", (t) => {
  t.is(kindOf(null), KIND_SERIALIZED)
  t.is(kindOf(undefined), KIND_SERIALIZED)
})

test("every value gets its kind, however the values alternate (the recent-arrays cache never answers for another value)", (t) => {
  const arrays = TYPED.map((T) => new T(4))
  const big = new Float32Array(1 << 19) // 2 MiB: never remembered
  const others: Array<[unknown, string]> = [
    [3.5, "number"],
    ["text", "serialized object"],
    [{ a: 1 }, "serialized object"],
    [null, "serialized object"],
    [undefined, "serialized object"],
    [new ArrayBuffer(8), "ArrayBuffer"],
    [new DataView(new ArrayBuffer(8)), "DataView"],
    [Buffer.from("ab"), "Uint8Array"],
    [big, "Float32Array"],
    [big.subarray(3, 9), "Float32Array"],
  ]
  const cases: Array<[unknown, string]> = [...arrays.map((a): [unknown, string] => [a, a.constructor.name]), ...others]
  // Each value after every other, twice: any stale answer from the cache shows as a wrong name.
  for (let round = 0; round < 2; round++)
    for (const [a, nameA] of cases)
      for (const [b, nameB] of cases) {
        t.is(kindName(kindOf(a)), nameA)
        t.is(kindName(kindOf(b)), nameB)
        t.is(kindName(kindOf(a)), nameA)
      }
})

test("numbers and serialized values arrive as objects; buffers and views do not", (t) => {
  t.true(isObjectKind(kindOf(1)))
  t.true(isObjectKind(kindOf({})))
  t.is(kindOf(1), KIND_NUMBER)
  t.is(kindOf("x"), KIND_SERIALIZED)
  t.is(kindOf(new ArrayBuffer(1)), KIND_ARRAYBUFFER)
  t.is(kindOf(new DataView(new ArrayBuffer(1))), KIND_DATAVIEW)
  t.false(isObjectKind(kindOf(new Float64Array(1))))
})

/** Node 20's resizable ArrayBuffer (ES2024; the project's TypeScript lib predates it). */
const ResizableBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void }

test("typedByteLength is the array's byteLength, also after its buffer was detached, for arrays over resizable buffers and for arrays never remembered", (t) => {
  const check = (a: Int8Array | Float64Array | Uint16Array, what: string): void => {
    kindOf(a) // remembers it, when it may
    t.is(typedByteLength(a), a.byteLength, what)
  }
  const kept = new Float64Array(4)
  check(kept, "a remembered array")
  check(new Uint16Array(new ArrayBuffer(64), 6, 5), "an array at an offset")
  check(kept, "the first again")
  // Detached by a transfer: its byteLength drops to 0, and the remembered length must too.
  structuredClone(kept.buffer, { transfer: [kept.buffer] })
  t.is(kept.byteLength, 0)
  t.is(typedByteLength(kept), 0)
  check(kept, "a detached array, asked again")
  const neverSeen = new Float64Array(2)
  structuredClone(neverSeen.buffer, { transfer: [neverSeen.buffer] })
  t.is(kindOf(neverSeen), kindOf(new Float64Array(1)), "an array detached before kindOf first saw it still has its kind")
  t.is(typedByteLength(neverSeen), 0)
  const latest = new Int8Array(8)
  check(latest, "the latest array")
  structuredClone(latest.buffer, { transfer: [latest.buffer] })
  t.is(typedByteLength(latest), 0)
  const resizable = new ResizableBuffer(32, { maxByteLength: 64 })
  const tracking = new Int8Array(resizable)
  check(tracking, "a length-tracking array")
  resizable.resize(48)
  check(tracking, "after its buffer grew")
  resizable.resize(8)
  check(tracking, "after its buffer shrank")
  check(new Float64Array(1 << 18), "an array over a 2 MiB buffer (never remembered)")
})

test("typedConstructor gives each typed kind its constructor and undefined for every other kind", (t) => {
  for (const T of TYPED) t.is(typedConstructor(kindOf(new T(1))), T)
  for (const kind of [KIND_SERIALIZED, KIND_ARRAYBUFFER, KIND_DATAVIEW, KIND_NUMBER, 0, -1, 5, 15, 16 + TYPED.length, 31, 1000])
    t.is(typedConstructor(kind), undefined, `kind ${kind}`)
})
