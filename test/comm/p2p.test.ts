import test from "ava"
import { onRanks } from "../helpers.ts"

const RANKS = [2, 3, 4, 8]

for (const ranks of RANKS) {
  test(`every rank sends an object to every other (${ranks} ranks)`, async (t) => {
    const value = { n: 1.5, s: "ü ∑", nested: { list: [1, [2, 3]], map: new Map([["k", new Date(5)]]) } }
    const results = await onRanks<unknown[]>(ranks, "p2p.ts", "allToAllValue", value)
    for (const [rank, got] of results.entries())
      for (let source = 0; source < ranks; source++) t.deepEqual(got[source], source === rank ? null : value)
  })

  test(`sendrecv and isend/irecv shift around the ring (${ranks} ranks)`, async (t) => {
    const shifted = await onRanks<number>(ranks, "p2p.ts", "sendrecvShift")
    t.deepEqual(shifted, shifted.map((_, r) => (r - 1 + ranks) % ranks))
    const n = 100_003
    const ring = await onRanks<number[]>(ranks, "p2p.ts", "ringShift", n)
    for (const [rank, [first, last, length]] of ring.entries()) {
      const left = (rank - 1 + ranks) % ranks
      t.deepEqual([first, last, length], [0, (n - 1) * (left + 1), n])
    }
  })

  test(`ANY_SOURCE keeps each sender's order (${ranks} ranks)`, async (t) => {
    const [result] = await onRanks<{ perSourceInOrder: boolean; counts: number[] }>(ranks, "p2p.ts", "anySourceOrder", 200)
    t.true(result!.perSourceInOrder)
    t.deepEqual(result!.counts, [0, ...Array(ranks - 1).fill(200)])
  })
}

for (const ranks of RANKS)
test(`values of every kind arrive as the same type with the same content (${ranks} ranks)`, async (t) => {
  const typed = [
    Int8Array.of(-128, 127),
    Uint8Array.of(0, 255),
    Uint8ClampedArray.of(0, 255),
    Int16Array.of(-32768, 32767),
    Uint16Array.of(65535),
    Int32Array.of(-(2 ** 31)),
    Uint32Array.of(2 ** 32 - 1),
    Float32Array.of(1.5, -0, Infinity),
    Float64Array.of(Math.PI, NaN, -1e308),
    BigInt64Array.of(-(2n ** 63n)),
    BigUint64Array.of(2n ** 64n - 1n),
  ]
  const empties = typed.map((a) => new (a.constructor as new (n: number) => unknown)(0))
  const values: unknown[] = [
    42,
    -0.5,
    "a string",
    "",
    true,
    null,
    [1, "two", { three: 3 }],
    { deep: { deeper: { deepest: [new Date(86_400_000)] } } },
    new Map<unknown, unknown>([[1, "one"], ["set", new Set([1, 2])]]),
    new Date(1234567890),
    10n ** 30n,
    Uint8Array.of(1, 2, 3).buffer,
    new DataView(Uint8Array.of(9, 8, 7, 6).buffer, 1, 2),
    ...typed,
    ...empties,
  ]
  const [echoes] = await onRanks<Array<{ type: string; value: unknown }>>(ranks, "p2p.ts", "echoTypes", values)
  t.is(echoes!.length, values.length)
  for (const [i, v] of values.entries()) {
    const { type, value } = echoes![i]!
    const expectedType = v === null ? "null" : typeof v === "object" ? (v as object).constructor.name : (Object(v) as object).constructor.name
    t.is(type, expectedType, `value ${i}`)
    if (v instanceof DataView) t.deepEqual([...new Uint8Array((value as DataView).buffer, (value as DataView).byteOffset, 2)], [8, 7])
    else t.deepEqual(value, v, `value ${i}`)
  }
})

for (const ranks of RANKS)
test(`recvInto fills every typed-array type and reports count, type and transport (${ranks} ranks)`, async (t) => {
  for (const length of [1, 1000, 70_000]) {
    const results = await onRanks<Array<{ type: string; count: number; transport: string; ok: boolean }>>(ranks, "p2p.ts", "recvIntoEveryType", length)
    t.deepEqual(results.slice(0, -1), Array(ranks - 1).fill([]))
    const last = results[ranks - 1]
    t.deepEqual(
      last!.map((r) => r.type),
      ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"],
    )
    for (const r of last!) t.like(r, { count: length, transport: "buffer", ok: true }, `${r.type} × ${length}`)
  }
})

for (const ranks of [2, 3, 4])
test(`messages of every frame shape interleaved on one link arrive in order with their tags, on fresh and on the 300th communicator (${ranks} ranks)`, async (t) => {
  const results = await onRanks<{ got: unknown[]; onDup: unknown[] }>(ranks, "p2p.ts", "frameShapes", 300)
  for (const [rank, { got, onDup }] of results.entries()) {
    const l = (rank - 1 + ranks) % ranks
    t.deepEqual(got, [
      [5, l, 20_000, "Uint8Array", 20_000, l + 1, l + 1, l + 1, l + 1],
      ["posted", l + 0.5],
      [1, l, 1, "Float64Array", 1, "-0", -0],
      [2, l, 8, "number", l * 10],
      [3, l, 0, "Float64Array", 0, null],
      [32767, l, 2, "Int32Array", 2, l, -1, -1],
      [32768, l, 2, "Int32Array", 2, l, 7, 7],
      [4, l, 2, "Float64Array", 2, l, 1, 1],
      [6, l, 1, "Int16Array", 1, -l - 1, -l - 1],
      [2 ** 30 - 1, l, "serialized", "string", `text from ${l}`],
      [7, l, 8, "Uint8Array", 8, l, 2, 3, 8],
      [8, l, 9, "Uint8Array", 9, l, 2, 3, 9],
    ])
    t.deepEqual(onDup, [[l + 0.25], 1, l, 10])
  }
})

