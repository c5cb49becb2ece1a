/**
 * The communicator: mpi4py's vocabulary in camelCase over the message engine.
 * One `send` for every value — typed arrays and ArrayBuffers travel as raw
 * bytes, everything else is serialized — with `Status.transport` saying which
 * path a message took. Arguments are validated on every call (ranks, tags,
 * buffers) and rejected with a tagged `InvalidArgument` naming what is wrong.
 *
 * Layer: comm.
 */
import { InvalidArgument } from "../errors.ts"
import type { TypedArray } from "../transport/ring.ts"
import { ANY_SOURCE, ANY_TAG, type Engine, type RecvTarget } from "./engine.ts"
import { COMPLETED_SEND, Request } from "./request.ts"
import { Status } from "./status.ts"

export { ANY_SOURCE, ANY_TAG }

/** Largest user tag (MPI_TAG_UB); tags above are reserved for rankflow's collectives. */
export const TAG_UB = 0x3fff_ffff

/** A buffer `recvInto` can fill: any typed array, an ArrayBuffer or a DataView. */
export type RecvBuffer = TypedArray | ArrayBuffer | DataView

const BARRIER_TAG = TAG_UB + 1
const EMPTY = new Uint8Array(0)

/**
 * A group of ranks that exchange messages (MPI_Comm). The world communicator
 * comes from `init()` (or the function run by `runRanks`).
 *
 * @example
 * ```ts
 * import { init } from "rankflow"
 * const comm = await init()
 * if (comm.rank === 0) comm.send({ hello: "world" }, 1, 11)
 * else if (comm.rank === 1) console.log(comm.recv(0, 11))
 * ```
 */
export class Comm {
  /** This rank's number in the communicator, 0 ≤ rank < size. */
  readonly rank: number
  /** Number of ranks in the communicator. */
  readonly size: number

  /** @internal */
  constructor(
    private readonly engine: Engine,
    /** Context id of point-to-point traffic; `context + 1` carries collectives. */
    private readonly context: number,
  ) {
    this.rank = engine.rank
    this.size = engine.size
  }

  /**
   * Sends `value` to `dest` (MPI_Send). Returns once the caller may reuse
   * `value`; small messages never wait for the receiver.
   */
  send(value: unknown, dest: number, tag = 0): void {
    this.engine.send(value, this.checkDest("send", dest), this.checkTag("send", tag), this.context)
  }

  /**
   * Receives the next matching message and returns it (MPI_Recv). Typed
   * arrays arrive as the same typed array type; objects are deserialized.
   * Pass a `Status` to learn the source, tag and size.
   */
  recv<T = unknown>(source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): T {
    return this.engine.recv(
      this.checkSource("recv", source),
      this.checkRecvTag("recv", tag),
      this.context,
      null,
      status ?? null,
    ) as T
  }

  /**
   * Receives a buffer message into `buffer` (MPI_Recv with a buffer): no
   * allocation. The message must have the buffer's element type and fit in
   * it (`RecvTypeMismatch`, `RecvTruncated` otherwise); `status.count` says
   * how many elements arrived.
   */
  recvInto<B extends RecvBuffer>(buffer: B, source: number = ANY_SOURCE, tag: number = ANY_TAG, status?: Status): B {
    return this.engine.recv(
      this.checkSource("recvInto", source),
      this.checkRecvTag("recvInto", tag),
      this.context,
      checkBuffer("recvInto", buffer),
      status ?? null,
    ) as B
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

  /** Starts a send (MPI_Isend); the value must not change until the request completes. */
  isend(value: unknown, dest: number, tag = 0): Request<void> {
    const pending = this.engine.isend(value, this.checkDest("isend", dest), this.checkTag("isend", tag), this.context)
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

  /** Blocks until a matching message has arrived and returns its envelope, leaving it to be received (MPI_Probe). */
  probe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status: Status = new Status()): Status {
    return this.engine.probe(this.checkSource("probe", source), this.checkRecvTag("probe", tag), this.context, status)
  }

  /** The envelope of a matching message if one has arrived, else undefined; never blocks (MPI_Iprobe). */
  iprobe(source: number = ANY_SOURCE, tag: number = ANY_TAG, status: Status = new Status()): Status | undefined {
    const found = this.engine.iprobe(
      this.checkSource("iprobe", source),
      this.checkRecvTag("iprobe", tag),
      this.context,
      status,
    )
    return found ? status : undefined
  }

  /** Blocks until every rank of the communicator has called `barrier` (dissemination, ⌈log₂ size⌉ rounds). */
  barrier(): void {
    const context = this.context + 1
    for (let distance = 1; distance < this.size; distance *= 2) {
      this.engine.send(EMPTY, (this.rank + distance) % this.size, BARRIER_TAG, context)
      this.engine.recv((this.rank - distance + this.size) % this.size, BARRIER_TAG, context, EMPTY, null)
    }
  }

  /** Seconds since an arbitrary point on this rank, sub-microsecond resolution (MPI_Wtime). */
  wtime(): number {
    return performance.now() / 1000
  }

  private startRecv<T>(op: string, source: number, tag: number, into: RecvTarget): Request<T> {
    const pending = this.engine.postRecv(this.checkSource(op, source), this.checkRecvTag(op, tag), this.context, into)
    return new Request<T>(this.engine, pending)
  }

  private checkDest(op: string, dest: number): number {
    if (Number.isInteger(dest) && dest >= 0 && dest < this.size) return dest
    throw new InvalidArgument(op, "dest", dest, `must be a rank in [0, ${this.size})`)
  }

  private checkSource(op: string, source: number): number {
    if (source === ANY_SOURCE || (Number.isInteger(source) && source >= 0 && source < this.size)) return source
    throw new InvalidArgument(op, "source", source, `must be a rank in [0, ${this.size}) or ANY_SOURCE`)
  }

  private checkTag(op: string, tag: number): number {
    if (Number.isInteger(tag) && tag >= 0 && tag <= TAG_UB) return tag
    throw new InvalidArgument(op, "tag", tag, `must be an integer in [0, ${TAG_UB}]`)
  }

  private checkRecvTag(op: string, tag: number): number {
    return tag === ANY_TAG ? tag : this.checkTag(op, tag)
  }
}

function checkBuffer<B extends RecvBuffer>(op: string, buffer: B): B {
  if (ArrayBuffer.isView(buffer) || buffer instanceof ArrayBuffer) return buffer
  throw new InvalidArgument(op, "buffer", Object.prototype.toString.call(buffer), "must be a typed array, ArrayBuffer or DataView")
}
