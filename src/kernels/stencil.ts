/**
 * SIMD stencil sweeps: one row of a block at a time, `out[i] = Σ_k w_k·u[i + o_k]`
 * (terms added left to right) or the update form `out[i] = u[i] + s·Σ`, run by
 * a WebAssembly SIMD module (src/kernels/stencil.wat, f64x2 for Float64,
 * f32x4 for Float32, assembled into stencil.wasm.ts by scripts/build-wasm.ts).
 *
 * WebAssembly addresses only its own memory: each `StencilKernels` owns one
 * `WebAssembly.Memory`, sized once for every buffer it will hold (`alloc`
 * hands out typed arrays in it; nothing ever grows it, so no view is ever
 * detached).
 *
 * Layer: kernels — the bottom layer, pure compute; imports nothing from the
 * other layers.
 *
 * @module
 */
import { stencilWasm } from "./stencil.wasm.ts"

/** The lane types of the kernels: Float64 (f64x2) and Float32 (f32x4) fields. */
export type LaneType = "float64" | "float32"

/** Term counts with an unrolled kernel; others run the table-driven one. */
const UNROLLED = new Set([3, 5, 7, 9])
const PAGE = 65536
/** The largest kernel memory: byte addresses stay non-negative i32s. */
export const MAX_KERNEL_BYTES = 2 ** 31 - 2 * PAGE
const MAX_BYTES = MAX_KERNEL_BYTES + PAGE
const ALIGN = 16

interface WasmMemory {
  readonly buffer: ArrayBuffer
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory
  validate(bytes: Uint8Array): boolean
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly

let compiled: object | undefined
const bytes = (): Uint8Array => Buffer.from(stencilWasm, "base64")
const moduleOnce = (): object => (compiled ??= new (wasmApi()!.Module)(bytes()))

let available: boolean | undefined
/** Whether this host runs the kernels (WebAssembly with SIMD: Node 20 does by default). */
export function simdAvailable(): boolean {
  if (available === undefined) {
    const api = wasmApi()
    try {
      available = api !== undefined && api.validate(bytes())
    } catch {
      available = false
    }
  }
  return available
}

/** A row sweep: (out, u, n, …byte offsets, …weights, s, mode). */
type RowFn = (...args: number[]) => void
/** The table-driven sweep: (out, u, n, terms, count, s, mode). */
type RowN = (out: number, u: number, n: number, terms: number, count: number, s: number, mode: number) => void

/**
 * What `StencilKernels.window` sweeps: a block's shape and the update range of
 * each step of a window, and how to tile dimension 0.
 */
export interface WindowShape {
  /** Grid dimensions, 1 to 3. */
  readonly dims: number
  /** Element strides per dimension (the last is 1). */
  readonly strides: ReadonlyArray<number>
  /** Per step of the longest window: the update range [lo, hi) per dimension (element indices of the block with its ghosts). */
  readonly ranges: ReadonlyArray<{ readonly lo: ReadonlyArray<number>; readonly hi: ReadonlyArray<number> }>
  /** The stencil's radius along dimension 0: how far the tiles are skewed per step. */
  readonly radius: number
  /** Tile extent along dimension 0 (rows of a 2-D block, planes of a 3-D one, points of a 1-D one); 0 or more than the block: one tile. */
  readonly tile: number
}

/**
 * A compiled window: `run(input, output, first, k)` runs steps first … first + k − 1
 * of the shape's ranges, reading `input` and writing `output` on the first
 * step, then alternating (after an odd k the result is in `output`, after an
 * even k in `input`). One kernel call; allocates nothing.
 */
export type WindowRun = (input: Float64Array | Float32Array, output: Float64Array | Float32Array, first: number, k: number) => void

/** The table index of each row kernel in stencil.wat's `window`. */
const ROW_INDEX: Readonly<Record<number, number>> = { 3: 0, 5: 1, 7: 2, 9: 3 }

/** The unit-weight kernels (stencil.wat's unitK): by term count, the one term with a weight; every other weight must be exactly 1. */
const UNIT_CENTRE: Readonly<Record<number, number>> = { 3: 1, 5: 4, 7: 6 }
const UNIT_INDEX: Readonly<Record<number, number>> = { 3: 10, 5: 11, 7: 12 }

/** The centre term's index when these weights run a unit-weight kernel (1·x is x exactly: the same bits, fewer operations), else undefined. */
const unitCentre = (weights: ReadonlyArray<number>): number | undefined => {
  const c = UNIT_CENTRE[weights.length]
  return c !== undefined && weights.every((w, j) => j === c || w === 1) ? c : undefined
}

/** The bytes an array of `length` elements of `type` takes in a kernel memory (rounded up to the alignment). */
export const kernelBytes = (type: LaneType, length: number): number => Math.ceil((length * (type === "float64" ? 8 : 4)) / ALIGN) * ALIGN

/**
 * One instance of the stencil kernels with its own memory of `bytes` bytes
 * (plus room for term tables): `alloc` hands out arrays in it, `row` sweeps a
 * row of arrays that live there.
 *
 * @example
 * ```ts
 * import { StencilKernels } from "rankflow"
 * const k = new StencilKernels(1024)
 * const u = k.alloc("float64", 8), out = k.alloc("float64", 8)
 * u.set([0, 1, 2, 3, 4, 5, 6, 7])
 * const row = k.compile("float64", [-8, 0, 8], [1, -2, 1]) // u[i-1] − 2u[i] + u[i+1] (byte offsets)
 * row(out, u, 1, 6, 0.5, 1) // update form: out[i] = u[i] + 0.5·Σ, for i in [1, 7)
 * console.log(Array.from(out.subarray(1, 7))) // [ 1, 2, 3, 4, 5, 6 ]
 * ```
 */
export class StencilKernels {
  readonly #memory: WasmMemory
  readonly #exports: Record<string, unknown>
  #top = 0
  readonly #end: number

