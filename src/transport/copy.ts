/**
 * Byte copies for the transport's large transfers. V8 copies typed arrays
 * that touch shared memory with a relaxed-atomic word loop at about half of
 * memcpy's speed; a 60-line native addon (`native/copy.c`, built by
 * `npm ci`) does a plain memmove instead. Without the addon (or with
 * RANKFLOW_NATIVE=0) the copies fall back to `TypedArray.prototype.set`.
 * Small copies never come here: a native call costs ~70 ns.
 *
 * Layer: transport.
 */
import { createRequire } from "node:module"

import type { TypedArray } from "./ring.ts"

/** Copies `bytes` bytes; offsets are in bytes from the start of each view. */
type CopyFn = (dst: TypedArray, dstByteOffset: number, src: TypedArray, srcByteOffset: number, bytes: number) => void

function loadNative(): CopyFn | undefined {
  if (process.env.RANKFLOW_NATIVE === "0") return undefined
  try {
    const addon = createRequire(import.meta.url)("../../build/Release/rankflow_copy.node") as { copy: CopyFn }
    return addon.copy
  } catch {
    return undefined
  }
}

const native = loadNative()

/** Which copy the transport uses for large transfers: "native" (memmove) or "js" (TypedArray.set). */
export const copyEngine: "native" | "js" = native === undefined ? "js" : "native"

const bytesOf = (a: TypedArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Copies `bytes` bytes from `src` at byte `srcByteOffset` to `dst` at byte `dstByteOffset`. */
export const copyBytes: CopyFn =
  native ??
  ((dst, dstByteOffset, src, srcByteOffset, bytes) => {
    bytesOf(dst).set(bytesOf(src).subarray(srcByteOffset, srcByteOffset + bytes), dstByteOffset)
  })
