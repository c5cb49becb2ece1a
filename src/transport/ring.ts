/**
 * A single-producer single-consumer byte ring in shared memory: the mailbox
 * from one rank to another. Frames are a 16-byte header (context, tag, kind,
 * byte length) followed by the payload, padded to 16 bytes so every header and
 * every element type is aligned.
 *
 * Small frames (at most a quarter of the ring) never wrap — a PAD frame fills
 * the end of the ring instead — so they are written and read with one typed
 * `set` or a plain loop, publish with one atomic store and allocate nothing.
 * Large frames stream through in quarter-ring chunks: the writer fills one
 * chunk while the reader drains the previous, so a message of any size moves
 * at close to copy bandwidth through a ring that stays in cache.
 *
 * `head` and `tail` are byte counters that wrap at 2³² (int32 arithmetic);
 * the ring capacity (≤ 2³⁰) keeps their difference exact. Frame lengths and
 * positions inside a frame are plain numbers (never int32): a frame carries
 * up to 4 GiB − 1 bytes.
 *
 * Layer: transport. Knows nothing of dtypes, tags or matching: those are comm's.
 */
import { copyBytes } from "./copy.ts"
import { RING_CONTROL_BYTES, type WorldMemory } from "./memory.ts"

export const HEADER_BYTES = 16
/** Frame kind reserved by the ring for end-of-ring filler. */
export const KIND_PAD = 0
/** Largest payload a frame can carry, 4 GiB − 1: its length is an unsigned 32-bit header field. */
export const MAX_FRAME_BYTES = 0xffff_ffff

const TAIL = 0 // written by the writer only
const STALLED = 1 // written by the writer only: 1 while it waits for space
const HEAD = 16 // written by the reader only (own cache line)
/** Up to this many bytes, copy with a typed loop or `set`; above, with `copyBytes` (memmove). */
const LOOP_COPY_BYTES = 4096

/** Any typed array; the ring copies between same-typed views, so types must match. */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray
  readonly BYTES_PER_ELEMENT: number
}

/** Where a large frame's bytes go: a copy by default, or e.g. a reduction into the destination. */
export type Sink = (dest: TypedArray, destByteOffset: number, src: TypedArray, srcByteOffset: number, bytes: number) => void

/** A large frame being written: the writer's progress lives here between calls. */
export interface OutgoingFrame {
  context: number
  tag: number
  kind: number
  bytes: Uint8Array
  /** Payload bytes written so far; -1 while the header is not yet in the ring. */
  sent: number
}

/**
 * `n` rounded up to a multiple of 16. Exact for every length up to 2⁵³: only
 * the low bits go through int32 (`-n & 15`, which ToInt32 keeps exact), so
 * frames of 2 GiB and more are not routed to the small path as `(n + 15) & ~15`
 * did (it turns negative at 2³¹).
 */
export const pad16 = (n: number): number => n + (-n & 15)

export class Ring {
  readonly capacity: number
  /** Frames with header + padded payload up to this size are "small". */
  readonly smallMax: number
  private readonly mask: number
  private readonly control: Int32Array
  private readonly data: Uint8Array
  private readonly words: Int32Array
  private readonly views = new Map<TypedArrayConstructor, TypedArray>()

  /** Writer's own copy of the tail (only the writer moves it). */
  private tail = 0
  /** Writer's own copy of the STALLED word. */
  private stalled = false
  /** Reader's own copy of the head (only the reader moves it). */
  private head = 0

  /** Header of the frame at the reader's head, valid while `hasFrame`. */
  hasFrame = false
  frameContext = 0
  frameTag = 0
  frameKind = 0
  frameBytes = 0
  /** Payload bytes of the current frame already consumed (large frames). */
  frameReceived = 0
  private headerConsumed = false

