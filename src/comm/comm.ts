/**
 * The communicator: mpi4py's vocabulary in camelCase over the message engine.
 * One `send` for every value — typed arrays and ArrayBuffers travel as raw
 * bytes, everything else is serialized — with `Status.transport` saying which
 * path a message took. Arguments are validated on every call (ranks, tags,
 * buffers) and rejected with a tagged `InvalidArgument` naming what is wrong.
 *
 * Collectives run the algorithms of `collectives.ts` on a second context id,
 * so they never match point-to-point traffic; each message's tag carries the
 * call's opcode, root and sequence number, so a rank that meets a message from
 * a different collective fails with `CollectiveMismatch` instead of hanging,
 * and tells every other rank (mismatch.ts). Blocking calls in which a rank
 * could only send (bcast, scatter, gather, reduce, scan) agree on the call
 * first, so a mismatch fails before any rank returns a value.
 *
 * Layer: comm.
 */
import type { Semigroup } from "fp-ts/lib/Semigroup.js"
import { parentPort } from "node:worker_threads"
import { CollectiveMismatch, InvalidArgument, RecvTruncated, RecvTypeMismatch, ReduceTypeMismatch } from "../errors.ts"
import type { Sink, TypedArray } from "../transport/ring.ts"
import * as C from "./collectives.ts"
import { ANY_SOURCE, ANY_TAG, type Engine, type PendingRecv, type PendingSend, type RecvTarget } from "./engine.ts"
import { describeOperand, isBuiltin, isWindowOp, rejects, type ElementwiseOp, type Loc, type LocOp, type ReduceOp, type WindowOp } from "./ops.ts"
import { isMismatchSignal, MISMATCH_FOUND, MISMATCH_REPORT, MISMATCH_SIGNAL, mismatchFromReport, type MismatchReport } from "./mismatch.ts"
import { NativeAllreduce, NOT_NATIVE, OutOfStep } from "./nativeReduce.ts"
import { COMPLETED_SEND, PersistentRequest, PROC_NULL_DONE, procNullRecv, Request, syncPending, syncSendRequest } from "./request.ts"
import { Status } from "./status.ts"

/**
 * What a result may be: values that can travel between ranks — numbers,
 * strings, typed arrays, plain objects and arrays — not functions (`never`
 * for a function type). Values TypeScript cannot rule out (a class instance
 * holding a function) fail at run time with NotSerializable.
 */
export type Sendable<A> = A & (A extends (...args: never[]) => unknown ? never : unknown)

export { ANY_SOURCE, ANY_TAG }

/**
 * The null rank (MPI_PROC_NULL): sends to it and receives from it complete at
 * once and do nothing (a receive returns undefined).
 *
 * @example
 * ```ts
 * import { init, PROC_NULL } from "rankflow"
 * const comm = await init()
 * // A line of ranks: the ends have no neighbour, and need no special case.
 * const left = comm.rank > 0 ? comm.rank - 1 : PROC_NULL
 * const right = comm.rank < comm.size - 1 ? comm.rank + 1 : PROC_NULL
 * const fromLeft = comm.sendrecv<number>(comm.rank, right, 0, left, 0)
 * console.log(`rank ${comm.rank} got ${fromLeft}`) // rank 0 got undefined, rank 1 got 0
 * ```
 */
export const PROC_NULL = -2
/**
 * `split` color meaning "not in any new communicator" (MPI_UNDEFINED): those
 * ranks get null.
 *
 * @example
 * ```ts
 * import { init, UNDEFINED } from "rankflow"
 * const comm = await init()
 * const evens = comm.split(comm.rank % 2 === 0 ? 0 : UNDEFINED)
 * console.log(comm.rank, evens === null ? "not in evens" : `evens: rank ${evens.rank} of ${evens.size}`)
 * ```
 */
export const UNDEFINED = -32766

/** What `comm.abort` tells the supervisor (on the rank's control port). */
export interface AbortReport {
  readonly type: "abort"
  /** World rank of the caller. */
  readonly rank: number
  readonly code: number
  readonly reason: string
}

/**
 * Largest user tag (MPI_TAG_UB): tags are integers in [0, TAG_UB].
 *
 * @example
 * ```ts
 * import { init, TAG_UB } from "rankflow"
 * const comm = await init()
 * if (comm.rank === 0) comm.send("on the last tag", comm.size - 1, TAG_UB)
 * if (comm.rank === comm.size - 1) console.log(comm.recv(0, TAG_UB), TAG_UB) // on the last tag 1073741823
 * ```
 */
export const TAG_UB = 0x3fff_ffff

/**
 * The in-place marker (MPI_IN_PLACE): passed instead of a collective's input,
 * it says the input is already in the output buffer, which the call
 * overwrites with the result:
 * `allreduce(IN_PLACE, op, buffer)`, `reduce` (at the root),
 * `scan`/`exscan`, `allgather(IN_PLACE, buffer)`, `gather` (at the root),
 * `alltoall(IN_PLACE, buffer)`; and
 * `scatter(values, root, IN_PLACE)` leaves the root's block in `values`
 * (a view, no copy).
 *
 * @example
 * ```ts
 * import { init, IN_PLACE, SUM } from "rankflow"
 * const comm = await init()
 * const x = Float64Array.of(comm.rank, 1)
 * comm.allreduce(IN_PLACE, SUM, x) // x now holds the sums, on every rank
 * const blocks = new Int32Array(comm.size).fill(-1)
 * blocks[comm.rank] = comm.rank * 10 // this rank's block, already in place
 * comm.allgather(IN_PLACE, blocks)
 * console.log(x[1], [...blocks]) // size, [0, 10, …]
 * ```
 */
export const IN_PLACE: unique symbol = Symbol.for("rankflow.IN_PLACE")

/** A buffer `recvInto` can fill: any typed array, an ArrayBuffer or a DataView. */
export type RecvBuffer = TypedArray | ArrayBuffer | DataView

/** Number-valued ops: the built-in elementwise ops or any fp-ts Semigroup of numbers. */
type NumberOp = ElementwiseOp | Semigroup<number>

/** Any op, as the implementations see it (the overloads give the precise types). */
type AnyOp = { readonly concat: (x: never, y: never) => unknown }

/** The identity mapping for the world communicator. */
type Group = Int32Array | null

/**
 * Context id of every rank's self communicator (`comm.self`): messages on it
 * never leave the rank, so one constant serves all ranks; far above the ids
 * `newContext` hands out, below the engine's SYNC/ACK context bits.
 */
const SELF_CONTEXT = 0x1000_0000

/** Each engine's self communicator, made on first use. */
const selves = new WeakMap<Engine, Comm>()

/** A collective in progress, driven step by step from the progress engine (nonblocking form). */
class CollectiveOperation<R> {
  done = false
  value: R | undefined = undefined
  error: Error | null = null
  private sending: PendingSend | null = null
  private receiving: PendingRecv | null = null
  private from = -1

  constructor(
    private readonly comm: Comm,
    private readonly call: CallInfo,
    private readonly algorithm: C.Algorithm<R>,
  ) {
    this.advance(undefined)
  }

  /** Called by the progress engine: moves on while steps complete; true when finished. */
  poll(): boolean {
    if (this.done) return true
    if (this.sending !== null && !this.sending.done) return false
    if (this.receiving !== null && !this.receiving.done) return false
    let received: unknown = undefined
    const r = this.receiving
    if (r !== null) {
      this.receiving = null
      try {
        this.comm._checkCollectiveMessage(this.call, this.from, r.status, r.error, r.into as TypedArray | null)
      } catch (error) {
        return this.fail(error as Error)
      }
      received = r.value
    }
    this.sending = null
    return this.advance(received)
  }

  private advance(received: unknown): boolean {
    try {
      const step = this.algorithm.next(received)
      if (step.done) {
        this.value = step.value
        this.done = true
        this.comm._finishNonblocking()
        return true
      }
      const s = step.value
      this.sending = s.to >= 0 ? this.comm._isendCollective(s.value, s.to, this.call) : null
      if (s.from >= 0) {
        this.from = s.from
        this.receiving = this.comm._irecvCollective(s.from, s.into, this.call.tag, s.reduce)
      }
    } catch (error) {
      return this.fail(error as Error)
    }
    return this.poll()
  }

