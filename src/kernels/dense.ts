/**
 * Dense products at C speed: `dgemv` (y = A·x) and `dgemm` (C = A·B) on
 * row-major `Float64Array`s, run by a WebAssembly SIMD (f64x2) module
 * (src/kernels/dense.wat, assembled into dense.wasm.ts by
 * scripts/build-wasm.ts).
 *
 * Layer: kernels — the bottom layer, pure compute. Imports nothing from the
 * other layers (errors.ts only); runs on any thread, each thread with its own
 * module instance and memory.
 *
 * Summation order (a multiply, then an add; the same order in JavaScript gives
 * the same bits): `dgemm` sums every element sequentially, `s = 0; s += a₀·b₀;
 * s += a₁·b₁; …`, bit-identical to the textbook triple loop (the SIMD lanes
 * run across columns of C); `dgemv` sums each row in two interleaved halves,
 * even and odd columns (the two lanes of one accumulator), then adds them,
 * then the last term when `cols` is odd.
 *
 * Memory: the kernels read and write one shared `WebAssembly.Memory`.
 * Arrays from `alloc` live in it and are used in place; any other
 * `Float64Array` is copied in (and the output copied out) on each call, which
 * for a large matrix costs about as much as a matrix-vector product: allocate
 * what a hot loop multiplies with `alloc`. The memory is shared, so growing it
 * (a later `alloc`) never detaches the views handed out before.
 *
 * @module
 */
import { InvalidArgument, DenseShapeMismatch } from "../errors.ts"
import { denseWasm } from "./dense.wasm.ts"

/** A `WebAssembly.Memory`, as much of it as the kernels use (tsconfig's lib has no WebAssembly types). */
export interface KernelMemory {
  /** The memory's bytes (a new SharedArrayBuffer object after each grow; views of earlier ones stay valid). */
  readonly buffer: SharedArrayBuffer
  /** Adds `pages` pages of 64 KiB; returns the previous size in pages. */
  grow(pages: number): number
}

interface DenseExports {
  readonly dgemv: (a: number, x: number, y: number, rows: number, cols: number) => void
  readonly dgemm: (a: number, b: number, c: number, m: number, k: number, n: number, work: number) => void
  readonly workspaceBytes: { readonly value: number }
}

/** The slice of the WebAssembly API used here. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => KernelMemory
}

const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const PAGE = 65536
/** The memory's maximum (2 GiB: every byte offset is a non-negative i32), in pages; as declared in dense.wat. */
const MAX_PAGES = 32768
const ALIGN = 64

let compiled: object | undefined
const moduleOnce = (): object => (compiled ??= new (wasmApi().Module)(Buffer.from(denseWasm, "base64")))

interface Block {
  readonly offset: number
  readonly bytes: number
}

/**
 * One instance of the dense kernels with its own memory: `alloc` hands out
 * arrays in that memory, `dgemv` and `dgemm` multiply. Each thread usually
 * needs one, `Dense.kernels()`; `Dense.dgemv` and `Dense.dgemm` use it.
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const k = new Dense.DenseKernels()
 * const a = k.alloc(4) // [[1, 2], [3, 4]], in the kernels' memory: used in place
 * a.set([1, 2, 3, 4])
 * console.log(Array.from(k.dgemv(a, Float64Array.of(1, 1), new Float64Array(2), 2, 2))) // [ 3, 7 ]
 * ```
 */
export class DenseKernels {
  /** The memory the kernels work on (shared: views of it stay valid when it grows). */
  readonly memory: KernelMemory
  readonly #exports: DenseExports
  /**
   * Every `memory.buffer` object seen: an array whose buffer is one of them
   * lives in the memory. (Not just the current one: V8 replaces the buffer
   * objects of every shared memory in the thread when any of them grows.)
   */
  readonly #buffers = new WeakSet<ArrayBufferLike>()
  #heap: Float64Array
  #top = ALIGN
  readonly #live = new Map<number, number>()
  readonly #free: Block[] = []
  readonly #work: number
  #stage: Block = { offset: 0, bytes: 0 }

  constructor() {
    this.memory = new (wasmApi().Memory)({ initial: 1, maximum: MAX_PAGES, shared: true })
    this.#exports = new (wasmApi().Instance)(moduleOnce(), { env: { memory: this.memory } }).exports as DenseExports
    this.#heap = this.#refresh()
    this.#work = this.#reserve(Math.ceil(this.#exports.workspaceBytes.value / ALIGN) * ALIGN)
  }

