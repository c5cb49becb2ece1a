import test from "ava"
import fc from "fast-check"
import { allocateWorldMemory } from "../../src/transport/memory.ts"
import { KIND_PAD, MAX_FRAME_BYTES, pad16, Ring, type OutgoingFrame } from "../../src/transport/ring.ts"

const pair = (capacity: number) => {
  const memory = allocateWorldMemory(2, capacity)
  return { writer: new Ring(memory, 0, 1), reader: new Ring(memory, 0, 1) }
}

/** Reads the current frame whole (small or large) into a fresh byte array. */
function readFrame(reader: Ring): Uint8Array {
  const out = new Uint8Array(reader.frameBytes)
  if (reader.isSmall(reader.frameBytes)) reader.readSmallInto(out)
  else while (!reader.readLarge(out)) throw new Error("large frame not fully written")
  return out
}

test("a small frame carries its header and payload, and the ring is empty after it", (t) => {
  const { writer, reader } = pair(1024)
  t.false(reader.peek())
  t.true(writer.tryWriteSmall(7, 42, 24, Float64Array.of(1.5, -2, Math.PI), 24))
  t.true(reader.peek())
  t.deepEqual([reader.frameContext, reader.frameTag, reader.frameKind, reader.frameBytes], [7, 42, 24, 24])
  const into = new Float64Array(3)
  reader.readSmallInto(into)
  t.deepEqual([...into], [1.5, -2, Math.PI])
  t.false(reader.peek())
})

test("a full ring refuses a small frame until the reader frees space", (t) => {
  const { writer, reader } = pair(1024)
  const payload = new Uint8Array(200).fill(9) // 216-byte frames, small limit is 256
  let written = 0
  while (writer.tryWriteSmall(0, written, 5, payload, 200)) written++
  t.is(written, 4) // 4 × 216 = 864; a fifth needs 1080 > 1024
  t.true(reader.peek())
  reader.readSmallInto(new Uint8Array(200))
  // 376 bytes free now, but the frame wraps: 160 of filler + 216 + the 16-byte
  // header slot the ring always keeps free after its last frame = 392.
  t.false(writer.tryWriteSmall(0, 99, 5, payload, 200))
  t.true(reader.peek())
  reader.readSmallInto(new Uint8Array(200))
  t.true(writer.tryWriteSmall(0, 99, 5, payload, 200))
  t.true(reader.peek())
  t.is(reader.frameTag, 2)
})

test("a small frame that would straddle the end is preceded by a PAD frame the reader skips", (t) => {
  const { writer, reader } = pair(1024)
  const a = new Uint8Array(224) // 240-byte frames
  for (let i = 0; i < 4; i++) {
    t.true(writer.tryWriteSmall(0, i, 5, a, a.length))
    t.true(reader.peek())
    reader.readSmallInto(new Uint8Array(224))
  }
  // 960 bytes used; 64 left at the end: the next 240-byte frame wraps to 0 behind a PAD.
  t.true(writer.tryWriteSmall(0, 77, 5, Uint8Array.of(1, 2, 3), 3))
  t.true(writer.tryWriteSmall(0, 78, 5, new Uint8Array(224).fill(4), 224))
  t.true(reader.peek())
  t.is(reader.frameTag, 77)
  t.not(reader.frameKind, KIND_PAD)
  t.deepEqual([...readFrame(reader)], [1, 2, 3])
  t.true(reader.peek())
  t.is(reader.frameTag, 78)
  t.true(readFrame(reader).every((b) => b === 4))
})

test("a large frame streams through a smaller ring in pieces, byte-exact", (t) => {
  const { writer, reader } = pair(1024)
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 255)
  const frame: OutgoingFrame = { context: 1, tag: 2, kind: 17, bytes, sent: -1 }
  const out = new Uint8Array(bytes.length)
  let rounds = 0
  let done = false
  let received = false
  while (!received) {
    if (!done) done = writer.writeLarge(frame)
    if (reader.peek()) received = reader.readLarge(out)
    rounds++
  }
  t.true(rounds >= Math.floor(bytes.length / 1024)) // it really went through in pieces
  t.deepEqual(out, bytes)
  t.false(reader.peek())
})

test("property: any sequence of frames arrives in order with exact bytes and headers", (t) => {
  const frames = fc.array(
    fc.record({ tag: fc.integer({ min: 0, max: 1000 }), bytes: fc.uint8Array({ maxLength: 3000 }) }),
    { maxLength: 40 },
  )
  t.notThrows(() =>
   fc.assert(
    fc.property(frames, fc.integer({ min: 1, max: 7 }), (messages, readEvery) => {
      const { writer, reader } = pair(1024)
      const received: Array<{ tag: number; bytes: Uint8Array }> = []
      let current: OutgoingFrame | null = null
      let partial: Uint8Array | null = null
      let next = 0
      let step = 0
      while (received.length < messages.length) {
        step++
        // writer: make what progress it can
        if (current === null && next < messages.length) {
          const m = messages[next]!
          if (writer.isSmall(m.bytes.length)) {
            if (writer.tryWriteSmall(3, m.tag, 5, m.bytes, m.bytes.length)) next++
          } else {
            current = { context: 3, tag: m.tag, kind: 5, bytes: m.bytes, sent: -1 }
            next++
          }
        }
        if (current !== null && writer.writeLarge(current)) current = null
        // reader: every few steps, or whenever the writer is stuck
        if (step % readEvery !== 0 && current === null && next < messages.length) continue
        if (!reader.peek()) continue
        if (partial === null) partial = new Uint8Array(reader.frameBytes)
        const tag = reader.frameTag
        if (reader.isSmall(reader.frameBytes)) reader.readSmallInto(partial)
        else if (!reader.readLarge(partial)) continue
        received.push({ tag, bytes: partial })
        partial = null
      }
      return received.every((r, i) => r.tag === messages[i]!.tag && Buffer.from(r.bytes).equals(Buffer.from(messages[i]!.bytes)))
    }),
  ))
})

test("frame sizes of 2 GiB and more are padded exactly and are never small", (t) => {
  const cases: Array<[number, number]> = [[0, 0], [1, 16], [16, 16], [17, 32], [2 ** 31 - 1, 2 ** 31], [2 ** 31 + 1, 2 ** 31 + 16], [2 ** 32 - 1, 2 ** 32]]
  for (const [n, padded] of cases) t.is(pad16(n), padded, `pad16(${n})`)
  const { writer } = pair(1024)
  for (const n of [2 ** 31, 2 ** 31 + 1, 3 * 2 ** 30, MAX_FRAME_BYTES]) t.false(writer.isSmall(n), `${n} bytes`)
  t.is(MAX_FRAME_BYTES, 2 ** 32 - 1)
})

test("after many laps an empty ring reads empty, even where old payload bytes look like a header", (t) => {
  const { writer, reader } = pair(1024)
  // Payloads of int32 words 5 (a plausible kind + 1) and lengths, in frames of
  // varying size so later header slots land inside old payloads.
  for (let lap = 0; lap < 200; lap++) {
    const words = new Int32Array(1 + (lap % 13) * 4).fill(lap % 2 === 0 ? 5 : 16)
    t.true(writer.tryWriteSmall(1, lap, 20, words, words.byteLength))
    t.true(reader.peek())
    t.is(reader.frameTag, lap)
    const into = new Int32Array(words.length)
    reader.readSmallInto(into)
    t.deepEqual(into, words)
    t.false(reader.peek(), `lap ${lap}: nothing was sent after this frame`)
  }
})