  private fail(error: Error): true {
    this.error = this.comm._collectiveError(error, this.call)
    this.done = true
    this.comm._finishNonblocking()
    return true
  }
}

/** The identity of one collective call: what the tags of its messages say. */
interface CallInfo {
  readonly op: number
  readonly root: number
  readonly seq: number
  readonly tag: number
}

const callTag = (op: number, root: number, seq: number): number => ((seq & 0x7fff) << 15) | ((root & 0x3ff) << 5) | op
const decodeTag = (tag: number): { op: string; root: number; seq: number } => ({
  op: C.COLLECTIVE_NAMES[tag & 0x1f] ?? `op ${tag & 0x1f}`,
  root: (tag >> 5) & 0x3ff,
  seq: (tag >> 15) & 0x7fff,
})

/**
 * A group of ranks that exchange messages (MPI_Comm). The world communicator
 * comes from `init()` (or the function run by `runRanks`); `split`, `dup` and
 * `cart` derive others whose messages never mix with it.
 *
 * @example
 * ```ts
 * import { init, SUM } from "rankflow"
 * const comm = await init()
 * if (comm.rank === 0) comm.send({ hello: "world" }, 1 % comm.size, 11)
 * if (comm.rank === 1 % comm.size) console.log(comm.recv(0, 11))
 * console.log(comm.allreduce(comm.rank, SUM)) // 0 + 1 + … + (size − 1) on every rank
 * ```
 */
export class Comm {
  /** This rank's number in the communicator, `0 ≤ rank < size`. */
  readonly rank: number
  /** Number of ranks in the communicator. */
  readonly size: number
  /** Collectives called so far on this communicator (the next one's sequence number). */
  private seq = 0
  /**
   * Nonblocking collectives still running. While there are none, collective
   * receives take any tag from the expected rank, so a message of another
   * collective is caught at once as a mismatch; while there are, receives
   * select their own call's tag (several collectives are in flight).
   */
  private outstanding = 0
  private readonly collectiveStatus = new Status()
  /** Temporary arrays of blocking collectives, reused from call to call. */
  private readonly workspace = C.poolingWorkspace()
  /** World rank → rank in this communicator (-1: not a member); null for the world itself. */
  private readonly fromWorld: Int32Array | null

  /** @internal */
  constructor(
    /** This rank's message engine, shared by every communicator derived from the world. */
    protected readonly engine: Engine,
    /** Context id of point-to-point traffic; `context + 1` carries collectives. */
    protected readonly context: number,
    /** This communicator's rank → world rank, or null for the world. */
    protected readonly group: Group = null,
  ) {
    if (group === null) {
      this.rank = engine.rank
      this.size = engine.size
      this.fromWorld = null
    } else {
      this.size = group.length
      this.fromWorld = new Int32Array(engine.size).fill(-1)
      group.forEach((world, r) => (this.fromWorld![world] = r))
      this.rank = this.fromWorld[engine.rank]!
    }
  }

  // ---- point-to-point -----------------------------------------------------

  /**
   * Sends `value` to `dest` (MPI_Send). Returns once the caller may reuse
   * `value`; small messages never wait for the receiver.
   */
  send(value: unknown, dest: number, tag = 0): void {
    const d = this.checkDest("send", dest)
    if (d !== PROC_NULL) this.engine.send(value, d, this.checkTag("send", tag), this.context)
  }

