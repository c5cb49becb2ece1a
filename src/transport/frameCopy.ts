/**
 * Copies between a frame buffer (a ring's bytes, an MPI staging buffer) and
 * a message's typed array without allocating per message. Small copies go
 * word by word through an Int32Array (or byte by byte through a Uint8Array)
 * over the message's memory, so every loop in here sees one array type
 * whatever types the program sends: a loop indexing the message's own
 * type went megamorphic in a program sending several, and V8 then took its
 * runtime for every element (95 ns for 8 bytes, 1.4 µs for 256, against 8
 * and 65). Those views are made once per message array and kept in a small
 * cache (`viewsOf`). Larger writes up to 4 KiB go by `Uint8Array.set`;
 * larger reads and anything above 4 KiB by `copyBytes` (memmove when the
 * addon is there).
 *
 * Layer: transport.
 */
import { copyBytes } from "./copy.ts"
import type { TypedArray } from "./ring.ts"

/** Up to this many bytes, copy in JavaScript; above, with `copyBytes`. */
const LOOP_COPY_BYTES = 4096
/** Up to this many bytes, copy with a word (or byte) loop rather than a builtin call. */
const TINY_COPY_BYTES = 256
/** Arrays over bigger buffers are not kept in the cache (it would keep the buffer alive): their views are made per copy. */
const CACHED_BUFFER_BYTES = 1 << 20
/** Message arrays whose views are kept (per thread, shared by every frame buffer): a ping-pong or a halo's few buffers. */
const CACHE_ENTRIES = 4

/** A message array's memory as bytes, and as int32 words when it is 4-byte aligned (else null). */
interface Views {
  array: TypedArray | null
  bytes: Uint8Array
  words: Int32Array | null
}

const EMPTY = new Uint8Array(0)
const cache: Views[] = Array.from({ length: CACHE_ENTRIES }, () => ({ array: null, bytes: EMPTY, words: null }))
let nextVictim = 0

/**
 * The byte and word views of `array`, which must cover `byteLength` bytes:
 * from the cache when `array` was seen before and its memory is still there
 * (a view over a detached or shrunk buffer reads as empty, so it is remade).
 */
function viewsOf(array: TypedArray, byteLength: number): Views {
  for (let i = 0; i < CACHE_ENTRIES; i++) {
    const entry = cache[i]!
    if (entry.array === array && entry.bytes.length >= byteLength) return entry
  }
  return makeViews(array)
}

/** A cache miss, apart from `viewsOf` so that its hit path stays small enough to inline into the copies. */
function makeViews(array: TypedArray): Views {
  const buffer = array.buffer
  const offset = array.byteOffset
  const length = array.byteLength
  let entry: Views
  if (buffer.byteLength <= CACHED_BUFFER_BYTES) {
    entry = cache[nextVictim]!
    nextVictim = (nextVictim + 1) % CACHE_ENTRIES
    entry.array = array
  } else entry = { array: null, bytes: EMPTY, words: null }
  entry.bytes = new Uint8Array(buffer, offset, length)
  entry.words = (offset & 3) === 0 ? new Int32Array(buffer, offset, length >> 2) : null
  return entry
}

export class FrameCopy {
  /** The frame buffer as int32 words (its offsets are 4-byte aligned: frames are 16-byte aligned). */
  private readonly words: Int32Array

  constructor(
    /** The frame buffer; every offset below is a byte offset into it. */
    readonly bytes: Uint8Array,
  ) {
    this.words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
  }

  /** Copies the first `byteLength` bytes of `payload` (which may be longer: an encoder's buffer) to byte `at`. */
  write(at: number, payload: TypedArray, byteLength: number): void {
    if (byteLength > LOOP_COPY_BYTES) return copyBytes(this.bytes, at, payload, 0, byteLength)
    const src = viewsOf(payload, byteLength)
    if (byteLength <= TINY_COPY_BYTES) return this.loop(src, at, byteLength, true)
    if (src.bytes.length === byteLength) this.bytes.set(src.bytes, at)
    else copyBytes(this.bytes, at, payload, 0, byteLength)
  }

  /** Copies `bytes` bytes at byte `at` into the start of `dest`. */
  read(dest: TypedArray, at: number, bytes: number): void {
    if (bytes > TINY_COPY_BYTES) copyBytes(dest, 0, this.bytes, at, bytes)
    else if (bytes > 0) this.loop(viewsOf(dest, bytes), at, bytes, false)
  }

  /** Copies `count` bytes between the message's views and the frame at `at`, by words where both sides allow. */
  private loop(message: Views, at: number, count: number, toFrame: boolean): void {
    const m = message.words
    if (m !== null && (at & 3) === 0 && (count & 3) === 0) {
      const f = this.words
      const start = at >> 2
      const n = count >> 2
      if (toFrame) for (let k = 0; k < n; k++) f[start + k] = m[k]!
      else for (let k = 0; k < n; k++) m[k] = f[start + k]!
      return
    }
    const b = message.bytes
    const f = this.bytes
    if (toFrame) for (let k = 0; k < count; k++) f[at + k] = b[k]!
    else for (let k = 0; k < count; k++) b[k] = f[at + k]!
  }
}