  /** A kernel instance with a memory of at least `bytes` bytes for `alloc` (one allocation up front: it never grows). */
  constructor(bytes: number) {
    const api = wasmApi()
    if (api === undefined) throw new Error("StencilKernels: this host has no WebAssembly")
    const total = Math.ceil((bytes + 4096) / PAGE) * PAGE
    if (total > MAX_BYTES) throw new RangeError(`StencilKernels: ${total} bytes exceed the kernels' 2 GiB memory`)
    const pages = total / PAGE
    this.#memory = new api.Memory({ initial: pages, maximum: pages })
    this.#exports = new api.Instance(moduleOnce(), { env: { memory: this.#memory } }).exports
    this.#end = total
  }

  /** A zeroed array of `length` elements in the kernels' memory (16-byte aligned). */
  alloc(type: "float64", length: number): Float64Array
  alloc(type: "float32", length: number): Float32Array
  alloc(type: LaneType, length: number): Float64Array | Float32Array
  alloc(type: LaneType, length: number): Float64Array | Float32Array {
    const bytes = kernelBytes(type, length)
    if (this.#top + bytes > this.#end) throw new RangeError(`StencilKernels.alloc: ${bytes} bytes more than the memory's ${this.#end - this.#top} left`)
    const at = this.#top
    this.#top += bytes
    return type === "float64" ? new Float64Array(this.#memory.buffer, at, length) : new Float32Array(this.#memory.buffer, at, length)
  }

  /** Whether `a` lives in this kernel memory. */
  holds(a: ArrayBufferView): boolean {
    return a.buffer === this.#memory.buffer
  }

  /**
   * A row sweep for these terms (byte offsets and weights, in the order they
   * are added): `row(out, u, first, n, s, mode)` writes `out[first … first + n)`
   * from `u` (both arrays in this memory), mode 0 the plain sum, 1 the update
   * form `u[i] + s·Σ`. Allocates nothing per call.
   */
  compile(type: LaneType, offsets: ReadonlyArray<number>, weights: ReadonlyArray<number>): (out: Float64Array | Float32Array, u: Float64Array | Float32Array, first: number, n: number, s: number, mode: number) => void {
    const lane = type === "float64" ? "f64" : "f32"
    const size = type === "float64" ? 8 : 4
    const count = offsets.length
    if (count === 0 || weights.length !== count) throw new RangeError("StencilKernels.compile: one weight per offset, at least one term")
    const centre = unitCentre(weights)
    if (centre !== undefined) {
      // Weights of exactly 1 but one: the unit kernel (1·x is x: same bits, fewer operations).
      const fn = this.#exports[`unit${count}_${lane}`] as RowFn
      const names = offsets.map((_, k) => `o${k}`)
      const make = new Function("fn", "size", "wc", ...names, `"use strict"; return (out, u, first, n, s, mode) => fn(out.byteOffset + first * size, u.byteOffset + first * size, n, ${names.join(", ")}, wc, s, mode)`)
      return make(fn, size, weights[centre], ...offsets) as ReturnType<StencilKernels["compile"]>
    }
    if (UNROLLED.has(count)) {
      // A closure with the terms as constants: one direct call per row, nothing allocated.
      const fn = this.#exports[`row${count}_${lane}`] as RowFn
      const names = offsets.map((_, k) => `o${k}`).concat(weights.map((_, k) => `w${k}`))
      const make = new Function("fn", "size", ...names, `"use strict"; return (out, u, first, n, s, mode) => fn(out.byteOffset + first * size, u.byteOffset + first * size, n, ${names.join(", ")}, s, mode)`)
      return make(fn, size, ...offsets, ...weights) as ReturnType<StencilKernels["compile"]>
    }
    // The table-driven kernel reads (i32 offset, pad, f64 weight) per term.
    const table = this.alloc("float64", 2 * count)
    const ints = new Int32Array(table.buffer, table.byteOffset, 4 * count)
    for (let k = 0; k < count; k++) {
      ints[4 * k] = offsets[k]!
      table[2 * k + 1] = weights[k]!
    }
    const fn = this.#exports[`rowN_${lane}`] as RowN
    const at = table.byteOffset
    return (out, u, first, n, s, mode) => fn(out.byteOffset + first * size, u.byteOffset + first * size, n, at, count, s, mode)
  }

  /**
   * A window of steps of one stencil in a single kernel call (the terms as for
   * `compile`, with the update form's `s` and `mode` fixed): every step of the
   * window over the block's tiles along dimension 0, each tile through all its
   * steps before the next (temporal blocking: a tile stays in cache), skewed
   * by the radius per step so that each point sees exactly the values the
   * untiled sweep gives it — the same bits. The buffers must live in this
   * memory. Kernel memory used: about 200 bytes plus 24 per step of `shape.ranges`.
   *
   * @example
   * ```ts
   * import { StencilKernels } from "rankflow"
   * const k = new StencilKernels(4096)
   * const u = k.alloc("float64", 12), v = k.alloc("float64", 12)
   * u.set([0, 0, 0, 0, 0, 8, 8, 0, 0, 0, 0, 0])
   * const ranges = Array.from({ length: 4 }, () => ({ lo: [1], hi: [11] }))
   * const run = k.window("float64", [-8, 0, 8], [1, -2, 1], 0.25, 1, { dims: 1, strides: [1], ranges, radius: 1, tile: 4 })
   * run(u, v, 0, 4) // four heat steps in tiles of 4 points; an even count: the result is in u
   * console.log(Array.from(u).map((x) => +x.toFixed(3)).join(" ")) // 0 0.031 0.281 1.125 2.625 3.938 3.938 2.625 1.125 0.281 0.031 0
   * ```
   */
  window(type: LaneType, offsets: ReadonlyArray<number>, weights: ReadonlyArray<number>, s: number, mode: number, shape: WindowShape): WindowRun {
    const count = offsets.length
    if (count === 0 || weights.length !== count) throw new RangeError("StencilKernels.window: one weight per offset, at least one term")
    const { dims, strides, ranges, radius } = shape
    if (dims < 1 || dims > 3 || strides.length !== dims || ranges.length === 0) throw new RangeError("StencilKernels.window: dims 1 to 3, a stride per dimension, at least one step")
    const size = type === "float64" ? 8 : 4
    // The parameter block: term byte offsets (or the table's address and count), mode, s, weights.
    const params = this.alloc("float64", 16)
    const ints = new Int32Array(params.buffer, params.byteOffset, 32)
    const unrolled = ROW_INDEX[count]
    if (unrolled !== undefined) {
      for (let j = 0; j < count; j++) {
        ints[j] = offsets[j]!
        params[7 + j] = weights[j]!
      }
    } else {
      const table = this.alloc("float64", 2 * count)
      const tableInts = new Int32Array(table.buffer, table.byteOffset, 4 * count)
      for (let j = 0; j < count; j++) {
        tableInts[4 * j] = offsets[j]!
        table[2 * j + 1] = weights[j]!
      }
      ints[0] = table.byteOffset
      ints[1] = count
    }
    ints[10] = mode
    params[6] = s
    const table = this.alloc("float64", 3 * ranges.length)
    const steps = new Int32Array(table.buffer, table.byteOffset, 6 * ranges.length)
    ranges.forEach((range, j) => {
      for (let d = 0; d < dims; d++) {
        steps[6 * j + 2 * d] = range.lo[d]!
        steps[6 * j + 2 * d + 1] = range.hi[d]!
      }
    })
    const lo0 = ranges[0]!.lo[0]!
    const extent = ranges[0]!.hi[0]! - lo0
    const tile = shape.tile > 0 && shape.tile < extent ? shape.tile : extent
    const descriptor = this.alloc("float64", 8)
    const d = new Int32Array(descriptor.buffer, descriptor.byteOffset, 16)
    d[0] = unitCentre(weights) !== undefined ? UNIT_INDEX[count]! + (type === "float64" ? 0 : 3) : (unrolled ?? 4) + (type === "float64" ? 0 : 5)
    d[1] = params.byteOffset
    d[4] = dims
    d[5] = size
    d[6] = strides[0]! * size
    d[7] = (strides[1] ?? 0) * size
    d[9] = Math.max(1, tile)
    d[10] = radius
    d[11] = lo0
    d[12] = Math.max(1, Math.ceil(extent / Math.max(1, tile)))
    // A 1-D 3-point unit-weight Float64 stencil of offsets −1, 0, +1 runs its steps in pairs (stencil.wat's pair3u_f64).
    d[14] = dims === 1 && type === "float64" && d[0] === UNIT_INDEX[3] && offsets[0] === -8 && offsets[1] === 0 && offsets[2] === 8 ? 1 : 0
    const at = descriptor.byteOffset
    const base = steps.byteOffset
    const last = ranges.length
    const fn = this.#exports.window as (d: number) => void
    return (input, output, first, k) => {
      if (first < 0 || k < 0 || first + k > last) throw new RangeError(`StencilKernels.window: steps [${first}, ${first + k}) outside the ${last} planned`)
      d[2] = input.byteOffset
      d[3] = output.byteOffset
      d[8] = k
      d[13] = base + 24 * first
      fn(at)
    }
  }
}
