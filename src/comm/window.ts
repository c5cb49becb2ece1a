/**
 * Shared-memory windows: arrays that `comm.alloc` carves, one block per rank,
 * from the job's shared heap, so every rank can read every other rank's block
 * in place. An allreduce whose input and output are windows needs no message
 * for its data: each rank combines its segment of every rank's input straight
 * from shared memory, in rank order, then copies the other segments from
 * their owners — three barriers, one combining pass and one copy, where the
 * transport path copies every byte into a ring and out again.
 *
 * Layer: comm.
 */
import { InvalidArgument } from "../errors.ts"
import { copyBytes } from "../transport/copy.ts"
import { native } from "../transport/native.ts"
import type { TypedArray } from "../transport/ring.ts"
import { isBuiltin, type ElementwiseOp } from "./ops.ts"
import { blockRange } from "./partition.ts"
import { LARGE_ALLREDUCE_BYTES, type Algorithm, type Step } from "./collectives.ts"

/** One collective allocation: `size` blocks of `blockBytes` from heap offset `base`, for communicator `context`. */
export interface Window {
  readonly context: number
  readonly base: number
  readonly blockBytes: number
  readonly size: number
}

/** Codes of the native `combineTo` kernels. */
const OP_CODES: Readonly<Record<string, number>> = { SUM: 0, PROD: 1, MAX: 2, MIN: 3 }

/** An allreduce of Float64 windows, resolved on this rank. */
export interface WindowCall {
  readonly op: ElementwiseOp
  /** The op's native kernel code. */
  readonly code: number
  /** Heap byte offsets of rank 0's input and output; rank q's are `+ q·stride`. */
  readonly input: number
  readonly inputStride: number
  readonly output: number
  readonly outputStride: number
  readonly length: number
}

/** This rank's windows, and the whole heap as one array to address any rank's block. */
export class Windows {
  private readonly windows: Window[] = []
  readonly heap: Float64Array
  private readonly scratch = new Scratch()
  private readonly trees = new Map<number, Tree>()

  /** The transport's association for this call (see `association`), built once per rank count and algorithm. */
  private tree(size: number, length: number): Tree {
    const halving = (size & (size - 1)) === 0 && size > 1 && length * 8 >= LARGE_ALLREDUCE_BYTES && length >= size
    const key = halving ? -size : size
    let tree = this.trees.get(key)
    if (tree === undefined) this.trees.set(key, (tree = association(size, halving)))
    return tree
  }

  /** What this rank calls with, and what a peer does (checked in the first barrier). */
  private readonly mine = new Float64Array(5)
  private readonly theirs = new Float64Array(5)

  constructor(
    /**
     * The memory windows are carved from: the job's shared heap on threads
     * (`WorldMemory.heap`), this process's own heap on MPI (`Links.heap`).
     */
    private readonly heapBuffer: ArrayBuffer | SharedArrayBuffer,
    /** Tells the engine that barriers here follow bulk phases of the peers: spin longer before sleeping. */
    private readonly patient: (on: boolean) => void,
  ) {
    this.heap = new Float64Array(heapBuffer, 0, Math.floor(heapBuffer.byteLength / 8))
    this.heap32 = new Int32Array(heapBuffer, 0, Math.floor(heapBuffer.byteLength / 4))
  }

  /** The heap as 32-bit integers, for atomic operations on Int32 windows. */
  readonly heap32: Int32Array

  /** Whether `array` lies in the shared heap. */
  contains(array: ArrayBufferView): boolean {
    return array.buffer === this.heapBuffer
  }

  add(window: Window): void {
    this.windows.push(window)
  }

  /**
   * The windowed plan of `allreduce(value, op, into)` on communicator
   * `context`, or undefined when it must go through the transport: both
   * arrays Float64 windows of this communicator, the op SUM, PROD, MAX or MIN.
   */
  plan(context: number, rank: number, value: TypedArray, into: TypedArray, op: unknown): WindowCall | undefined {
    if (!isBuiltin(op) || op._tag !== "ElementwiseOp") return undefined
    const code = OP_CODES[op.name]
    if (code === undefined || !(value instanceof Float64Array) || !(into instanceof Float64Array)) return undefined
    const input = this.locate(value, context, rank)
    const output = this.locate(into, context, rank)
    if (input === undefined || output === undefined) return undefined
    return { op, code, input: input.offset, inputStride: input.window.blockBytes, output: output.offset, outputStride: output.window.blockBytes, length: value.length }
  }

  /**
   * Where element `index` of rank `target`'s block lies, for `array` — this
   * rank's block of an Int32 window of communicator `context` — as an index
   * into `heap32`; undefined when `array` is no such window.
   */
  int32Element(array: Int32Array, context: number, rank: number, target: number, index: number): number | undefined {
    const found = this.locate(array, context, rank)
    return found === undefined ? undefined : (found.offset + target * found.window.blockBytes) / 4 + index
  }

  /** The window holding `array` on this rank, and rank 0's byte offset of the same position. */
  private locate(array: ArrayBufferView, context: number, rank: number): { window: Window; offset: number } | undefined {
    if (!this.contains(array)) return undefined
    for (const w of this.windows) {
      const start = w.base + rank * w.blockBytes
      if (w.context !== context || array.byteOffset < start || array.byteOffset + array.byteLength > start + w.blockBytes) continue
      return { window: w, offset: array.byteOffset - rank * w.blockBytes }
    }
    return undefined
  }