  /**
   * Receives the next matching message and returns it (MPI_Recv). Typed
   * arrays arrive as the same typed array type; objects are deserialized.
   * Pass a `Status` to learn the source, tag and size.
   */
  recv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): T {
    return this.receive("recv", source, tag, null, status) as T
  }

  /**
   * Receives a buffer message into `buffer` (MPI_Recv with a buffer): no
   * allocation. The message must have the buffer's element type and fit in
   * it (`RecvTypeMismatch`, `RecvTruncated` otherwise); `status.count` says
   * how many elements arrived.
   */
  recvInto<B extends RecvBuffer>(buffer: B, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): B {
    this.receive("recvInto", source, tag, checkBuffer("recvInto", buffer), status)
    return buffer
  }

  /**
   * Sends to `dest` and receives from `source` in one deadlock-free call
   * (MPI_Sendrecv), e.g. a shift around a ring of ranks.
   */
  sendrecv<T = unknown>(
    value: unknown,
    dest: number,
    sendTag = 0,
    source: number = ANY_SOURCE,
    recvTag: number = ANY_TAG,
    status?: Status,
  ): T {
    const sent = this.isend(value, dest, sendTag)
    const received = this.recv<T>(source, recvTag, status)
    sent.wait()
    return received
  }

  /**
   * Sends `value` to `dest` and receives into `buffer` from `source` in one
   * deadlock-free call (MPI_Sendrecv with buffers): no allocation, e.g. for
   * halo exchanges. Sends to or receives from PROC_NULL do nothing.
   */
  sendrecvInto<B extends RecvBuffer>(
    value: unknown,
    dest: number,
    sendTag: number,
    buffer: B,
    source: number = ANY_SOURCE,
    recvTag: number = ANY_TAG,
    status?: Status,
  ): B {
    const sent = this.isend(value, dest, sendTag)
    this.recvInto(buffer, source, recvTag, status)
    sent.wait()
    return buffer
  }

  /** Starts a send (MPI_Isend); the value must not change until the request completes. */
  isend(value: unknown, dest: number, tag = 0): Request<void> {
    const d = this.checkDest("isend", dest)
    if (d === PROC_NULL) return COMPLETED_SEND
    const pending = this.engine.isend(value, d, this.checkTag("isend", tag), this.context)
    return pending === null ? COMPLETED_SEND : new Request<void>(this.engine, pending)
  }

  /** Starts a receive (MPI_Irecv); `wait()` returns the value. */
  irecv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<T> {
    return this.startRecv<T>("irecv", source, tag, null)
  }

  /** Starts a receive into `buffer` (MPI_Irecv with a buffer); `wait()` returns the buffer. */
  irecvInto<B extends RecvBuffer>(buffer: B, source: number = ANY_SOURCE, tag: number = ANY_TAG): Request<B> {
    return this.startRecv<B>("irecvInto", source, tag, checkBuffer("irecvInto", buffer))
  }

  /**
   * Synchronous send (MPI_Ssend): returns only once a receive on `dest` has
   * matched the message, never on buffering alone.
   *
   * **When to use**: to find code that works only because sends are
   * buffered — a program that exchanges with `ssend` both ways at once
   * deadlocks (and rankflow reports the cycle) where `send` would have
   * hidden it; or as a handshake ("the receiver has started").
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * if (comm.rank === 0) comm.ssend({ n: 42 }, 1) // returns once rank 1's recv has matched it
   * if (comm.rank === 1) console.log(comm.recv(0))
   * ```
   */
  ssend(value: unknown, dest: number, tag = 0): void {
    const d = this.checkDest("ssend", dest)
    if (d !== PROC_NULL) this.engine.ssend(value, d, this.checkTag("ssend", tag), this.context)
  }

  /**
   * Starts a synchronous send (MPI_Issend): the request completes once a
   * receive on `dest` has matched the message.
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * const peer = comm.size - 1 - comm.rank
   * const request = comm.issend(`hi from ${comm.rank}`, peer)
   * console.log(comm.recv(peer), request.test() || (request.wait(), "matched")) // the peer's hi
   * ```
   */
  issend(value: unknown, dest: number, tag = 0): Request<void> {
    const d = this.checkDest("issend", dest)
    if (d === PROC_NULL) return procNullRecv<void>()
    return syncSendRequest(this.engine, this.engine.issend(value, d, this.checkTag("issend", tag), this.context))
  }

  /**
   * A persistent send (MPI_Send_init): `start()` sends `value` (read at each
   * start) to `dest`, `wait()` completes the round. Inactive until started.
   * See `PersistentRequest`.
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * const peer = comm.size - 1 - comm.rank
   * const box = new Int32Array(1)
   * const out = comm.sendInit(box, peer, 5), back = comm.recvInit<Int32Array>(peer, 5)
   * let last = -1
   * for (box[0] = 0; box[0] < 3; box[0]++) {
   *   out.start(); back.start()
   *   last = back.wait()[0]!; out.wait()
   * }
   * console.log(last) // 2
   * ```
   */
  sendInit(value: unknown, dest: number, tag = 0): PersistentRequest<void> {
    const d = this.checkDest("sendInit", dest)
    const t = this.checkTag("sendInit", tag)
    return new PersistentRequest<void>(this.engine, () => (d === PROC_NULL ? null : this.engine.isend(value, d, t, this.context)))
  }

  /** A persistent synchronous send (MPI_Ssend_init): each round completes once a receive has matched it. */
  ssendInit(value: unknown, dest: number, tag = 0): PersistentRequest<void> {
    const d = this.checkDest("ssendInit", dest)
    const t = this.checkTag("ssendInit", tag)
    return new PersistentRequest<void>(this.engine, () => (d === PROC_NULL ? null : syncPending(this.engine.issend(value, d, t, this.context))))
  }

  /** A persistent receive (MPI_Recv_init): each `start()` posts a receive, `wait()` returns the value. */
  recvInit<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG): PersistentRequest<T> {
    return this.persistentRecv<T>("recvInit", source, tag, null)
  }

  /** A persistent receive into `buffer` (MPI_Recv_init with a buffer): every round fills the same buffer. */
  recvInitInto<B extends RecvBuffer>(buffer: B, source: number = ANY_SOURCE, tag: number = ANY_TAG): PersistentRequest<B> {
    return this.persistentRecv<B>("recvInitInto", source, tag, checkBuffer("recvInitInto", buffer))
  }

  private persistentRecv<T>(op: string, source: number, tag: number, into: RecvTarget): PersistentRequest<T> {
    const s = this.checkSource(op, source)
    const t = this.checkRecvTag(op, tag)
    return new PersistentRequest<T>(this.engine, () => (s === PROC_NULL ? PROC_NULL_DONE : this.engine.postRecv(s, t, this.context, into)), this.fromWorld)
  }

  /**
   * Sends `buffer`'s contents to `dest` and receives into the same buffer
   * from `source` (MPI_Sendrecv_replace): one deadlock-free call, e.g. a
   * shift around a ring with a single array. The outgoing data is copied
   * once first (the incoming message may overwrite it while it is sent).
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * const right = (comm.rank + 1) % comm.size, left = (comm.rank - 1 + comm.size) % comm.size
   * const data = new Float64Array(3).fill(comm.rank)
   * comm.sendrecvReplace(data, right, 0, left, 0)
   * console.log(`rank ${comm.rank} now holds rank ${data[0]}'s data`)
   * ```
   */
  sendrecvReplace<B extends RecvBuffer>(
    buffer: B,
    dest: number,
    sendTag = 0,
    source: number = ANY_SOURCE,
    recvTag: number = ANY_TAG,
    status?: Status,
  ): B {
    checkBuffer("sendrecvReplace", buffer)
    const sent = this.isend(dest === PROC_NULL ? buffer : copyOf(buffer), dest, sendTag)
    this.recvInto(buffer, source, recvTag, status)
    sent.wait()
    return buffer
  }

  /**
   * This rank alone, as a communicator of size 1 (MPI_COMM_SELF): every
   * call of the vocabulary works on it, collectives included, and its
   * messages never mix with any other communicator's. The same object on
   * every call.
   *
   * @example
   * ```ts
   * import { init, SUM } from "rankflow"
   * const comm = await init()
   * const self = comm.self
   * self.send("to myself", 0, 1)
   * console.log(self.rank, self.size, self.recv(0, 1), self.allreduce(comm.rank, SUM) === comm.rank) // 0 1 to myself true
   * ```
   */
  get self(): Comm {
    let self = selves.get(this.engine)
    if (self === undefined) {
      self = new Comm(this.engine, SELF_CONTEXT, Int32Array.of(this.engine.rank))
      selves.set(this.engine, self)
    }
    return self
  }

  /** Blocks until a matching message has arrived and returns its envelope, leaving it to be received (MPI_Probe). */
  probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status: Status = new Status()): Status {
    const s = this.checkSource("probe", source)
    if (s === PROC_NULL) return nullStatus(status)
    this.engine.probe(s, this.checkRecvTag("probe", tag), this.context, status)
    return this.localStatus(status)
  }

  /** The envelope of a matching message if one has arrived, else undefined; never blocks (MPI_Iprobe). */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status: Status = new Status()): Status | undefined {
    const s = this.checkSource("iprobe", source)
    if (s === PROC_NULL) return nullStatus(status)
    const found = this.engine.iprobe(s, this.checkRecvTag("iprobe", tag), this.context, status)
    return found ? this.localStatus(status) : undefined
  }

  /** Seconds since an arbitrary point on this rank, sub-microsecond resolution (MPI_Wtime). */
  wtime(): number {
    return performance.now() / 1000
  }

  /**
   * Ends the whole job now (MPI_Abort): every rank of the world is stopped,
   * whatever it is doing, the supervisor prints `reason` naming this rank,
   * and the job exits with `code` (a code outside 1–255 becomes 1: an aborted
   * job never exits 0). Never returns.
   *
   * **When to use**: a rank found a condition that makes going on pointless
   * (bad input, a failed check) and the job should end with an exit code of
   * the program's choosing. A thrown error ends the job too (exit 1, with its
   * stack). `process.exit` in a rank ends only that rank's thread, which fails
   * the job and says to use `abort`.
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * const n = comm.bcast(comm.rank === 0 ? 42 : undefined) as number
   * if (!(n > 0)) comm.abort(3, `bad input: n = ${n}`) // every rank stops; the job exits 3
   * console.log(`rank ${comm.rank}: n = ${n}`)
   * ```
   */
  abort(code = 1, reason = ""): never {
    const exitCode = Number.isInteger(code) && code > 0 && code < 256 ? code : 1
    const report: AbortReport = { type: "abort", rank: this.engine.rank, code: exitCode, reason: String(reason) }
    if (parentPort === null) {
      process.stderr.write(`rank ${report.rank} called comm.abort(${exitCode})${report.reason === "" ? "" : `: ${report.reason}`}\n`)
      process.exit(exitCode)
    }
    parentPort.postMessage(report)
    // The supervisor stops every rank, this one included; until then this thread does nothing more.
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }

  // ---- collectives --------------------------------------------------------

  /** Blocks until every rank of the communicator has called `barrier` (dissemination, ⌈log₂ p⌉ rounds). */
  barrier(): void {
    this.collective(C.CollectiveOp.barrier, 0, C.barrier(this.rank, this.size))
  }

  /** Nonblocking barrier (MPI_Ibarrier). */
  ibarrier(): Request<void> {
    return this.icollective(C.CollectiveOp.barrier, 0, C.barrier(this.rank, this.size))
  }

  /**
   * Broadcasts the root's `value` to every rank and returns it (MPI_Bcast,
   * ⌈log₂ p⌉ dissemination rounds that also check that every rank made the
   * same call, so the root returns once every rank has entered). Other ranks'
   * `value` is ignored (pass undefined).
   */
  bcast<T>(value: T | undefined, root = 0): T {
    const r = this.checkRoot("bcast", root)
    return this.collective(C.CollectiveOp.bcast, r, C.bcastAgreeing(this.rank, this.size, r, value as T, null))
  }

  /** Broadcasts the root's `buffer` into every rank's `buffer` in place (same type and length everywhere). */
  bcastInto<A extends TypedArray>(buffer: A, root = 0): A {
    const r = this.checkRoot("bcastInto", root)
    this.collective(C.CollectiveOp.bcast, r, C.bcastAgreeing(this.rank, this.size, r, buffer, buffer))
    return buffer
  }

  /** Nonblocking broadcast (MPI_Ibcast); `wait()` returns the value. */
  ibcast<T>(value: T | undefined, root = 0): Request<T> {
    const r = this.checkRoot("ibcast", root)
    return this.icollective(C.CollectiveOp.bcast, r, C.bcast(this.rank, this.size, r, value as T, null))
  }

  /**
   * Scatters from the root (MPI_Scatter): an array of `size` values gives
   * rank i `values[i]`; a typed array is split into blocks whose sizes differ
   * by at most one (remainder to the first ranks). Others pass undefined.
   */
  scatter<A extends TypedArray>(values: A | undefined, root?: number, inPlace?: typeof IN_PLACE): A
  scatter<T>(values: ReadonlyArray<T> | undefined, root?: number, inPlace?: typeof IN_PLACE): T
  scatter(values: ReadonlyArray<unknown> | TypedArray | undefined, root = 0, inPlace?: typeof IN_PLACE): unknown {
    const r = this.checkRoot("scatter", root)
    if (inPlace !== undefined && inPlace !== IN_PLACE) throw new InvalidArgument("scatter", "inPlace", String(inPlace), "must be IN_PLACE or left out")
    return this.collective(C.CollectiveOp.scatter, r, C.scatter(this.rank, this.size, r, this.rank === r ? values : undefined, inPlace === IN_PLACE))
  }

  /** Scatters a typed array in blocks of `counts[i]` elements (at `displs[i]`, default consecutive) (MPI_Scatterv). */
  scatterv<A extends TypedArray>(values: A | undefined, counts: ReadonlyArray<number> | undefined, root = 0, displs?: ReadonlyArray<number>): A {
    const r = this.checkRoot("scatterv", root)
    return this.collective(C.CollectiveOp.scatterv, r, C.scatterv(this.rank, this.size, r, values, counts, displs))
  }

  /**
   * Every rank's value in rank order on the root, undefined elsewhere
   * (MPI_Gather). In place at the root — `gather(IN_PLACE, root, buffer)`,
   * the other ranks passing typed blocks of `buffer.length / size` — rank r's
   * block lands in block r of `buffer` (the root's own block is already there).
   */
  gather<A extends TypedArray>(value: typeof IN_PLACE, root: number, buffer: A): A
  gather<T>(value: T, root?: number): T[] | undefined
  gather(value: unknown, root = 0, buffer?: TypedArray): unknown {
    const r = this.checkRoot("gather", root)
    if (value === IN_PLACE) {
      if (this.rank !== r) throw new InvalidArgument("gather", "value", "IN_PLACE", `is for the root (rank ${r}) only; other ranks pass their block`)
      return this.collective(C.CollectiveOp.gather, r, C.gatherInPlace(this.rank, this.size, this.inPlaceBuffer("gather", buffer, true)))
    }
    return this.collective(C.CollectiveOp.gather, r, C.gather(this.rank, this.size, r, value))
  }

  /** Typed blocks of any lengths concatenated in rank order on the root (MPI_Gatherv). */
  gatherv<A extends TypedArray>(block: A, root = 0): A | undefined {
    const r = this.checkRoot("gatherv", root)
    return this.collective(C.CollectiveOp.gatherv, r, C.gatherv(this.rank, this.size, r, block))
  }

  /**
   * Every rank's value in rank order, on every rank (MPI_Allgather). In
   * place — `allgather(IN_PLACE, buffer)` on every rank — block r of
   * `buffer` (`buffer.length / size` elements) is rank r's contribution, and
   * every block is filled on every rank.
   */
  allgather<A extends TypedArray>(value: typeof IN_PLACE, buffer: A): A
  allgather<T>(value: T): T[]
  allgather(value: unknown, buffer?: TypedArray): unknown {
    if (value === IN_PLACE) return this.collective(C.CollectiveOp.allgather, 0, C.allgatherInPlace(this.rank, this.size, this.inPlaceBuffer("allgather", buffer, true)))
    return this.collective(C.CollectiveOp.allgather, 0, C.allgather(this.rank, this.size, value))
  }

  /** Typed blocks of any lengths concatenated in rank order, on every rank (MPI_Allgatherv). */
  allgatherv<A extends TypedArray>(block: A): A {
    return this.collective(C.CollectiveOp.allgatherv, 0, C.allgatherv(this.rank, this.size, block))
  }

  /**
   * Reduces every rank's value with `op` in rank order; the result on the
   * root, undefined elsewhere (MPI_Reduce). Typed arrays reduce elementwise
   * (built-in ops); objects need a Semigroup/Monoid (fp-ts).
   */
  reduce<A extends TypedArray>(value: A, op: ElementwiseOp, root?: number, into?: A): A | undefined
  reduce(value: Float64Array, op: LocOp, root?: number, into?: Float64Array): Float64Array | undefined
  reduce(value: number, op: NumberOp, root?: number): number | undefined
  reduce(value: bigint, op: ElementwiseOp | Semigroup<bigint>, root?: number): bigint | undefined
  reduce(value: boolean, op: ElementwiseOp | Semigroup<boolean>, root?: number): boolean | undefined
  reduce(value: Loc, op: LocOp, root?: number): Loc | undefined
  reduce<T>(value: T, op: Semigroup<T>, root?: number): T | undefined
  reduce<A extends TypedArray>(value: typeof IN_PLACE, op: ElementwiseOp | LocOp, root: number, buffer: A): A
  reduce(value: unknown, op: AnyOp, root = 0, into?: TypedArray): unknown {
    const r = this.checkRoot("reduce", root)
    if (value === IN_PLACE) {
      if (this.rank !== r) throw new InvalidArgument("reduce", "value", "IN_PLACE", `is for the root (rank ${r}) only; other ranks pass their value`)
      value = this.inPlaceBuffer("reduce", into, false)
    }
    const out = checkInto("reduce", value, into)
    return this.collective(C.CollectiveOp.reduce, r, C.reduce(this.rank, this.size, r, value, checkOp("reduce", op, value, this.rank), this.workspace, out))
  }

  /**
   * Reduces every rank's value with `op`; the result on every rank,
   * bit-identical (MPI_Allreduce). Typed arrays may be reduced into `into`
   * (same type and length; `value` itself for in place) to allocate nothing.
   */
  allreduce<A extends TypedArray>(value: A, op: ElementwiseOp, into?: A): A
  allreduce(value: Float64Array, op: LocOp, into?: Float64Array): Float64Array
  allreduce(value: number, op: NumberOp): number
  allreduce(value: bigint, op: ElementwiseOp | Semigroup<bigint>): bigint
  allreduce(value: boolean, op: ElementwiseOp | Semigroup<boolean>): boolean
  allreduce(value: Loc, op: LocOp): Loc
  allreduce<T>(value: T, op: Semigroup<T>): T
  allreduce<A extends TypedArray>(value: typeof IN_PLACE, op: ElementwiseOp | LocOp, buffer: A): A
  allreduce(value: unknown, op: AnyOp, into?: TypedArray): unknown {
    if (value === IN_PLACE) value = this.inPlaceBuffer("allreduce", into, false)
    const checked = checkOp("allreduce", op, value, this.rank)
    const out = checkInto("allreduce", value, into)
    const windowed = out === null || !this.engine.sharedWindows ? undefined : this.engine.windows.plan(this.context, this.rank, value as TypedArray, out, checked)
    if (windowed !== undefined) {
      this.collective(C.CollectiveOp.allreduceWindow, 0, this.engine.windows.allreduce(this.rank, this.size, windowed))
      return out
    }
    if (this.size > 1 && this.engine.bindAllgather !== undefined) return this.nativeAllreduce(value, checked, out)
    return this.collective(C.CollectiveOp.allreduce, 0, C.allreduce(this.rank, this.size, value, checked, this.workspace, out))
  }

  private native: NativeAllreduce | undefined

  /** This communicator's native allreduce, bound to the transport's allgather once; the engine's traffic moves while it waits. */
  private bindNative(): NativeAllreduce {
    const engine = this.engine
    return new NativeAllreduce(this.size, (send, recv) => {
      const gather = engine.bindAllgather!(this.context, this.group, send, recv)
      return () => {
        if (!gather.start()) engine.waitDone(gather)
      }
    })
  }

  /**
   * Allreduce with one native allgather where the values fit it, else the
   * engine's algorithm; the same bits either way. The call is entered once
   * (its sequence number, trace and what the deadlock watcher sees) as any
   * collective; every rank takes the same branch (decided from everyone's
   * contribution), so the engine's algorithm runs as that same call.
   */
  private nativeAllreduce(value: unknown, op: ReduceOp<unknown>, out: TypedArray | null): unknown {
    const native = (this.native ??= this.bindNative())
    const seq = this.enter(C.CollectiveOp.allreduce, 0)
    const trace = this.engine.trace
    const since = trace === null ? 0 : trace.clock()
    let result: unknown
    try {
      result = native.allreduce(value, op, out, seq)
    } catch (error) {
      throw this.nativeFailure(error as Error, seq, since)
    }
    if (result === NOT_NATIVE) return this.runCollective(callInfo(C.CollectiveOp.allreduce, 0, seq), C.allreduce(this.rank, this.size, value, op, this.workspace, out), since)
    this._leaveCollective()
    if (trace !== null) trace.collectiveEnds(C.CollectiveOp.allreduce, since)
    return result
  }

  /** Leaves a native allreduce that failed; the error to throw, naming the call. */
  private nativeFailure(error: Error, seq: number, since: number): Error {
    this._leaveCollective()
    if (this.engine.trace !== null) this.engine.trace.collectiveEnds(C.CollectiveOp.allreduce, since)
    if (error instanceof OutOfStep) {
      // A slot carries no more than its call's number: the peer's earlier call is what differs.
      const mine = { op: "allreduce", root: 0, seq }
      // -1: the peer's slot came from an allreduce on another communicator.
      const theirs = error.seq < 0 ? { op: "a collective on another communicator", root: 0, seq: -1 } : { ...mine, seq: error.seq }
      return new CollectiveMismatch(this.rank, error.peer, mine, theirs, "calls out of step: a rank called another collective before this allreduce")
    }
    return this._collectiveError(error, callInfo(C.CollectiveOp.allreduce, 0, seq))
  }

  /**
   * Allocates a typed array in the job's shared memory: a window (collective —
   * every rank calls it with the same length, MPI_Win_allocate_shared). An
   * `allreduce` whose input and output are windows of this communicator reads
   * the other ranks' blocks in place instead of sending them: for large Float64
   * arrays and SUM, PROD, MAX, MIN, several times faster. Windows live until
   * the job ends; the heap holds RANKFLOW_SHARED_HEAP_MIB mebibytes (default 256).
   *
   * @example
   * ```ts
   * import { init, SUM } from "rankflow"
   * const comm = await init()
   * const x = comm.alloc(Float64Array, 1 << 20).fill(comm.rank + 1)
   * comm.allreduce(x, SUM, x) // in place, through shared memory
   * console.log(x[0]) // size(size + 1)/2
   * ```
   */
  alloc<A extends TypedArray>(type: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => A, length: number): A {
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidArgument("alloc", "length", length, "must be a non-negative integer")
    const element = (type as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT
    if (element === undefined) throw new InvalidArgument("alloc", "type", (type as { name?: string }).name, "must be a typed array constructor")
    const blockBytes = Math.ceil((length * element) / 64) * 64
    const proposal = Float64Array.of(this.rank === 0 ? this.engine.reserveHeap(blockBytes * this.size) : 0, blockBytes)
    const [base, agreed] = this.collective(C.CollectiveOp.alloc, 0, C.bcast(this.rank, this.size, 0, proposal, this.rank === 0 ? null : proposal))
    if (agreed !== blockBytes)
      throw new InvalidArgument("alloc", "length", length, `differs from rank 0's (${agreed! / element} elements after rounding): every rank allocates the same length`)
    if (base! < 0)
      throw new InvalidArgument("alloc", "length", length, `× ${this.size} ranks does not fit the shared heap of ${this.engine.heapBytes / 2 ** 20} MiB (RANKFLOW_SHARED_HEAP_MIB)`)
    this.engine.windows.add({ context: this.context, base: base!, blockBytes, size: this.size })
    return new type(this.engine.heap, base! + this.rank * blockBytes, length)
  }

  /**
   * Atomically adds `value` to element `index` of rank `target`'s block of a
   * window (`window` is this rank's Int32Array from `alloc`) and returns the
   * element's value before (MPI_Fetch_and_op with MPI_SUM). One-sided: the
   * target takes no part. A shared counter deals work on demand this way.
   *
   * @example
   * ```ts
   * import { init } from "rankflow"
   * const comm = await init()
   * const counter = comm.alloc(Int32Array, 1) // zeroed
   * comm.barrier()
   * const mine = comm.fetchAndAdd(counter, 0, 0, 1) // a ticket from rank 0's counter
   * const all = comm.gather(mine, 0)
   * if (all) console.log([...all].sort((a, b) => a - b).join() === [...all.keys()].join()) // true: each ticket once
   * ```
   */
  fetchAndAdd(window: Int32Array, target: number, index: number, value: number): number {
    if (!Number.isInteger(target) || target < 0 || target >= this.size)
      throw new InvalidArgument("fetchAndAdd", "target", target, `must be a rank in [0, ${this.size})`)
    if (!Number.isInteger(index) || index < 0 || index >= window.length)
      throw new InvalidArgument("fetchAndAdd", "index", index, `must be an index of the window's ${window.length} elements`)
    const at = window instanceof Int32Array ? this.engine.windows.int32Element(window, this.context, this.rank, target, index) : undefined
    if (at === undefined) throw new InvalidArgument("fetchAndAdd", "window", window?.constructor?.name, "must be an Int32Array from this communicator's alloc")
    return this.engine.fetchAndAdd(at, target, value)
  }

  /**
   * Atomically combines element `index` of rank `target`'s block of a window
   * with `value` — the element becomes `op(element, value)` — and returns its
   * value before (MPI_Fetch_and_op). `op` is SUM, PROD, MAX, MIN, LAND, LOR,
   * BAND, BOR, or the window-only REPLACE (an atomic swap) and NO_OP (an
   * atomic read). One-sided: the target takes no part.
   *
   * @example
   * ```ts
   * import { init, MAX } from "rankflow"
   * const comm = await init()
   * const best = comm.alloc(Int32Array, 1)
   * comm.barrier()
   * comm.fetchAndOp(best, 0, 0, 100 + comm.rank, MAX)
   * comm.barrier()
   * if (comm.rank === 0) console.log(best[0]) // 100 + size − 1
   * ```
   */
  fetchAndOp(window: Int32Array, target: number, index: number, value: number, op: ElementwiseOp | WindowOp): number {
    const heap = this.engine.windows.heap32
    const at = this.windowElement("fetchAndOp", window, target, index)
    if (!Number.isFinite(value)) throw new InvalidArgument("fetchAndOp", "value", value, "must be a finite number (the window holds 32-bit integers)")
    const name = (op as { name?: unknown } | null)?.name
    if (!isWindowOp(op) && !(isBuiltin(op) && op._tag === "ElementwiseOp"))
      throw new InvalidArgument("fetchAndOp", "op", typeof name === "string" ? name : String(op), "must be a built-in elementwise op (SUM, PROD, MAX, MIN, LAND, LOR, BAND, BOR), REPLACE or NO_OP")
    switch (op.name) {
      case "SUM":
        return Atomics.add(heap, at, value)
      case "REPLACE":
        return Atomics.exchange(heap, at, value)
      case "NO_OP":
        return Atomics.load(heap, at)
      case "BAND":
        return Atomics.and(heap, at, value)
      case "BOR":
        return Atomics.or(heap, at, value)
    }
    // The others: compare-and-swap until no other rank changed the element in between.
    for (;;) {
      const old = Atomics.load(heap, at)
      if (Atomics.compareExchange(heap, at, old, op.concat(old, value) | 0) === old) return old
    }
  }

  /**
   * Atomically combines element `index` of rank `target`'s block of a window
   * with `value` (MPI_Accumulate of one element): `fetchAndOp` without the
   * fetch. With REPLACE it is an atomic put.
   *
   * @example
   * ```ts
   * import { init, SUM } from "rankflow"
   * const comm = await init()
   * const total = comm.alloc(Int32Array, 1)
   * comm.barrier()
   * comm.accumulate(total, 0, 0, comm.rank + 1, SUM)
   * comm.barrier()
   * if (comm.rank === 0) console.log(total[0]) // size(size + 1)/2
   * ```
   */
  accumulate(window: Int32Array, target: number, index: number, value: number, op: ElementwiseOp | WindowOp): void {
    this.fetchAndOp(window, target, index, value, op)
  }

  /** The heap32 index of element `index` of `target`'s block of `window`, checked. */
  private windowElement(call: string, window: Int32Array, target: number, index: number): number {
    if (!Number.isInteger(target) || target < 0 || target >= this.size)
      throw new InvalidArgument(call, "target", target, `must be a rank in [0, ${this.size})`)
    if (!(window instanceof Int32Array)) throw new InvalidArgument(call, "window", (window as object | null)?.constructor?.name, "must be an Int32Array from this communicator's alloc")
    if (!Number.isInteger(index) || index < 0 || index >= window.length)
      throw new InvalidArgument(call, "index", index, `must be an index of the window's ${window.length} elements`)
    const at = this.engine.windows.int32Element(window, this.context, this.rank, target, index)
    if (at === undefined) throw new InvalidArgument(call, "window", window.constructor.name, "must be an Int32Array from this communicator's alloc")
    return at
  }

  /** Nonblocking allreduce (MPI_Iallreduce); `wait()` returns the result. */
  iallreduce<A extends TypedArray>(value: A, op: ElementwiseOp): Request<A>
  iallreduce(value: number, op: NumberOp): Request<number>
  iallreduce<T>(value: T, op: Semigroup<T>): Request<T>
  iallreduce(value: unknown, op: AnyOp): Request<unknown> {
    return this.icollective(C.CollectiveOp.allreduce, 0, C.allreduce(this.rank, this.size, value, checkOp("iallreduce", op, value, this.rank), C.allocatingWorkspace))
  }

  /** Inclusive prefix reduction: rank i gets v₀ ⊕ … ⊕ vᵢ (MPI_Scan). */
  scan<A extends TypedArray>(value: A, op: ElementwiseOp): A
  scan(value: number, op: NumberOp): number
  scan<T>(value: T, op: Semigroup<T>): T
  scan<A extends TypedArray>(value: typeof IN_PLACE, op: ElementwiseOp | LocOp, buffer: A): A
  scan(value: unknown, op: AnyOp, buffer?: TypedArray): unknown {
    const input = value === IN_PLACE ? this.inPlaceBuffer("scan", buffer, false) : value
    const result = this.collective(C.CollectiveOp.scan, 0, C.scan(this.rank, this.size, input, checkOp("scan", op, input, this.rank), false, this.workspace))
    if (value !== IN_PLACE) return result
    buffer!.set(result as never)
    return buffer
  }

  /** Exclusive prefix reduction: rank i gets v₀ ⊕ … ⊕ vᵢ₋₁, rank 0 undefined (MPI_Exscan). */
  exscan<A extends TypedArray>(value: A, op: ElementwiseOp): A | undefined
  exscan(value: number, op: NumberOp): number | undefined
  exscan<T>(value: T, op: Semigroup<T>): T | undefined
  /** In place: `buffer` holds the input and receives the result; rank 0's is left as it was (MPI leaves it undefined). */
  exscan<A extends TypedArray>(value: typeof IN_PLACE, op: ElementwiseOp | LocOp, buffer: A): A
  exscan(value: unknown, op: AnyOp, buffer?: TypedArray): unknown {
    const input = value === IN_PLACE ? this.inPlaceBuffer("exscan", buffer, false) : value
    const result = this.collective(C.CollectiveOp.exscan, 0, C.scan(this.rank, this.size, input, checkOp("exscan", op, input, this.rank), true, this.workspace))
    if (value !== IN_PLACE) return result
    if (result !== undefined) buffer!.set(result as never)
    return buffer
  }

  /**
   * Personalized all-to-all: `values[j]` goes to rank j; returns what each
   * rank sent here (MPI_Alltoall). In place — `alltoall(IN_PLACE, buffer)` —
   * block j of `buffer` (`buffer.length / size` elements) goes to rank j and
   * is replaced by rank j's block for this rank.
   */
  alltoall<A extends TypedArray>(values: typeof IN_PLACE, buffer: A): A
  alltoall<T>(values: ReadonlyArray<T>): T[]
  alltoall(values: unknown, buffer?: TypedArray): unknown {
    if (values === IN_PLACE) return this.collective(C.CollectiveOp.alltoall, 0, C.alltoallInPlace(this.rank, this.size, this.inPlaceBuffer("alltoall", buffer, true)))
    return this.collective(C.CollectiveOp.alltoall, 0, C.alltoall(this.rank, this.size, values as ReadonlyArray<unknown>))
  }

  /**
   * Reduce-scatter (MPI_Reduce_scatter): the elementwise reduction of every
   * rank's `values` (one type and length everywhere, `counts` summing to
   * that length), of which rank i gets `counts[i]` consecutive elements.
   * Combined in rank order: bit-identical to the matching slice of `allreduce`.
   *
   * @example
   * ```ts
   * import { init, SUM } from "rankflow"
   * const comm = await init()
   * const counts = Array.from({ length: comm.size }, (_, r) => r + 1) // rank r gets r + 1 sums
   * const values = new Float64Array(counts.reduce((a, b) => a + b)).fill(comm.rank + 1)
   * console.log(comm.rank, [...comm.reduceScatter(values, counts, SUM)]) // each element: size(size+1)/2
   * ```
   */
  reduceScatter<A extends TypedArray>(values: A, counts: ReadonlyArray<number>, op: ElementwiseOp | LocOp | Semigroup<A>): A {
    if (!ArrayBuffer.isView(values) || values instanceof DataView) throw new InvalidArgument("reduceScatter", "values", describeOperand(values), "must be a typed array")
    if (!Array.isArray(counts) || counts.length !== this.size || counts.some((c) => !Number.isInteger(c) || c < 0))
      throw new InvalidArgument("reduceScatter", "counts", `[${Array.isArray(counts) ? counts.join(", ") : String(counts)}]`, `must be ${this.size} non-negative integers, one per rank`)
    const total = counts.reduce((a, b) => a + b, 0)
    if (total !== values.length) throw new InvalidArgument("reduceScatter", "counts", `[${counts.join(", ")}]`, `sum to ${total}, not to the ${values.length} values`)
    return this.collective(C.CollectiveOp.reduceScatter, 0, C.reduceScatter(this.rank, this.size, values, counts, checkOp("reduceScatter", op, values, this.rank) as ReduceOp<A>, this.workspace))
  }

  /**
   * Reduce-scatter in equal blocks (MPI_Reduce_scatter_block): rank i gets
   * elements `[i·n, (i+1)·n)` of the elementwise reduction, n = length / size.
   *
   * @example
   * ```ts
   * import { init, MAX } from "rankflow"
   * const comm = await init()
   * const values = Int32Array.from({ length: 2 * comm.size }, (_, i) => i * comm.rank)
   * console.log(comm.rank, [...comm.reduceScatterBlock(values, MAX)]) // rank r: [2r(size−1), (2r+1)(size−1)]
   * ```
   */
  reduceScatterBlock<A extends TypedArray>(values: A, op: ElementwiseOp | LocOp | Semigroup<A>): A {
    if (!ArrayBuffer.isView(values) || values instanceof DataView) throw new InvalidArgument("reduceScatterBlock", "values", describeOperand(values), "must be a typed array")
    if (values.length % this.size !== 0)
      throw new InvalidArgument("reduceScatterBlock", "values", `${values.constructor.name}(${values.length})`, `must hold a whole block per rank: a length divisible by ${this.size}`)
    const counts = new Array<number>(this.size).fill(values.length / this.size)
    return this.collective(C.CollectiveOp.reduceScatterBlock, 0, C.reduceScatter(this.rank, this.size, values, counts, checkOp("reduceScatterBlock", op, values, this.rank) as ReduceOp<A>, this.workspace))
  }

  /** The buffer of an IN_PLACE call, checked: a typed array (of `size` equal blocks when `blocks`). */
  private inPlaceBuffer(call: string, buffer: TypedArray | undefined, blocks: boolean): TypedArray {
    if (!ArrayBuffer.isView(buffer) || buffer instanceof DataView)
      throw new InvalidArgument(call, "buffer", describeOperand(buffer), "must be a typed array holding the input (and receiving the result) when the value is IN_PLACE")
    if (blocks && buffer.length % this.size !== 0)
      throw new InvalidArgument(call, "buffer", `${buffer.constructor.name}(${buffer.length})`, `must hold one equal block per rank: a length divisible by ${this.size}`)
    return buffer
  }

  /** All-to-all of typed blocks: `counts[j]` consecutive values go to rank j; returns the received blocks and counts (MPI_Alltoallv). */
  alltoallv<A extends TypedArray>(values: A, counts: ReadonlyArray<number>): { data: A; counts: number[] } {
    return this.collective(C.CollectiveOp.alltoallv, 0, C.alltoallv(this.rank, this.size, values, counts))
  }

  // ---- new communicators ----------------------------------------------------

  /**
   * Splits into disjoint communicators, one per `color`, ranked by `key`
   * then by rank (MPI_Comm_split). Ranks passing `UNDEFINED` get null.
   */
  split(color: number, key = 0): Comm | null {
    if (!Number.isInteger(color) || (color < 0 && color !== UNDEFINED))
      throw new InvalidArgument("split", "color", color, "must be a non-negative integer or UNDEFINED")
    const members = this.collective(C.CollectiveOp.split, 0, C.allgather(this.rank, this.size, [color, key, this.rank] as const))
    const mine = members.filter(([c]) => c === color && color !== UNDEFINED).sort((a, b) => a[1] - b[1] || a[2] - b[2])
    // Every group's first member allocates a fresh context and tells the others.
    const leaders = new Map<number, number>()
    for (const [c, , r] of members) if (c !== UNDEFINED && (!leaders.has(c) || (leaders.get(c) ?? r) > r)) leaders.set(c, r)
    const contexts = this.collective(
      C.CollectiveOp.split,
      0,
      C.allgather(this.rank, this.size, leaders.get(color) === this.rank ? this.engine.newContext() : -1),
    )
    if (color === UNDEFINED) return null
    const context = contexts[leaders.get(color)!]!
    return new Comm(this.engine, context, Int32Array.from(mine, ([, , r]) => this.worldRank(r)))
  }

  /** A communicator with the same ranks whose messages never mix with this one's (MPI_Comm_dup). */
  dup(): Comm {
    return new Comm(this.engine, this.agreeOnContext(), this.memberWorldRanks())
  }

  // ---- internals shared with subclasses and the collective driver -----------

  /** @internal Blocking waits of this rank spin up to `ms` each before sleeping, until called with 0 (see Engine.spinFor): halo exchanges. */
  spinFor(ms: number): void {
    this.engine.spinFor(ms)
  }

  /** @internal a fresh context id, the same on every rank (collective). */
  protected agreeOnContext(): number {
    return this.collective(C.CollectiveOp.dup, 0, C.bcast(this.rank, this.size, 0, this.rank === 0 ? this.engine.newContext() : 0, null))
  }

  /** @internal the world ranks of this communicator's members, in order. */
  protected memberWorldRanks(): Int32Array {
    return this.group ?? Int32Array.from({ length: this.size }, (_, r) => r)
  }

  /** @internal */
  protected worldRank(rank: number): number {
    return this.group === null ? rank : this.group[rank]!
  }

  /** Runs a collective algorithm to completion with blocking sends and receives. */
  private collective<R>(op: number, root: number, algorithm: C.Algorithm<R>): R {
    const call = this.enterCollective(op, root)
    return this.runCollective(call, algorithm, this.engine.trace === null ? 0 : this.engine.trace.clock())
  }

  /** Runs the algorithm of `call` (entered: see `enter`) to completion with blocking sends and receives, then leaves the call. */
  private runCollective<R>(call: CallInfo, algorithm: C.Algorithm<R>, since: number): R {
    const op = call.op
    const ctx = this.context + 1
    // Calls where a rank may only send first agree on the call (see `C.agreeing`): a mismatch fails before any value is returned.
    const steps = this.size > 1 && C.AGREEING.has(op) ? C.agreeing(this.rank, this.size, algorithm) : algorithm
    try {
      let step = steps.next()
      while (!step.done) {
        const s = step.value
        let received: unknown = undefined
        if (s.to >= 0 && s.from >= 0) {
          const sending = this.engine.isend(s.value, this.worldRank(s.to), call.tag, ctx)
          received = this.receiveCollective(call, s.from, s.into, s.reduce)
          if (sending !== null) this.engine.waitDone(sending)
        } else if (s.to >= 0) {
          this.engine.send(s.value, this.worldRank(s.to), call.tag, ctx)
        } else {
          received = this.receiveCollective(call, s.from, s.into, s.reduce)
        }
        step = steps.next(received)
      }
      return step.value
    } catch (error) {
      const failure = this._collectiveError(error as Error, call)
      // Different calls are spread to every rank; a size or type clash is told by the ranks that meet it.
      if (failure instanceof CollectiveMismatch && failure.theirs !== undefined) this.spreadMismatch(call, { rank: failure.rank, call: failure.mine, peer: failure.peer, peerCall: failure.theirs })
      throw failure
    } finally {
      this._leaveCollective()
      if (this.engine.trace !== null) this.engine.trace.collectiveEnds(op, since)
    }
  }

  /** Tells every other rank of a mismatch this rank met in `call` (see mismatch.ts), without blocking. */
  private spreadMismatch(call: CallInfo, report: MismatchReport): void {
    for (let r = 0; r < this.size; r++) {
      if (r === this.rank) continue
      this._isendCollective(MISMATCH_SIGNAL, r, { ...call, tag: callTag(MISMATCH_FOUND, 0, call.seq) })
      this._isendCollective(report, r, { ...call, tag: callTag(MISMATCH_REPORT, 0, call.seq) })
    }
  }

  /** Starts a collective algorithm whose steps the progress engine drives. */
  private icollective<R>(op: number, root: number, algorithm: C.Algorithm<R>): Request<R> {
    this.outstanding++
    const operation = new CollectiveOperation(this, this.enterCollective(op, root), algorithm)
    if (!operation.done) this.engine.addPoller(operation)
    return new Request<R>(this.engine, operation)
  }

  private enterCollective(op: number, root: number): CallInfo {
    return callInfo(op, root, this.enter(op, root))
  }

  /** Enters collective call `op`: traced, numbered (its sequence number, returned) and published for the deadlock watcher (the internal leave method ends it). */
  private enter(op: number, root: number): number {
    this.engine.trace?.collective(op)
    const seq = this.seq++
    this.engine.enterCollective(op, seq, root)
    return seq
  }

  /**
   * @internal The end of a rank's program (MPI_Finalize): a barrier, after
   * which every collective message ever sent has arrived; one still unreceived
   * means the ranks called different collectives.
   */
  _finalize(): void {
    this.barrier()
    const left = this.engine.leftoverCollective()
    if (left === undefined) return
    const mine = { op: "the end of its program", root: 0, seq: this.seq }
    throw new CollectiveMismatch(this.rank, left.source, mine, decodeTag(left.tag), "unreceived collective message")
  }

  /** @internal */
  _leaveCollective(): void {
    this.engine.enterCollective(-1, 0, 0)
  }

  /** @internal a nonblocking collective has completed (or failed). */
  _finishNonblocking(): void {
    this.outstanding--
  }

  private receiveCollective(call: CallInfo, from: number, into: TypedArray | null, reduce: Sink | null): unknown {
    const status = this.collectiveStatus
    status.tag = -1
    let value: unknown = undefined
    let error: Error | null = null
    const tag = this.outstanding > 0 ? call.tag : ANY_TAG
    try {
      value =
        reduce === null
          ? this.engine.recv(this.worldRank(from), tag, this.context + 1, into, status)
          : this.engine.waitRecv(this.engine.postRecv(this.worldRank(from), tag, this.context + 1, into, reduce), status)
    } catch (e) {
      error = e as Error
    }
    this._checkCollectiveMessage(call, from, status, error, into)
    return value
  }

  /** @internal Verifies that a collective message belongs to `call` and fits; throws `CollectiveMismatch` if not. */
  _checkCollectiveMessage(call: CallInfo, from: number, status: Status, error: Error | null, into: TypedArray | null): void {
    const mine = { op: C.COLLECTIVE_NAMES[call.op]!, root: call.root, seq: call.seq }
    if (isMismatchSignal(status.tag) && this.outstanding === 0) // the report follows the signal from the same rank
      throw mismatchFromReport(this.rank, mine, this.engine.recv(this.worldRank(from), ANY_TAG, this.context + 1, null, null) as MismatchReport)
    if (status.tag >= 0 && status.tag !== call.tag)
      throw new CollectiveMismatch(this.rank, from, mine, decodeTag(status.tag), "different calls")
    if (error instanceof RecvTruncated)
      throw new CollectiveMismatch(this.rank, from, mine, undefined, `rank ${from} sent ${error.messageBytes} bytes, this rank expects ${error.bufferBytes}`)
    if (error instanceof RecvTypeMismatch)
      throw new CollectiveMismatch(this.rank, from, mine, undefined, `rank ${from} sent ${error.received}, this rank expects ${error.expected}`)
    if (error !== null) throw error
    if (into !== null && status.bytes !== into.byteLength)
      throw new CollectiveMismatch(this.rank, from, mine, undefined, `rank ${from} sent ${status.bytes} bytes, this rank expects ${into.byteLength}`)
  }

  /** @internal Turns an algorithm's shape complaint into a tagged error naming the call. */
  _collectiveError(error: Error | C.ShapeMismatch, call: CallInfo): Error {
    if (!(error instanceof C.ShapeMismatch)) return error
    return new CollectiveMismatch(this.rank, error.peer, { op: C.COLLECTIVE_NAMES[call.op]!, root: call.root, seq: call.seq }, undefined, error.detail)
  }

  /** @internal */
  _isendCollective(value: unknown, to: number, call: CallInfo): PendingSend | null {
    return this.engine.isend(value, this.worldRank(to), call.tag, this.context + 1)
  }

  /** @internal */
  _irecvCollective(from: number, into: TypedArray | null, tag: number, reduce: Sink | null): PendingRecv {
    return this.engine.postRecv(this.worldRank(from), tag, this.context + 1, into, reduce)
  }

  // ---- validation and rank translation ----------------------------------------

  private receive(op: string, source: number, tag: number, into: RecvTarget, status: Status | undefined): unknown {
    const s = this.checkSource(op, source)
    if (s === PROC_NULL) {
      if (status !== undefined) nullStatus(status)
      return undefined
    }
    const value = this.engine.recv(s, this.checkRecvTag(op, tag), this.context, into, status ?? null)
    if (status !== undefined) this.localStatus(status)
    return value
  }

  private startRecv<T>(op: string, source: number, tag: number, into: RecvTarget): Request<T> {
    const s = this.checkSource(op, source)
    if (s === PROC_NULL) return procNullRecv<T>()
    return new Request<T>(this.engine, this.engine.postRecv(s, this.checkRecvTag(op, tag), this.context, into), this.fromWorld)
  }

  /** Rewrites a status's world source as a rank of this communicator. */
  private localStatus(status: Status): Status {
    if (this.fromWorld !== null && status.source >= 0) status.source = this.fromWorld[status.source]!
    return status
  }

  // The checks below run on every message: their errors are built elsewhere (badRank, badTag) so
  // that they stay small enough for V8 to inline into the send and receive paths.

  private checkRoot(op: string, root: number): number {
    if (Number.isInteger(root) && root >= 0 && root < this.size) return root
    throw badRank(op, "root", root, this.size, "")
  }

  private checkDest(op: string, dest: number): number {
    if (dest === PROC_NULL) return dest
    if (Number.isInteger(dest) && dest >= 0 && dest < this.size) return this.worldRank(dest)
    throw badRank(op, "dest", dest, this.size, " or PROC_NULL")
  }

  private checkSource(op: string, source: number): number {
    if (source === ANY_SOURCE || source === PROC_NULL) return source
    if (Number.isInteger(source) && source >= 0 && source < this.size) return this.worldRank(source)
    throw badRank(op, "source", source, this.size, ", ANY_SOURCE or PROC_NULL")
  }

  private checkTag(op: string, tag: number): number {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return tag
    throw badTag(op, tag)
  }

  private checkRecvTag(op: string, tag: number): number {
    return tag === ANY_TAG ? tag : this.checkTag(op, tag)
  }
}

