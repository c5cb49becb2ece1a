/**
 * Allreduce through a transport's native allgather (`Links.bindAllgather`:
 * an MPI send and receive per peer on the MPI transport), bit-identical to the engine's own
 * algorithms: every rank contributes a fixed slot (a header saying what its
 * value is, then up to `NATIVE_PAYLOAD_BYTES` of it), and every rank folds
 * the slots in the engine's combining order — the binary tree over ranks in
 * rank order (lower ranks on the left) that both recursive doubling (2^k
 * ranks) and the binomial reduce + bcast (other counts) compute. So any op
 * gives the same bits as on threads, user Semigroups included, with one
 * native collective instead of ⌈log₂ p⌉ rounds of messages.
 *
 * Values that do not fit (larger typed arrays, bigints, booleans, Locs,
 * objects) make every rank fall back to the engine's algorithms — decided
 * from everyone's header, so all ranks agree, and ranks contributing values
 * of different kinds or lengths fail with ShapeMismatch as on threads
 * instead of waiting in different algorithms.
 *
 * Layer: comm. Knows nothing of MPI: it only calls the allgather it is given.
 */
import type { TypedArray } from "../transport/ring.ts"
import { ShapeMismatch } from "./collectives.ts"
import { combine, describeOperand, type ElementwiseOp, isBuiltin, type ReduceOp } from "./ops.ts"

/** Payload bytes of a rank's slot: up to 8 doubles. */
export const NATIVE_PAYLOAD_BYTES = 64
const HEADER_BYTES = 16
const SLOT_BYTES = HEADER_BYTES + NATIVE_PAYLOAD_BYTES

/**
 * Header words: what the slot holds (OTHER, NUMBER, or TYPED + the index in TYPED_ARRAYS), its
 * length, the call's sequence number, and FITS_8 when the payload is at most 8 bytes: a transport
 * may then carry the slot as those 8 bytes and the header's small words apart (the MPI addon puts
 * them in the message's tag), and rebuilds the same slot on arrival. A slot from another
 * communicator's call arrives with sequence number -1 (`OutOfStep`).
 */
const FITS_8 = 1
const OTHER = 0
const NUMBER = 1
const TYPED = 2

type TypedCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; new (n: number): TypedArray; readonly BYTES_PER_ELEMENT: number }
const TYPED_ARRAYS: ReadonlyArray<TypedCtor> = [
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
] as unknown as ReadonlyArray<TypedCtor>

/**
 * A peer's slot came from another collective call of the communicator (its
 * header carries the call's sequence number): the ranks' collectives are out
 * of step, as when one rank called another collective first.
 */
export class OutOfStep extends Error {
  constructor(
    readonly peer: number,
    /** The sequence number of the peer's call; -1: a call on another communicator. */
    readonly seq: number,
  ) {
    super(seq < 0 ? `rank ${peer} is in a collective call on another communicator` : `rank ${peer} is in collective call #${seq}`)
  }
}

/** Returned when the values are not for the native path: run the engine's algorithm. */
export const NOT_NATIVE: unique symbol = Symbol("NOT_NATIVE")

/**
 * Binds a native allgather of `send`'s bytes from every rank of the
 * communicator, in rank order, into `recv` (once per communicator), and
 * returns the call that runs it with `send`'s current bytes, returning once
 * `recv` is complete.
 */
export type BindAllgather = (send: Uint8Array, recv: Uint8Array) => () => void

const SLOT_INTS = SLOT_BYTES / 4
const SLOT_DOUBLES = SLOT_BYTES / 8
const HEADER_DOUBLES = HEADER_BYTES / 8

/**
 * One communicator's buffers for native allreduces, bound to its allgather
 * once (reused by every call: nothing allocated per call for numbers).
 */
