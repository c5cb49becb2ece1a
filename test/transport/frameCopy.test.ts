import test from "ava"
import fc from "fast-check"
import { FrameCopy } from "../../src/transport/frameCopy.ts"
import type { TypedArray } from "../../src/transport/ring.ts"

const TYPES = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const
type Ctor = (typeof TYPES)[number]

/** A `count`-element array of `type` at element `offset` of a larger buffer, its bytes a pattern of `seed`. */
function arrayOf(type: Ctor, count: number, offset: number, seed: number): TypedArray {
  const buffer = new ArrayBuffer((offset + count + 1) * type.BYTES_PER_ELEMENT)
  const bytes = new Uint8Array(buffer)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (seed * 31 + i * 7) & 0xff
  return new type(buffer, offset * type.BYTES_PER_ELEMENT, count)
}

/** Node 20's resizable ArrayBuffer (ES2024; the project's TypeScript lib predates it). */
const ResizableBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(bytes: number): void }

const bytesOf = (a: TypedArray): number[] => [...new Uint8Array(a.buffer, a.byteOffset, a.byteLength)]

// Sizes across the word loop (≤ 256 B), Uint8Array.set (≤ 4 KiB) and copyBytes; offsets that leave
// an array unaligned to 4 bytes (byte loop) as well as aligned ones; frame offsets as rings use them.
const copyCase = fc.record({
  type: fc.constantFrom(...TYPES),
  count: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 1200 })),
  offset: fc.integer({ min: 0, max: 5 }),
  at: fc.integer({ min: 0, max: 64 }).map((k) => k * 16),
  seed: fc.integer({ min: 0, max: 255 }),
})

test("write then read gives back every byte, whatever the type, length and offset (the cache serving many arrays)", (t) => {
  const frame = new FrameCopy(new Uint8Array(16 * 1024))
  fc.assert(
    fc.property(copyCase, ({ type, count, offset, at, seed }) => {
      const sent = arrayOf(type, count, offset, seed)
      frame.write(at, sent, sent.byteLength)
      t.deepEqual([...frame.bytes.subarray(at, at + sent.byteLength)], bytesOf(sent))
      const received = arrayOf(type, count, (offset + 1) % 6, seed + 1)
      frame.read(received, at, sent.byteLength)
      t.deepEqual(bytesOf(received), bytesOf(sent))
    }),
    { numRuns: 400 },
  )
})

test("write copies only the first byteLength bytes of a longer payload (an encoder's buffer)", (t) => {
  const frame = new FrameCopy(new Uint8Array(8192))
  for (const bytes of [5, 12, 200, 1000, 5000]) {
    const buffer = Uint8Array.from({ length: bytes + 40 }, (_, i) => (i * 13 + bytes) & 0xff)
    frame.bytes.fill(0xee)
    frame.write(32, buffer, bytes)
    t.deepEqual([...frame.bytes.subarray(32, 32 + bytes)], [...buffer.subarray(0, bytes)], `${bytes} bytes`)
    t.is(frame.bytes[32 + bytes], 0xee, `nothing past ${bytes} bytes`)
  }
})

test("read fills only the start of a longer destination", (t) => {
  const frame = new FrameCopy(new Uint8Array(1024))
  frame.bytes.set([1, 2, 3, 4, 5, 6, 7, 8], 16)
  const dest = new Uint8Array(12).fill(9)
  frame.read(dest, 16, 8)
  t.deepEqual([...dest], [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9])
})

test("doubles keep their exact bits, NaN payloads and negative zero included", (t) => {
  const frame = new FrameCopy(new Uint8Array(256))
  const sent = new Float64Array(3)
  new BigUint64Array(sent.buffer).set([0x7ff4000000000001n, 0xfff8dead0000beefn, 0x8000000000000000n])
  frame.write(16, sent, 24)
  const received = new Float64Array(3)
  frame.read(received, 16, 24)
  t.deepEqual([...new BigUint64Array(received.buffer)], [0x7ff4000000000001n, 0xfff8dead0000beefn, 0x8000000000000000n])
})

test("an array whose buffer shrank or grew since it was last copied is copied from its memory now", (t) => {
  const frame = new FrameCopy(new Uint8Array(1024))
  const buffer = new ResizableBuffer(64, { maxByteLength: 256 })
  const tracking = new Uint8Array(buffer) // follows the buffer's length
  tracking.fill(3)
  frame.write(0, tracking, 64) // cached: views of 64 bytes
  buffer.resize(128)
  tracking.fill(4)
  frame.write(0, tracking, 128)
  t.deepEqual([...frame.bytes.subarray(0, 128)], Array(128).fill(4))
  buffer.resize(8)
  tracking.fill(5)
  frame.write(16, tracking, 8) // the cached 128-byte views are out of bounds now
  t.deepEqual([...frame.bytes.subarray(16, 24)], Array(8).fill(5))
  const dest = new Uint8Array(buffer)
  frame.bytes.fill(6, 32, 40)
  frame.read(dest, 32, 8)
  t.deepEqual([...dest], Array(8).fill(6))
})

test("arrays over big buffers (not cached) copy the same", (t) => {
  const frame = new FrameCopy(new Uint8Array(1024))
  const big = new Float64Array(1 << 18) // 2 MiB
  const window = big.subarray(1000, 1004)
  window.set([1.5, -2.5, 3.25, 1e300])
  frame.write(48, window, 32)
  const out = new Float64Array(4)
  frame.read(out, 48, 32)
  t.deepEqual([...out], [1.5, -2.5, 3.25, 1e300])
  window[0] = 7 // the next copy sees the array's memory as it is now
  frame.write(48, window, 32)
  frame.read(out, 48, 32)
  t.is(out[0], 7)
})