  /**
   * A zeroed `Float64Array` of `length` elements in the kernels' memory: the
   * kernels use it in place (no copy). Release it with `free` when done.
   */
  alloc(length: number): Float64Array {
    if (!Number.isInteger(length) || length < 0) throw new InvalidArgument("Dense.alloc", "length", length, "must be a non-negative integer")
    const bytes = Math.max(ALIGN, Math.ceil((length * 8) / ALIGN) * ALIGN)
    const offset = this.#reserve(bytes)
    const buffer = this.memory.buffer
    this.#buffers.add(buffer) // V8 hands out a new buffer object when any shared memory grows: register the one this view uses
    const view = new Float64Array(buffer, offset, length)
    view.fill(0)
    return view
  }

  /** Gives back an array from `alloc` (its memory is reused by a later `alloc`; do not use the array afterwards). */
  free(array: Float64Array): void {
    const bytes = this.owns(array) ? this.#live.get(array.byteOffset) : undefined
    if (bytes === undefined) throw new InvalidArgument("Dense.free", "array", `Float64Array(${array.length})`, "is not an array from alloc of these kernels (or was freed already)")
    this.#live.delete(array.byteOffset)
    this.#free.push({ offset: array.byteOffset, bytes })
  }

  /** Whether `array` is a view of the kernels' memory (used in place by the kernels, not copied). */
  owns(array: Float64Array): boolean {
    if (this.#buffers.has(array.buffer)) return true
    const current = this.memory.buffer // a view made by the caller from memory.buffer
    this.#buffers.add(current)
    return array.buffer === current
  }

  /**
   * y = A·x: `y[i] = Σⱼ a[i·cols + j]·x[j]` for the `rows` × `cols`
   * row-major matrix `a`; returns `y`. Each row summed as the even and the odd
   * columns separately, then together (see the module's comment).
   */
  dgemv(a: Float64Array, x: Float64Array, y: Float64Array, rows: number, cols: number): Float64Array {
    size("dgemv", "rows", rows)
    size("dgemv", "cols", cols)
    fits("dgemv", "a", a, rows * cols)
    fits("dgemv", "x", x, cols)
    fits("dgemv", "y", y, rows)
    this.#distinct("dgemv", y, "y", a, "a")
    this.#distinct("dgemv", y, "y", x, "x")
    let at = this.#staging(this.#foreign(a, rows * cols) + this.#foreign(x, cols) + this.#foreign(y, rows))
    const pa = this.#place(a, rows * cols, at, true)
    if (!this.owns(a)) at += bytesOf(rows * cols)
    const px = this.#place(x, cols, at, true)
    if (!this.owns(x)) at += bytesOf(cols)
    const py = this.#place(y, rows, at, false)
    this.#exports.dgemv(pa, px, py, rows, cols)
    if (!this.owns(y)) this.#copyOut(py, y, rows)
    return y
  }

  /**
   * C = A·B for row-major `a` (m × k), `b` (k × n) and `c` (m × n):
   * `c[i·n + j] = Σₚ a[i·k + p]·b[p·n + j]`; returns `c`. Cache-blocked
   * (packed panels, a 4 × 4 register tile); bit-identical to that plain loop.
   */
  dgemm(a: Float64Array, b: Float64Array, c: Float64Array, m: number, k: number, n: number): Float64Array {
    size("dgemm", "m", m)
    size("dgemm", "k", k)
    size("dgemm", "n", n)
    fits("dgemm", "a", a, m * k)
    fits("dgemm", "b", b, k * n)
    fits("dgemm", "c", c, m * n)
    this.#distinct("dgemm", c, "c", a, "a")
    this.#distinct("dgemm", c, "c", b, "b")
    let at = this.#staging(this.#foreign(a, m * k) + this.#foreign(b, k * n) + this.#foreign(c, m * n))
    const pa = this.#place(a, m * k, at, true)
    if (!this.owns(a)) at += bytesOf(m * k)
    const pb = this.#place(b, k * n, at, true)
    if (!this.owns(b)) at += bytesOf(k * n)
    const pc = this.#place(c, m * n, at, false)
    this.#exports.dgemm(pa, pb, pc, m, k, n, this.#work)
    if (!this.owns(c)) this.#copyOut(pc, c, m * n)
    return c
  }

  /** Bytes of staging an argument needs: none when it lives in the memory. */
  #foreign(array: Float64Array, length: number): number {
    return this.owns(array) ? 0 : bytesOf(length)
  }

