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
 * A frame is published by its header's kind word (stored last, as kind + 1):
 * the reader polls the word at its head — the frame's own cache line — and
 * never the writer's tail, and the writer keeps a cached copy of the reader's
 * head that it re-reads only when the ring looks full. A small message
 * therefore moves one or two cache lines between the cores (the frame, and the
 * next header slot when the frame ends on a line boundary), instead of four
 * (frame, tail, head, and back). To keep "the kind word at the reader's head
 * is 0 until published" true across laps, the writer zeroes the next header
 * slot before it publishes a frame, and always leaves that slot free: the
 * ring holds at most capacity − 16 bytes of frames. `tail` is stored only by
 * large frames (before their header, then after every chunk): the reader
 * counts a large frame's chunks against it.
 *
 * `head` and `tail` are byte counters that wrap at 2³² (int32 arithmetic);
 * the ring capacity (≤ 2³⁰) keeps their difference exact. Frame lengths and
 * positions inside a frame are plain numbers (never int32): a frame carries
 * up to 4 GiB − 1 bytes.
 *
 * Layer: transport. Knows nothing of dtypes, tags or matching: those are comm's.
 */
import { copyBytes } from "./copy.ts"
import { FrameCopy } from "./frameCopy.ts"
import { RING_CONTROL_BYTES, type WorldMemory } from "./memory.ts"

export const HEADER_BYTES = 16
/** Frame kind reserved by the ring for end-of-ring filler. */
export const KIND_PAD = 0
/** Largest payload a frame can carry, 4 GiB − 1: its length is an unsigned 32-bit header field. */
export const MAX_FRAME_BYTES = 0xffff_ffff

const TAIL = 0 // written by the writer only, for large frames (their chunks are counted against it)
const STALLED = 1 // written by the writer only: 1 while it waits for space
const WRITTEN = 2 // written by the writer only (plain store, never read across threads): where a re-attached writer resumes
const HEAD = 16 // written by the reader only (own cache line)
/** The header word that publishes a frame: kind + 1, stored last; 0 while no frame is there. */
const KIND_WORD = 2

/** Any typed array. Frames carry raw bytes (`FrameCopy`); whether a message's type fits its target is the engine's check. */
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
export function pad16(n: number): number {
  return n + (-n & 15)
}

export class Ring {
  readonly capacity: number
  /** Frames with header + padded payload up to this size are "small". */
  readonly smallMax: number
  private readonly mask: number
  private readonly control: Int32Array
  private readonly data: Uint8Array
  private readonly words: Int32Array
  private readonly copy: FrameCopy

  /** Writer's own copy of the tail (only the writer moves it). */
  private tail = 0
  /** Writer's last look at the reader's head: re-read only when the ring looks full (saves a cache line per message). */
  private headSeen = 0
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
    this.copy = new FrameCopy(this.data)
    // Attach to a ring that may already hold frames (a rank attaches after its peers started).
    this.tail = this.control[WRITTEN] as number
    this.head = Atomics.load(this.control, HEAD)
    this.headSeen = this.head
  }

  /** True when a frame of `payloadBytes` is small (written and read in one piece). */
  isSmall(payloadBytes: number): boolean {
    return HEADER_BYTES + pad16(payloadBytes) <= this.smallMax
  }

  // ---- writer side ------------------------------------------------------

  /**
   * Writes a small frame if it fits now; `payload` may be null for an empty
   * message, and may be longer than `byteLength` when it is a byte array (an
   * encoder's reused buffer: its first `byteLength` bytes are sent).
   * Allocates nothing once a view of the payload's type exists.
   */
  tryWriteSmall(context: number, tag: number, kind: number, payload: TypedArray | null, byteLength: number): boolean {
    const total = HEADER_BYTES + pad16(byteLength)
    const t = this.tail
    const pos = t & this.mask
    const toEnd = this.capacity - pos
    const wraps = total > toEnd
    // The frame, the filler before it when it wraps, and the free header slot after it.
    const need = total + (wraps ? toEnd : 0) + HEADER_BYTES
    if (this.capacity - ((t - this.headSeen) | 0) < need) {
      this.headSeen = Atomics.load(this.control, HEAD)
      if (this.capacity - ((t - this.headSeen) | 0) < need) return this.stall()
    }
    if (this.stalled) this.unstall()
    const w = this.words
    const at = wraps ? 0 : pos
    const i = at >> 2
    w[i] = context
    w[i + 1] = tag
    w[i + 3] = byteLength
    if (payload !== null && byteLength > 0) this.copy.write(at + HEADER_BYTES, payload, byteLength)
    // The next header slot reads 0 before this frame is visible (the reader stops there).
    w[(((at + total) & this.mask) >> 2) + KIND_WORD] = 0
    Atomics.store(w, i + KIND_WORD, kind + 1)
    if (wraps) {
      // Filler to the end of the ring, published after the frame it leads to.
      const p = pos >> 2
      w[p] = 0
      w[p + 1] = 0
      w[p + 3] = toEnd - HEADER_BYTES
      Atomics.store(w, p + KIND_WORD, KIND_PAD + 1)
    }
    this.tail = (t + total + (wraps ? toEnd : 0)) | 0
    this.control[WRITTEN] = this.tail
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
    this.headSeen = Atomics.load(this.control, HEAD)
    // Room for frame bytes, always leaving the next header slot free.
    let free = this.capacity - HEADER_BYTES - ((t - this.headSeen) | 0)
    if (free <= 0) return this.stall()
    if (this.stalled) this.unstall()
    const w = this.words
    if (frame.sent < 0) {
      // The tail moves only with large frames: bring it up to this header first, so the reader
      // never counts bytes against a tail left behind by the small frames sent since.
      Atomics.store(this.control, TAIL, t)
      const i = (t & this.mask) >> 2
      w[i] = frame.context
      w[i + 1] = frame.tag
      w[i + 3] = length
      Atomics.store(w, i + KIND_WORD, frame.kind + 1)
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
      // Before the last chunk is visible, the next header slot must read 0.
      if (frame.sent >= padded) w[((t & this.mask) >> 2) + KIND_WORD] = 0
      this.tail = t
      Atomics.store(this.control, TAIL, t)
    }
    this.tail = t
    this.control[WRITTEN] = t
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

  /**
   * Reads the next frame's header if one has arrived (skipping filler). Polls
   * the header's own kind word, so an empty poll touches only the line the
   * next frame will arrive in.
   */
  peek(): boolean {
    if (this.hasFrame) return true
    for (;;) {
      const i = (this.head & this.mask) >> 2
      const w = this.words
      const published = Atomics.load(w, i + KIND_WORD)
      if (published === 0) return false
      if (published === KIND_PAD + 1) {
        this.advance(HEADER_BYTES + (w[i + 3] as number))
        continue
      }
      this.frameContext = w[i] as number
      this.frameTag = w[i + 1] as number
      this.frameKind = published - 1
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
    this.copy.read(dest, (this.head & this.mask) + HEADER_BYTES, bytes)
    this.advance(HEADER_BYTES + pad16(bytes))
    this.hasFrame = false
  }

  /** Byte `k` (< frameBytes) of the current small frame's payload, read in place. */
  payloadByte(k: number): number {
    return this.data[(this.head & this.mask) + HEADER_BYTES + k] as number
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
}