test("blocking receives into buffers from a prompt peer: values, statuses, an empty message, another tag first, another type and a message too long refused", async (t) => {
  const n = 1000
  const [zero, one] = await onRanks<{ sum: number; tags: number; order: number[]; refused: string[] }>(2, "p2p.ts", "armedReceives", n)
  const upTo = (f: (i: number) => number): number => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0)
  t.deepEqual(zero, { sum: upTo((i) => 2 * i), tags: upTo((i) => 7 + (i % 2) + 2), order: [], refused: [] })
  t.deepEqual(one, {
    sum: upTo((i) => i + 0.5),
    tags: upTo((i) => (i % 3) + 1),
    order: [30, 31],
    refused: [
      "empty: tag 9, count 0",
      "rank 1: recvInto: buffer is Float64Array but the message from rank 0 (tag 22) is Float32Array",
      "rank 1: recvInto: message from rank 0 (tag 24) has 16 bytes, the buffer only 8",
    ],
  })
})

test("64 MB arrays cross both ways at once with blocking sends, by recv and by recvInto", async (t) => {
  const results = await onRanks<{ sum: number; expected: number; into: boolean }>(2, "p2p.ts", "simultaneousLargeSends", 8 * 1024 * 1024)
  for (const r of results) {
    t.is(r.sum, r.expected)
    t.true(r.into)
  }
})

test("a 256 MiB message arrives intact, by recv and into a buffer", async (t) => {
  const [, sums] = await onRanks<number[]>(2, "p2p.ts", "hugeMessage", 256 * 1024 * 1024)
  const n = 256 * 1024 * 1024
  const expected = sumPattern(n)
  t.deepEqual(sums, [expected, expected])
})

/** Σ (i mod 251) over i < n, sampled every 4096th byte, as the fixture computes it. */
function sumPattern(n: number): number {
  let s = 0
  for (let i = 0; i < n; i += 4096) s += i % 251
  return s + ((n - 1) % 251)
}

test("receives match by tag, keep order within a tag, and can wait for a large message behind small ones", async (t) => {
  const [, result] = await onRanks<{ order: Array<[number, number]>; bigSum: number; bigLength: number }>(2, "p2p.ts", "tagMatching")
  const expected: Array<[number, number]> = []
  for (let tag = 9; tag >= 0; tag--) expected.push([tag, 0], [tag, 1])
  t.deepEqual(result!.order, expected)
  t.is(result!.bigLength, 300_000)
  t.is(result!.bigSum, 2_100_000)
})

for (const ranks of RANKS)
test(`probe reports the envelope and leaves the message; iprobe does not block (${ranks} ranks)`, async (t) => {
  const [, result] = await onRanks<Record<string, unknown>>(ranks, "p2p.ts", "probeThenReceive")
  t.deepEqual(result, {
    never: true,
    seen: { source: 0, tag: 4, count: 100, type: "Float32Array", bytes: 400 },
    allTwoAndHalf: true,
    secondTransport: "serialized",
    after: "after",
  })
})

for (const ranks of RANKS)
test(`barrier holds every rank until the last one arrives (${ranks} ranks)`, async (t) => {
  // Rank 0 arrives 300 ms late; no rank may leave before it arrived. (Measuring each
  // rank's own wait is flaky on 2 cores: a descheduled rank leaves the first barrier late.)
  const times = await onRanks<{ entered: number; left: number }>(ranks, "p2p.ts", "barrierWaits")
  const last = times[0]!.entered
  for (const [rank, { left }] of times.entries()) t.true(left >= last - 1, `rank ${rank} left ${(last - left).toFixed(1)} ms before rank 0 arrived`)
})

test("bad calls throw tagged errors naming the problem, and communication goes on", async (t) => {
  const [r0, r1] = await onRanks<Array<{ tag: string; message: string }>>(3, "p2p.ts", "badCalls")
  t.like(r0![0], { tag: "InvalidArgument", message: "send: dest = 3 must be a rank in [0, 3) or PROC_NULL" })
  t.like(r0![1], { tag: "InvalidArgument", message: "send: dest = -1 must be a rank in [0, 3) or PROC_NULL" })
  t.like(r0![2], { tag: "InvalidArgument", message: "send: dest = 0.5 must be a rank in [0, 3) or PROC_NULL" })
  t.like(r0![3], { tag: "InvalidArgument", message: "send: tag = -3 must be an integer in [0, 1073741823]" })
  t.like(r0![4], { tag: "InvalidArgument" })
  t.regex(r0![4]!.message, /recv: source = 5/)
  t.like(r0![5], { tag: "NotSerializable" })
  t.regex(r0![5]!.message, /cannot send a value of type function/)
  t.like(r1![6], { tag: "RecvTruncated", message: "rank 1: recvInto: message from rank 0 (tag 1) has 80 bytes, the buffer only 32" })
  t.like(r1![7], { tag: "RecvTypeMismatch", message: "rank 1: recvInto: buffer is Float64Array but the message from rank 0 (tag 2) is Int32Array" })
  t.like(r1![8], { tag: "RecvTypeMismatch" })
  t.like(r1![9], { tag: "received", message: "1,2" })
})

for (const spec of [{ bytes: 4 * 1024 * 1024, count: 3 }, { bytes: 1000, count: 5000 }])
  test(`a writer stalled on a full ring is drained while its reader waits for someone else (${spec.count} × ${spec.bytes} B)`, async (t) => {
    const [, received] = await onRanks<number | null>(3, "p2p.ts", "stalledWriterIsDrained", spec)
    t.is(received, spec.count)
  })