export class NativeAllreduce {
  private readonly send = new ArrayBuffer(SLOT_BYTES)
  private readonly sendBytes = new Uint8Array(this.send)
  private readonly sendHeader = new Int32Array(this.send, 0, 4)
  private readonly sendNumber = new Float64Array(this.send, HEADER_BYTES, 1)
  private readonly recv: ArrayBuffer
  private readonly recvBytes: Uint8Array
  private readonly recvHeader: Int32Array
  private readonly recvDoubles: Float64Array
  /** Every rank's number while a built-in op folds them (unboxed). */
  private readonly numbers: Float64Array
  /** Every rank's value while folding with a user op (numbers), or a typed array op (views on the received slots). */
  private readonly values: unknown[]
  /** Views on the received slots, per typed-array type (made once). */
  private readonly views = new Map<TypedCtor, TypedArray[]>()
  /** Views on the send slot's payload, per index in TYPED_ARRAYS (made once). */
  private readonly sendViews: Array<TypedArray | undefined> = []
  /** Runs the bound allgather of the send slot into the received slots. */
  private readonly exchange: () => void

  constructor(
    private readonly size: number,
    bind: BindAllgather,
  ) {
    this.recv = new ArrayBuffer(SLOT_BYTES * size)
    this.recvBytes = new Uint8Array(this.recv)
    this.recvHeader = new Int32Array(this.recv)
    this.recvDoubles = new Float64Array(this.recv)
    this.numbers = new Float64Array(size)
    this.values = new Array<unknown>(size).fill(0)
    this.exchange = bind(this.sendBytes, this.recvBytes)
  }

  /**
   * Allreduce of `value` with `op` (checked against it by the caller), or
   * NOT_NATIVE when the ranks' values are not for the native path; `seq`:
   * the call's sequence number on the communicator. Throws ShapeMismatch
   * when ranks contribute values of different kinds or lengths, OutOfStep
   * when a peer's slot belongs to another call.
   */
  allreduce(value: unknown, op: ReduceOp<unknown>, into: TypedArray | null, seq = 0): unknown {
    const h = this.sendHeader
    if (typeof value === "number") {
      // The hottest call (a residual, a dot product): written out, no dispatch.
      h[0] = NUMBER
      h[1] = 1
      h[2] = seq
      h[3] = FITS_8
      this.sendNumber[0] = value
      this.exchange()
      if (!this.allSlotsAre(NUMBER, 1, seq)) return this.disagreement(value, seq)
      return isBuiltin(op) && op._tag === "ElementwiseOp" ? this.foldNumbers(op) : this.foldNumbersWith(op)
    }
    const typedIndex = this.typedIndex(value, op)
    h[2] = seq
    if (typedIndex >= 0) {
      const v = value as TypedArray
      h[0] = TYPED + typedIndex
      h[1] = v.length
      h[3] = v.byteLength <= 8 ? FITS_8 : 0
      this.sendViewOf(typedIndex).set(v as never)
    } else {
      h[0] = OTHER
      h[1] = 0
      h[3] = FITS_8
    }
    this.exchange()
    if (!this.allSlotsAre(h[0]!, h[1]!, seq)) return this.disagreement(value, seq)
    if (typedIndex < 0) return NOT_NATIVE
    const Ctor = TYPED_ARRAYS[typedIndex]!
    const views = this.viewsOf(Ctor, h[1]!)
    const values = this.values
    for (let r = 0; r < this.size; r++) values[r] = views[r]
    const total = this.fold(op) as TypedArray
    const out = into ?? new Ctor(total.length)
    out.set(total as never)
    return out
  }

  /** True when every received slot's header says `kind`, `length` and call `seq` (this rank's own included). */
  private allSlotsAre(kind: number, length: number, seq: number): boolean {
    const rh = this.recvHeader
    for (let at = 0, end = this.size * SLOT_INTS; at < end; at += SLOT_INTS) {
      if (rh[at] !== kind || rh[at + 1] !== length || rh[at + 2] !== seq) return false
    }
    return true
  }

  /**
   * The slots differ: OutOfStep for a slot of another call (first), else
   * NOT_NATIVE when no rank's value fits, else ShapeMismatch naming a peer
   * whose value differs from this rank's.
   */
  private disagreement(value: unknown, seq: number): typeof NOT_NATIVE {
    const rh = this.recvHeader
    const h = this.sendHeader
    for (let r = 0; r < this.size; r++) if (rh[r * SLOT_INTS + 2] !== seq) throw new OutOfStep(r, rh[r * SLOT_INTS + 2]!)
    let others = 0
    for (let r = 0; r < this.size; r++) {
      if (rh[r * SLOT_INTS] === OTHER) others++
      else if (rh[r * SLOT_INTS] !== h[0] || rh[r * SLOT_INTS + 1] !== h[1]) return this.mismatch(r, value)
    }
    if (others === this.size) return NOT_NATIVE
    return this.mismatch(this.firstOther(), value)
  }

