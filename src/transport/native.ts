/**
 * The optional native addon (`native/kernels.c`, built by the install script,
 * or prebuilt in the package for some platforms): memmove
 * for large transport copies, float64 reduction loops, a thread yield for
 * waits when ranks outnumber cores, and an exit that joins no thread. Everything that
 * uses it has a JS fallback; RANKFLOW_NATIVE=0 forces the fallbacks.
 *
 * Layer: transport (used by transport/copy and comm/ops).
 */
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import type { TypedArray } from "./ring.ts"

export interface NativeKernels {
  /** memmove of `bytes` bytes between typed arrays, offsets in bytes. */
  copy(dst: TypedArray, dstByteOffset: number, src: TypedArray, srcByteOffset: number, bytes: number): void
  /**
   * out[i] = mine[i] op other[i] (other[i] op mine[i] when reversed) over `bytes`
   * bytes of doubles, for op 0 SUM, 1 PROD, 2 MAX, 3 MIN; offsets in bytes,
   * 8-byte aligned; `out` may be `mine`, `other` any typed array (a ring's bytes).
   */
  combineTo(
    op: number,
    out: TypedArray,
    outByteOffset: number,
    mine: TypedArray,
    mineByteOffset: number,
    other: TypedArray,
    otherByteOffset: number,
    bytes: number,
    reversed: boolean,
  ): void
  /** sched_yield: lets another runnable thread have this core. */
  yieldThread(): void
  /** _exit: ends the process without joining worker threads (absent from addons built before it). */
  exitNow?(code: number): never
  /**
   * Replaces Node's near-heap-limit callback on this thread (a rank): past
   * the limit it grants up to `capBytes` more so the allocation completes,
   * sets `flags[index]` to 1 and stops the worker (absent from addons built before it).
   */
  guardHeap?(flags: Int32Array, index: number, capBytes: number): void
}

/** The package's root: two levels up from this module, in src/transport and dist/transport alike. */
const PACKAGE_ROOT = new URL("../../", import.meta.url)

/**
 * Where the addon was found (node-gyp-build's lookup): `build/Release` when
 * it was compiled on this machine, else the prebuilt binary shipped in
 * `prebuilds/<platform>-<arch>/`; undefined when neither loads.
 */
export let nativePath: string | undefined

/** Why loading the addon failed (its error message), when it failed; `rankflow doctor` shows it. */
export let nativeLoadError: string | undefined

function load(): NativeKernels | undefined {
  if (process.env.RANKFLOW_NATIVE === "0") return undefined
  try {
    const require = createRequire(import.meta.url)
    const nodeGypBuild = require("node-gyp-build") as { path(dir: string): string }
    const path = nodeGypBuild.path(fileURLToPath(PACKAGE_ROOT))
    const kernels = require(path) as NativeKernels
    nativePath = path
    return kernels
  } catch (error) {
    nativeLoadError = error instanceof Error ? error.message.split("\n")[0] : String(error)
    return undefined
  }
}

/** The addon's kernels, or undefined when it is not built (or disabled). */
export const native: NativeKernels | undefined = load()