  constructor(memory: WorldMemory, source: number, dest: number) {
    this.capacity = memory.ringCapacity
    this.mask = this.capacity - 1
    this.smallMax = this.capacity / 4
    const base = (source * memory.size + dest) * (RING_CONTROL_BYTES + this.capacity)
    this.control = new Int32Array(memory.rings, base, RING_CONTROL_BYTES / 4)
    this.data = new Uint8Array(memory.rings, base + RING_CONTROL_BYTES, this.capacity)
    this.words = new Int32Array(memory.rings, base + RING_CONTROL_BYTES, this.capacity / 4)
    // Attach to a ring that may already hold frames (a rank attaches after its peers started).
    this.tail = Atomics.load(this.control, TAIL)
    this.head = Atomics.load(this.control, HEAD)
  }

  /** True when a frame of `payloadBytes` is small (written and read in one piece). */
  isSmall(payloadBytes: number): boolean {
    return HEADER_BYTES + pad16(payloadBytes) <= this.smallMax
  }

  // ---- writer side ------------------------------------------------------

  /**
   * Writes a small frame if it fits now; `payload` may be null for an empty
   * message. Allocates nothing once a view of the payload's type exists.
   */
  tryWriteSmall(context: number, tag: number, kind: number, payload: TypedArray | null, byteLength: number): boolean {
    const total = HEADER_BYTES + pad16(byteLength)
    let t = this.tail
    const used = (t - Atomics.load(this.control, HEAD)) | 0
    let pos = t & this.mask
    const toEnd = this.capacity - pos
    const wraps = total > toEnd
    if (this.capacity - used < total + (wraps ? toEnd : 0)) return this.stall()
    if (this.stalled) this.unstall()
    const w = this.words
    if (wraps) {
      w[pos >> 2] = 0
      w[(pos >> 2) + 1] = 0
      w[(pos >> 2) + 2] = KIND_PAD
      w[(pos >> 2) + 3] = toEnd - HEADER_BYTES
      t = (t + toEnd) | 0
      pos = 0
    }
    const i = pos >> 2
    w[i] = context
    w[i + 1] = tag
    w[i + 2] = kind
    w[i + 3] = byteLength
    if (payload !== null && byteLength > 0) {
      if (byteLength > LOOP_COPY_BYTES) copyBytes(this.data, pos + HEADER_BYTES, payload, 0, byteLength)
      else this.viewOf(payload).set(payload as never, (pos + HEADER_BYTES) / payload.BYTES_PER_ELEMENT)
    }
    this.tail = (t + total) | 0
    Atomics.store(this.control, TAIL, this.tail)
    return true
  }

  /**
   * Streams as much of a large frame as the ring has room for; true once the
   * whole frame is in the ring. Publishes after every chunk so the reader can
   * copy out while the writer copies in.
   */
  writeLarge(frame: OutgoingFrame): boolean {
    const length = frame.bytes.byteLength
    const padded = pad16(length)
    let t = this.tail
    let free = this.capacity - ((t - Atomics.load(this.control, HEAD)) | 0)
    if (free === 0) return this.stall()
    if (this.stalled) this.unstall()
    if (frame.sent < 0) {
      const i = (t & this.mask) >> 2
      this.words[i] = frame.context
      this.words[i + 1] = frame.tag
      this.words[i + 2] = frame.kind
      this.words[i + 3] = length
      t = (t + HEADER_BYTES) | 0
      free -= HEADER_BYTES
      frame.sent = 0
    }
    while (frame.sent < padded && free > 0) {
      const pos = t & this.mask
      const n = Math.min(padded - frame.sent, free, this.capacity - pos, this.smallMax)
      const real = Math.min(n, length - frame.sent)
      if (real > 0) copyBytes(this.data, pos, frame.bytes, frame.sent, real)
      frame.sent += n
      t = (t + n) | 0
      free -= n
      this.tail = t
      Atomics.store(this.control, TAIL, t)
    }
    this.tail = t
    Atomics.store(this.control, TAIL, t)
    return frame.sent >= padded || this.stall()
  }

  /** Records that the writer is waiting for space (so the reader drains this ring even if it wants other messages). */
  private stall(): false {
    if (!this.stalled) {
      this.stalled = true
      Atomics.store(this.control, STALLED, 1)
    }
    return false
  }

