import test from "ava"
import { isObjectKind, KIND_ARRAYBUFFER, KIND_DATAVIEW, KIND_NUMBER, KIND_SERIALIZED, kindName, kindOf } from "../../src/comm/dtype.ts"

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
