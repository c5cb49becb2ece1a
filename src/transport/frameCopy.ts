/**
 * Copies between a frame buffer (a ring's bytes, an MPI staging buffer) and
 * a message's typed array without allocating: through a view of the frame
 * buffer of the message's own element type, made once per type. A few words
 * go by a plain loop (a builtin call costs more than it copies), up to 4 KiB
 * by `set`, beyond that by `copyBytes` (memmove when the addon is there).
 *
 * Layer: transport.
 */
import { copyBytes } from "./copy.ts"
import type { TypedArray } from "./ring.ts"

/** Up to this many bytes, copy with a typed loop or `set`; above, with `copyBytes`. */
const LOOP_COPY_BYTES = 4096
/** Up to this many bytes, the writer copies with a plain loop rather than `set`. */
const TINY_COPY_BYTES = 256

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray
  readonly BYTES_PER_ELEMENT: number
}

export class FrameCopy {
  private readonly views = new Map<TypedArrayConstructor, TypedArray>()
  /** The last view handed out and its type: a ping-pong of one type skips the Map. */
  private lastType: unknown = null
  private lastView: TypedArray | null = null
  /** The last view's elements are bigints (a loop over them would allocate): copied with `copyBytes`. */
  private lastBig = false

  constructor(
    /** The frame buffer; every offset below is a byte offset into it, aligned to the element size. */
    readonly bytes: Uint8Array,
  ) {}

  /** Copies the first `byteLength` bytes of `payload` (which may be longer: an encoder's buffer) to byte `at`. */
  write(at: number, payload: TypedArray, byteLength: number): void {
    if (byteLength > LOOP_COPY_BYTES) return copyBytes(this.bytes, at, payload, 0, byteLength)
    const v = this.viewOf(payload) as Float64Array
    const size = payload.BYTES_PER_ELEMENT
    if (byteLength > TINY_COPY_BYTES || this.lastBig) {
      if (payload.byteLength === byteLength) v.set(payload as never, at / size)
      else copyBytes(this.bytes, at, payload, 0, byteLength)
    } else {
      // Copies just the first byteLength bytes of a longer array without a subarray.
      const src = payload as Float64Array
      const start = at / size
      for (let k = 0, count = byteLength / size; k < count; k++) v[start + k] = src[k] as number
    }
  }

  /** Copies `bytes` bytes at byte `at` into the start of `dest`. */
  read(dest: TypedArray, at: number, bytes: number): void {
    if (bytes > LOOP_COPY_BYTES || dest instanceof BigInt64Array || dest instanceof BigUint64Array) {
      copyBytes(dest, 0, this.bytes, at, bytes)
    } else if (bytes > 0) {
      const size = dest.BYTES_PER_ELEMENT
      const start = at / size
      const d = dest as Float64Array
      const v = this.viewOf(dest) as Float64Array
      for (let k = 0, count = bytes / size; k < count; k++) d[k] = v[start + k] as number
    }
  }

  private viewOf(like: TypedArray): TypedArray {
    const type = like.constructor
    if (type === this.lastType) return this.lastView!
    const Ctor = (like instanceof Uint8Array ? Uint8Array : type) as TypedArrayConstructor
    let view = this.views.get(Ctor)
    if (view === undefined) {
      const b = this.bytes
      view = new Ctor(b.buffer, b.byteOffset, Math.floor(b.byteLength / Ctor.BYTES_PER_ELEMENT))
      this.views.set(Ctor, view)
    }
    this.lastType = type
    this.lastView = view
    this.lastBig = like instanceof BigInt64Array || like instanceof BigUint64Array
    return view
  }
}