  /** The byte offset the kernel reads `array` at: its own, or `at` in the staging area (copied in when `input`). */
  #place(array: Float64Array, length: number, at: number, input: boolean): number {
    if (this.owns(array)) return array.byteOffset
    if (input) this.#heap.set(length === array.length ? array : array.subarray(0, length), at / 8)
    return at
  }

  #copyOut(offset: number, out: Float64Array, length: number): void {
    const heap = this.#heap
    const from = offset / 8
    for (let i = 0; i < length; i++) out[i] = heap[from + i]!
  }

  /** A staging area of at least `bytes` (kept and reused between calls); its offset. */
  #staging(bytes: number): number {
    if (bytes <= this.#stage.bytes) return this.#stage.offset
    if (this.#stage.bytes > 0) {
      this.#live.delete(this.#stage.offset)
      this.#free.push(this.#stage)
    }
    const rounded = Math.ceil(bytes / ALIGN) * ALIGN
    this.#stage = { offset: this.#reserve(rounded), bytes: rounded }
    return this.#stage.offset
  }

  /** The output must not overlap an input that lives in the memory too (the kernel would read what it wrote). */
  #distinct(op: string, out: Float64Array, outName: string, input: Float64Array, inputName: string): void {
    if (this.owns(out) && this.owns(input) && out.byteOffset < input.byteOffset + input.byteLength && input.byteOffset < out.byteOffset + out.byteLength)
      throw new InvalidArgument(`Dense.${op}`, outName, `Float64Array(${out.length})`, `overlaps ${inputName}: the output must be a separate array`)
  }

  /** `bytes` (a multiple of ALIGN) of the memory: a freed block that is big enough, or fresh space at the top. */
  #reserve(bytes: number): number {
    const reused = this.#free.findIndex((block) => block.bytes >= bytes)
    if (reused >= 0) {
      const block = this.#free.splice(reused, 1)[0]!
      this.#live.set(block.offset, block.bytes)
      return block.offset
    }
    const offset = this.#top
    const end = offset + bytes
    const have = this.memory.buffer.byteLength
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE)
      const current = have / PAGE
      if (current + pages > MAX_PAGES)
        throw new InvalidArgument("Dense.alloc", "bytes", end, `exceed the kernels' memory (${MAX_PAGES * PAGE} bytes at most)`)
      this.memory.grow(Math.min(MAX_PAGES - current, Math.max(pages, current))) // at least double: few grows
      this.#heap = this.#refresh()
    }
    this.#top = end
    this.#live.set(offset, bytes)
    return offset
  }

  #refresh(): Float64Array {
    const buffer = this.memory.buffer
    this.#buffers.add(buffer)
    return new Float64Array(buffer)
  }
}

const bytesOf = (length: number): number => Math.ceil((length * 8) / ALIGN) * ALIGN

function size(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgument(`Dense.${op}`, name, value, "must be a non-negative integer")
}

function fits(op: string, name: string, array: Float64Array, needed: number): void {
  if (!(array instanceof Float64Array)) throw new InvalidArgument(`Dense.${op}`, name, Object.prototype.toString.call(array), "must be a Float64Array")
  if (array.length < needed) throw new DenseShapeMismatch(`Dense.${op}`, name, needed, array.length)
}

let shared: DenseKernels | undefined

/**
 * This thread's dense kernels (created on first use): what `Dense.dgemv`,
 * `Dense.dgemm` and `Dense.alloc` use.
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const x = Dense.alloc(3)
 * console.log(Dense.kernels().owns(x), Dense.kernels().owns(new Float64Array(3))) // true false
 * ```
 */
export const kernels = (): DenseKernels => (shared ??= new DenseKernels())

/**
 * A zeroed `Float64Array` of `length` elements in this thread's kernel
 * memory: `dgemv`/`dgemm` use it in place, without copying (allocate the
 * operands of a hot loop this way).
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const a = Dense.alloc(6) // a 2 × 3 matrix
 * a.set([1, 2, 3, 4, 5, 6])
 * const y = Dense.alloc(2)
 * Dense.dgemv(a, Float64Array.of(1, 0, -1), y, 2, 3)
 * console.log(Array.from(y)) // [ -2, -2 ]
 * ```
 */