  private unstall(): void {
    this.stalled = false
    Atomics.store(this.control, STALLED, 0)
  }

  /** True while this ring's writer waits for the reader to make room. */
  writerStalled(): boolean {
    return Atomics.load(this.control, STALLED) !== 0
  }

  // ---- reader side ------------------------------------------------------

  /** Reads the next frame's header if one has arrived (skipping filler). */
  peek(): boolean {
    if (this.hasFrame) return true
    for (;;) {
      const available = (Atomics.load(this.control, TAIL) - this.head) | 0
      if (available < HEADER_BYTES) return false
      const i = (this.head & this.mask) >> 2
      const w = this.words
      if (w[i + 2] === KIND_PAD) {
        this.advance(HEADER_BYTES + (w[i + 3] as number))
        continue
      }
      this.frameContext = w[i] as number
      this.frameTag = w[i + 1] as number
      this.frameKind = w[i + 2] as number
      this.frameBytes = (w[i + 3] as number) >>> 0
      this.frameReceived = 0
      this.hasFrame = true
      return true
    }
  }

  /**
   * Copies the current small frame's payload into `dest` (same element type
   * as was sent, at least `frameBytes` long) and consumes the frame.
   */
  readSmallInto(dest: TypedArray): void {
    const bytes = this.frameBytes
    if (bytes > LOOP_COPY_BYTES || dest instanceof BigInt64Array || dest instanceof BigUint64Array) {
      copyBytes(dest, 0, this.data, (this.head & this.mask) + HEADER_BYTES, bytes)
    } else if (bytes > 0) {
      // A plain loop over same-typed views: allocates nothing, and beats a call for small messages.
      const size = dest.BYTES_PER_ELEMENT
      const start = ((this.head & this.mask) + HEADER_BYTES) / size
      const d = dest as Float64Array
      const v = this.viewOf(dest) as Float64Array
      for (let k = 0, count = bytes / size; k < count; k++) d[k] = v[start + k] as number
    }
    this.advance(HEADER_BYTES + pad16(bytes))
    this.hasFrame = false
  }

  /** Consumes the current small frame without reading its payload. */
  skipSmall(): void {
    this.advance(HEADER_BYTES + pad16(this.frameBytes))
    this.hasFrame = false
  }

  /**
   * Hands whatever has arrived of the current large frame to `sink` (a copy
   * into `dest`, the whole payload's destination, by default); true once the
   * frame is consumed.
   */
  readLarge(dest: TypedArray, sink: Sink = copyBytes): boolean {
    const length = this.frameBytes
    const padded = pad16(length)
    if (!this.headerConsumed) {
      this.advance(HEADER_BYTES)
      this.headerConsumed = true
    }
    let available = (Atomics.load(this.control, TAIL) - this.head) | 0
    while (this.frameReceived < padded && available > 0) {
      const pos = this.head & this.mask
      const n = Math.min(padded - this.frameReceived, available, this.capacity - pos)
      const real = Math.min(n, length - this.frameReceived)
      if (real > 0) sink(dest, this.frameReceived, this.data, pos, real)
      this.frameReceived += n
      available -= n
      this.advance(n)
    }
    if (this.frameReceived < padded) return false
    this.headerConsumed = false
    this.hasFrame = false
    return true
  }

  private advance(bytes: number): void {
    this.head = (this.head + bytes) | 0
    Atomics.store(this.control, HEAD, this.head)
  }

  /** A view of the ring's data with the element type of `like` (cached per type). */
  private viewOf(like: TypedArray): TypedArray {
    const Ctor = (like instanceof Uint8Array ? Uint8Array : like.constructor) as TypedArrayConstructor
    let view = this.views.get(Ctor)
    if (view === undefined) {
      view = new Ctor(this.data.buffer, this.data.byteOffset, this.capacity / Ctor.BYTES_PER_ELEMENT)
      this.views.set(Ctor, view)
    }
    return view
  }
}
