// Serialized messages in the light encoding (src/comm/encode.ts) and in v8's,
// mixed in one stream, arrive as v8 serialize/deserialize would give them.
import { deserialize, serialize } from "node:v8"
import test from "ava"
import { onRanks } from "../helpers.ts"

const shared = { s: 1 }
const values: unknown[] = [
  { blob: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
  "lone \ud800 surrogate, and ∑ two-byte",
  "x".repeat(1000),
  [-0, 0, NaN, 2 ** 31, -(2 ** 31), 1e-300, Infinity],
  { "10": 1, b: 2, "2": 3, a: [true, false, null, undefined] },
  { f32: Float32Array.of(1.5, -0), big: BigInt64Array.of(-5n), u16: Uint16Array.of(65535) },
  [shared, shared], // shared: v8's path, identity kept
  { when: new Date(5), then: "packed again" }, // v8's path
  Object.assign([1, 2], { named: true }), // v8's path (named property on an array)
  { big: "y".repeat(70_000) }, // over the light encoding's limit: v8's path, and a large frame
  undefined,
  null,
]

for (const ranks of [2, 3])
  test(`serialized values in both encodings arrive in order as v8 round-trips them (${ranks} ranks)`, async (t) => {
    const [echoes] = await onRanks<Array<{ type: string; value: unknown }>>(ranks, "p2p.ts", "echoTypes", values)
    t.is(echoes!.length, values.length)
    for (const [i, v] of values.entries()) {
      t.deepEqual(echoes![i]!.value, deserialize(serialize(v)), `value ${i}`)
    }
    // Key order survives (deepEqual does not check it).
    t.deepEqual(Object.keys(echoes![4]!.value as object), ["2", "10", "b", "a"])
    t.true(Object.is((echoes![3]!.value as number[])[0], -0))
  })

test("queued sends of packed values keep their own bytes (the encoder's buffer is reused at once)", async (t) => {
  // 3000 × ~450 B is more than the 1 MiB ring: the sender may wait for room with a private copy.
  const payloads = Array.from({ length: 3000 }, (_, i) => ({ i, s: `item ${i} ${"z".repeat(400)}` }))
  const [, got] = await onRanks<unknown>(2, "p2p.ts", "sendPayloads", payloads)
  t.deepEqual(got, payloads)
})