  /** The windowed allreduce, as a collective algorithm: barrier (checking every rank's call), combine, barrier, copy, barrier. */
  *allreduce(rank: number, size: number, call: WindowCall): Algorithm<void> {
    this.mine.set([call.code + 8 * call.length, call.input, call.inputStride, call.output, call.outputStride]) // op and length in one number
    this.patient(true)
    try {
      yield* this.barrier(rank, size, true)
      const [from, to] = blockRange(call.length, size, rank)
      combineSegment(this.heap, call, rank, size, from * 8, (to - from) * 8, this.tree(size, call.length), this.scratch)
      yield* this.barrier(rank, size, false)
      for (let q = 0; q < size; q++) {
        if (q === rank) continue
        const [a, b] = blockRange(call.length, size, q)
        copyBytes(this.heap, call.output + rank * call.outputStride + a * 8, this.heap, call.output + q * call.outputStride + a * 8, (b - a) * 8)
      }
      yield* this.barrier(rank, size, false)
    } finally {
      this.patient(false)
    }
  }

  /** A dissemination barrier; with `check`, every rank compares its call with its partners'. */
  private *barrier(rank: number, size: number, check: boolean): Algorithm<void> {
    for (let d = 1; d < size; d *= 2) {
      const step: Step = { to: (rank + d) % size, value: this.mine, from: (rank - d + size) % size, into: this.theirs, reduce: null }
      yield step
      if (check && !this.theirs.every((v, i) => v === this.mine[i]))
        throw new InvalidArgument(
          "allreduce",
          "window",
          `[${[...this.mine].join(", ")}]`,
          `differs from rank ${(rank - d + size) % size}'s [${[...this.theirs].join(", ")}]: every rank must pass the same windows (the same arrays from comm.alloc) and length`,
        )
    }
  }
}

/** How the ranks' values associate: a rank, or (left ⊕ right) with the lower ranks on the left. */
type Tree = number | readonly [Tree, Tree]

/**
 * The association the transport path uses for `size` ranks, so a windowed
 * result equals its result bit for bit: recursive halving (pairs differing in
 * the highest bit first) for large arrays on a power-of-two rank count,
 * otherwise the binomial tree ((0 ⊕ 1) ⊕ (2 ⊕ 3)) ⊕ 4 ….
 */
function association(size: number, halving: boolean): Tree {
  const binomial = (lo: number, hi: number): Tree => {
    if (hi - lo === 1) return lo
    let k = 1
    while (k * 2 < hi - lo) k *= 2
    return [binomial(lo, lo + k), binomial(lo + k, hi)]
  }
  // Halving combines, last, the partials of ranks with bit 0 clear and set; each of those, the ones with bit 1 clear and set; …
  const halved = (ranks: ReadonlyArray<number>): Tree =>
    ranks.length === 1 ? ranks[0]! : [halved(ranks.filter((_, i) => i % 2 === 0)), halved(ranks.filter((_, i) => i % 2 === 1))]
  return halving ? halved(Array.from({ length: size }, (_, r) => r)) : binomial(0, size)
}

/** Scratch segments for inner nodes of the association tree, reused from call to call. */
class Scratch {
  private readonly buffers: Float64Array[] = []
  get(depth: number, doubles: number): Float64Array {
    let b = this.buffers[depth]
    if (b === undefined || b.length < doubles) this.buffers[depth] = b = new Float64Array(doubles)
    return b
  }
}

/** Where a (partial) result lives: an array and a byte offset. */
interface Place {
  array: Float64Array
  offset: number
}

/**
 * out_rank[segment] = the combination of every rank's input segment in the
 * transport's association, over `bytes` bytes from byte `offset` of the
 * segment. In place (output = input) with more than 2 ranks, this rank's own
 * input segment is saved first: the result overwrites it before it is read.
 */
function combineSegment(heap: Float64Array, call: WindowCall, rank: number, size: number, offset: number, bytes: number, tree: Tree, scratch: Scratch): void {
  const out = call.output + rank * call.outputStride + offset
  const input = (q: number) => call.input + q * call.inputStride + offset
  if (bytes === 0) return
  if (size === 1) {
    if (out !== input(0)) copyBytes(heap, out, heap, input(0), bytes)
    return
  }
  let saved: Float64Array | undefined
  if (out === input(rank) && size > 2) {
    saved = scratch.get(0, bytes / 8)
    copyBytes(saved, 0, heap, input(rank), bytes)
  }
  const leaf = (q: number): Place => (q === rank && saved !== undefined ? { array: saved, offset: 0 } : { array: heap, offset: input(q) })
  const evaluate = (node: Tree, into: Place, depth: number): Place => {
    if (typeof node === "number") return leaf(node)
    const left = evaluate(node[0], into, depth + 1)
    const right = evaluate(node[1], { array: scratch.get(depth + 1, bytes / 8), offset: 0 }, depth + 1)
    combine(call, into.array, into.offset, left.array, left.offset, right.array, right.offset, bytes)
    return into
  }
  evaluate(tree, { array: heap, offset: out }, 0)
}

/**
 * out = a ⊕ b over `bytes` bytes of doubles (byte offsets): the native
 * kernel, or the op's own elementwise loop (ops.ts) on views. `out` may be
 * `a` or `b` itself (in place).
 */
function combine(call: WindowCall, out: Float64Array, outOffset: number, a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, bytes: number): void {
  if (native !== undefined) {
    native.combineTo(call.code, out, outOffset, a, aOffset, b, bOffset, bytes, false)
    return
  }
  const view = (array: Float64Array, offset: number) => array.subarray(offset / 8, (offset + bytes) / 8)
  const target = view(out, outOffset)
  if (out === b && outOffset === bOffset) {
    call.op.elementwise(target, view(a, aOffset), true) // out[i] = a[i] ⊕ out[i]
    return
  }
  if (out !== a || outOffset !== aOffset) target.set(view(a, aOffset))
  call.op.elementwise(target, view(b, bOffset))
}