  /**
   * Numbers with a built-in elementwise op (what `combine` calls for two
   * numbers), in the engine's combining order (see `fold`), unboxed:
   * nothing allocated.
   */
  private foldNumbers(op: ElementwiseOp): number {
    const d = this.recvDoubles
    const n = this.size
    // Two ranks: the tree is one concat.
    if (n === 2) return op.concat(d[HEADER_DOUBLES]!, d[SLOT_DOUBLES + HEADER_DOUBLES]!)
    const x = this.numbers
    for (let r = 0; r < n; r++) x[r] = d[r * SLOT_DOUBLES + HEADER_DOUBLES]!
    for (let m = 1; m < n; m <<= 1) {
      for (let r = 0; r + m < n; r += 2 * m) x[r] = op.concat(x[r]!, x[r + m]!)
    }
    return x[0]!
  }

  /** Numbers with any other op (a user op: whatever its concat returns), through `combine`, in the same order. */
  private foldNumbersWith(op: ReduceOp<unknown>): unknown {
    const values = this.values
    const d = this.recvDoubles
    for (let r = 0; r < this.size; r++) values[r] = d[r * SLOT_DOUBLES + HEADER_DOUBLES]
    return this.fold(op)
  }

  /**
   * The engine's combining order: pairs of aligned blocks of 1, 2, 4, …
   * ranks, the lower block on the left; typed arrays are combined in place
   * (into the received slots, rewritten by the next call).
   */
  private fold(op: ReduceOp<unknown>): unknown {
    const values = this.values
    const n = this.size
    for (let m = 1; m < n; m <<= 1) {
      for (let r = 0; r + m < n; r += 2 * m) values[r] = combine(op, values[r], values[r + m])
    }
    return values[0]
  }

  /** Index in TYPED_ARRAYS of a typed array that fits a slot and reduces elementwise with a built-in op; -1 otherwise. */
  private typedIndex(value: unknown, op: ReduceOp<unknown>): number {
    if (!ArrayBuffer.isView(value) || value.byteLength > NATIVE_PAYLOAD_BYTES || !isBuiltin(op) || op._tag !== "ElementwiseOp") return -1
    return TYPED_ARRAYS.indexOf(value.constructor as TypedCtor)
  }

  private viewsOf(Ctor: TypedCtor, length: number): TypedArray[] {
    let views = this.views.get(Ctor)
    if (views === undefined || views[0]!.length !== length) {
      views = []
      for (let r = 0; r < this.size; r++) views.push(new Ctor(this.recv, r * SLOT_BYTES + HEADER_BYTES, length))
      this.views.set(Ctor, views)
    }
    return views
  }

  private sendViewOf(typedIndex: number): TypedArray {
    let view = this.sendViews[typedIndex]
    if (view === undefined) {
      const Ctor = TYPED_ARRAYS[typedIndex]!
      view = new Ctor(this.send, HEADER_BYTES, NATIVE_PAYLOAD_BYTES / Ctor.BYTES_PER_ELEMENT)
      this.sendViews[typedIndex] = view
    }
    return view
  }

  private firstOther(): number {
    for (let r = 0; r < this.size; r++) if (this.recvHeader[r * SLOT_INTS] === OTHER) return r
    return -1
  }

  /** Ranks contribute values of different kinds or lengths: ShapeMismatch naming the first such peer (never this rank). */
  private mismatch(peer: number, value: unknown): never {
    const code = this.recvHeader[peer * SLOT_INTS]!
    const length = this.recvHeader[peer * SLOT_INTS + 1]!
    const theirs = code === NUMBER ? "a number" : code >= TYPED ? `${TYPED_ARRAYS[code - TYPED]!.name}(${length})` : "a value of another kind or size"
    const mine = ArrayBuffer.isView(value) ? `${value.constructor.name}(${(value as TypedArray).length})` : describeOperand(value)
    throw new ShapeMismatch(peer, `this rank contributes ${mine}, rank ${peer} contributes ${theirs}`)
  }
}