/** A rank argument outside [0, size) (`also`: the special values it may take besides). */
function badRank(op: string, name: string, value: number, size: number, also: string): InvalidArgument {
  return new InvalidArgument(op, name, value, `must be a rank in [0, ${size})${also}`)
}

function badTag(op: string, tag: number): InvalidArgument {
  return new InvalidArgument(op, "tag", tag, `must be an integer in [0, ${TAG_UB}]`)
}

function nullStatus(status: Status): Status {
  status.set(PROC_NULL, ANY_TAG, 0, 0)
  return status
}

/** A private copy of a buffer's bytes, of the same kind. */
function copyOf<B extends RecvBuffer>(buffer: B): B {
  if (buffer instanceof ArrayBuffer) return buffer.slice(0) as B
  if (buffer instanceof DataView) return new DataView(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)) as B
  return (buffer as TypedArray).slice() as B
}

function checkBuffer<B extends RecvBuffer>(op: string, buffer: B): B {
  if (ArrayBuffer.isView(buffer) || buffer instanceof ArrayBuffer) return buffer
  throw new InvalidArgument(op, "buffer", Object.prototype.toString.call(buffer), "must be a typed array, ArrayBuffer or DataView")
}

/** The identity of collective call `seq` of `op` with `root`, and the tag its messages carry. */
function callInfo(op: number, root: number, seq: number): CallInfo {
  return { op, root, seq, tag: callTag(op, root, seq) }
}

