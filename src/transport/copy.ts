/**
 * Byte copies for the transport's large transfers. V8 copies typed arrays
 * that touch shared memory with a relaxed-atomic word loop at about half of
 * memcpy's speed; the native addon does a plain memmove instead, and
 * `TypedArray.prototype.set` is the fallback. Small copies never come here:
 * a native call costs ~70 ns.
 *
 * Layer: transport.
 */
import { native } from "./native.ts"
import type { TypedArray } from "./ring.ts"

/** Which copy the transport uses for large transfers: "native" (memmove) or "js" (TypedArray.set). */
export const copyEngine: "native" | "js" = native === undefined ? "js" : "native"

const bytesOf = (a: TypedArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Copies `bytes` bytes from `src` at byte `srcByteOffset` to `dst` at byte `dstByteOffset`. */
export const copyBytes: (dst: TypedArray, dstByteOffset: number, src: TypedArray, srcByteOffset: number, bytes: number) => void =
  native?.copy ??
  ((dst, dstByteOffset, src, srcByteOffset, bytes) => {
    bytesOf(dst).set(bytesOf(src).subarray(srcByteOffset, srcByteOffset + bytes), dstByteOffset)
  })