export const alloc = (length: number): Float64Array => kernels().alloc(length)

/**
 * Gives back an array from `Dense.alloc` for reuse.
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const scratch = Dense.alloc(1000)
 * Dense.free(scratch)
 * console.log(Dense.alloc(1000).length) // 1000
 * ```
 */
export const free = (array: Float64Array): void => kernels().free(array)

/**
 * y = A·x for the row-major `rows` × `cols` matrix `a`, in WebAssembly SIMD:
 * `y[i] = Σⱼ a[i·cols + j]·x[j]`, each row summed in two interleaved halves
 * (`s0` over even j, `s1` over odd j, in order; then `s0 + s1`, then the last
 * term when `cols` is odd: a JavaScript loop in that order gives the same
 * bits; the plain loop differs by rounding, ~cols·2⁻⁵³ relative). Returns `y`.
 * Arrays from `Dense.alloc` are used in place, others copied in and out.
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const a = Float64Array.of(1, 2, 3, 4, 5, 6) // [[1, 2, 3], [4, 5, 6]]
 * console.log(Array.from(Dense.dgemv(a, Float64Array.of(1, 1, 1), new Float64Array(2), 2, 3))) // [ 6, 15 ]
 * ```
 */
export const dgemv = (a: Float64Array, x: Float64Array, y: Float64Array, rows: number, cols: number): Float64Array =>
  kernels().dgemv(a, x, y, rows, cols)

/**
 * C = A·B for row-major `a` (m × k), `b` (k × n), `c` (m × n), cache-blocked
 * WebAssembly SIMD: `c[i·n + j] = Σₚ a[i·k + p]·b[p·n + j]`, summed in order
 * p = 0, 1, … so the result is bit-identical to the plain triple loop.
 * Returns `c`. Arrays from `Dense.alloc` are used in place, others copied.
 *
 * @example
 * ```ts
 * import { Dense } from "rankflow"
 * const a = Float64Array.of(1, 2, 3, 4) // [[1, 2], [3, 4]]
 * const b = Float64Array.of(5, 6, 7, 8) // [[5, 6], [7, 8]]
 * console.log(Array.from(Dense.dgemm(a, b, new Float64Array(4), 2, 2, 2))) // [ 19, 22, 43, 50 ]
 * ```
 */
export const dgemm = (a: Float64Array, b: Float64Array, c: Float64Array, m: number, k: number, n: number): Float64Array =>
  kernels().dgemm(a, b, c, m, k, n)

/**
 * A matrix as ml-matrix's `Matrix` (or any object like it) presents itself:
 * its shape and its entries row by row.
 */
export interface MatrixLike {
  /** Number of rows. */
  readonly rows: number
  /** Number of columns. */
  readonly columns: number
  /** The elements in row-major order. */
  to1DArray(): ArrayLike<number>
}

/**
 * The product of two ml-matrix `Matrix` objects (or any `MatrixLike`) by
 * `Dense.dgemm`, as a row-major `Float64Array` of `a.rows` × `b.columns`
 * (`Matrix.from1DArray(a.rows, b.columns, result)` makes it a Matrix again).
 * Bit-identical to the sequential triple loop; the operands are copied into
 * the kernels' memory once.
 *
 * @example
 * ```ts
 * import { Matrix } from "ml-matrix"
 * import { Dense } from "rankflow"
 * const a = new Matrix([[1, 2], [3, 4]])
 * const b = new Matrix([[5, 6], [7, 8]])
 * console.log(Matrix.from1DArray(2, 2, Dense.mmul(a, b)).to2DArray()) // [ [ 19, 22 ], [ 43, 50 ] ]
 * ```
 */
export function mmul(a: MatrixLike, b: MatrixLike): Float64Array {
  if (a.columns !== b.rows) throw new InvalidArgument("Dense.mmul", "b.rows", b.rows, `must equal a.columns = ${a.columns}`)
  const k = kernels()
  const [ka, kb, kc] = [k.alloc(a.rows * a.columns), k.alloc(b.rows * b.columns), k.alloc(a.rows * b.columns)]
  try {
    ka.set(a.to1DArray())
    kb.set(b.to1DArray())
    k.dgemm(ka, kb, kc, a.rows, a.columns, b.columns)
    return kc.slice()
  } finally {
    for (const array of [ka, kb, kc]) k.free(array)
  }
}