/** The output array of a typed reduction: same type and length as the value, or none. */
function checkInto(call: string, value: unknown, into: TypedArray | undefined): TypedArray | null {
  if (into === undefined) return null
  if (!ArrayBuffer.isView(value) || into.constructor !== value.constructor || into.length !== (value as TypedArray).length)
    throw new InvalidArgument(call, "into", `${into.constructor.name}(${into.length})`, "must have the type and length of the value")
  return into
}

/** The op, checked, and checked against this rank's `value` when it is a built-in (a typeof or two: nothing per element). */
function checkOp(call: string, op: unknown, value: unknown, rank: number): ReduceOp<unknown> {
  if (typeof op !== "object" || op === null || typeof (op as { concat?: unknown }).concat !== "function")
    throw new InvalidArgument(call, "op", String(op), "must be a reduction op (SUM, MAX, …) or an fp-ts Semigroup/Monoid")
  if (isWindowOp(op))
    throw new InvalidArgument(call, "op", op.name, "is for window updates only (fetchAndOp, accumulate), as in MPI: reductions take SUM, MAX, … or a Semigroup")
  if (isBuiltin(op)) {
    const accepts = rejects(op, value)
    if (accepts !== undefined) throw new ReduceTypeMismatch(rank, call, op.name, describeOperand(value), accepts)
  }
  return op as ReduceOp<unknown>
}
