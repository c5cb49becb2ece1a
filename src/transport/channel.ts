/**
 * The seam between the message engine and a transport: what the engine does
 * with one peer's outgoing and incoming frames, and how it waits. `Ring`
 * (shared-memory rings, threads) and the MPI channels (`mpi.ts`, one MPI
 * message per frame) implement it; the engine never learns which one runs.
 *
 * A frame is a header (context, tag, kind, byte length) and a payload.
 * "Small" frames are written and read in one piece; large ones may move in
 * several calls (`writeLarge` / `readLarge` return true once done).
 *
 * Layer: transport. Types only.
 */
import type { OutgoingFrame, Sink, TypedArray } from "./ring.ts"

/** The sending side of one peer's channel. */
export interface OutChannel {
  /** True when a frame of `payloadBytes` goes out in one piece. */
  isSmall(payloadBytes: number): boolean
  /** Sends a small frame if it fits now; `payload` may be null for an empty message. */
  tryWriteSmall(context: number, tag: number, kind: number, payload: TypedArray | null, byteLength: number): boolean
  /** Moves a large frame on as far as it can; true once it is out (the caller may reuse its bytes). */
  writeLarge(frame: OutgoingFrame): boolean
}

/** The receiving side of one peer's channel: the frame at its head, read in arrival order. */
export interface InChannel {
  /** Header of the frame at the head, valid while `hasFrame`. */
  readonly hasFrame: boolean
  readonly frameContext: number
  readonly frameTag: number
  readonly frameKind: number
  readonly frameBytes: number
  /** Bytes of the largest small frame, header included (a small frame is read in one piece). */
  readonly smallMax: number
  isSmall(payloadBytes: number): boolean
  /** Reads the next frame's header if one has arrived. */
  peek(): boolean
  /** Copies the head (small) frame's payload into `dest` and consumes it. */
  readSmallInto(dest: TypedArray): void
  /** Byte `k` (< frameBytes) of the current small frame's payload, read in place. */
  payloadByte(k: number): number
  /** Consumes the head (small) frame unread. */
  skipSmall(): void
  /** Hands what has arrived of the head (large) frame to `sink` (a copy into `dest` by default); true once consumed. */
  readLarge(dest: TypedArray, sink?: Sink): boolean
  /** True when the sender cannot move on until this frame is consumed: the engine then copies it out of the way. */
  writerStalled(): boolean
  /**
   * Optional, for a channel whose bell polls the transport (`Bell.pollsTransport`): the bell's
   * sleep with a receive armed, as MPI posts a receive into the user's buffer. A small frame of
   * this channel with `context`, `tag` (or any, when ANY_TAG), `kind` and at most `maxBytes`
   * arriving meanwhile is copied into `into` and consumed by the transport, never shown by `peek`.
   * Returns its payload bytes (its tag then in `deliveredTag`), ARMED_WOKEN when woken by anything
   * else, ARMED_SLEPT when not woken.
   */
  sleepInto?(context: number, tag: number, kind: number, into: TypedArray, maxBytes: number): number
  /** The tag of the frame `sleepInto` delivered last. */
  readonly deliveredTag?: number
}

/** `InChannel.sleepInto`: woken by something other than the armed receive. */
export const ARMED_WOKEN = -1
/** `InChannel.sleepInto`: the wait ended unwoken (re-check, sleep again). */
export const ARMED_SLEPT = -2

/** How a rank waits for its peers, and what it publishes while it does. Implemented by `Doorbell` on threads. */
export interface Bell {
  /** 0 while the job runs, else an abort code (`failedRankOf`). */
  abortWord(): number
  /** Publishes what the rank blocks on; returns the value to pass to `sleep`. */
  prepareSleep(op: number, peer: number, tag: number, context: number): number
  /** Publishes what the rank blocks on without sleeping (it yields its core meanwhile). */
  publishBlocked(op: number, peer: number, tag: number, context: number): void
  /** Waits for a change (or a while); true when woken, false when the caller should re-check and sleep again. */
  sleep(bell: number): boolean
  wakeUp(): void
  unblocked(): void
  enterCollective(op: number, seq: number, root: number): void
  /** Wakes `rank` if it sleeps. */
  ring(rank: number): void
  /**
   * Optional: true when `sleep` itself polls every channel of the transport
   * and returns as soon as anything arrives (MPI's, in C). A blocked call
   * then sleeps at once instead of spinning, and a receive with nothing else
   * to move on (no queued sends, nonblocking collectives or streams) sleeps
   * before its first round of progress.
   */
  readonly pollsTransport?: boolean
  /**
   * Optional: the number of operations that advance themselves while the
   * rank is blocked in another call (nonblocking collectives) changed to
   * `count`; published for the hybrid deadlock watcher (`PublishedBell`).
   */
  nonblocking?(count: number): void
}

/**
 * A transport other than the threads' shared memory: the engine's channels
 * to every peer, its bell, and what replaces the shared control block
 * (context ids, the window heap, atomic adds on other ranks' windows).
 */
export interface Links {
  /** A name for reports: "mpi". */
  readonly name: string
  readonly size: number
  readonly bell: Bell
  out(peer: number): OutChannel
  in(peer: number): InChannel
  /** A fresh context pair unique in the job, without asking anyone. */
  newContext(): number
  /** The memory windows (`comm.alloc`) are carved from; other ranks' blocks are not readable in it. */
  readonly heap: ArrayBuffer | SharedArrayBuffer
  /** Reserves `bytes` of every rank's heap, unique in the job: the byte offset, or -1 when full. */
  reserveHeap(bytes: number): number
  /** Atomically adds `value` to int32 element `index` (of the whole heap) on rank `target`; the value before. */
  fetchAndAdd(target: number, index: number, value: number): number
  /**
   * Optional: binds a native allgather of `send`'s bytes from every rank of
   * a communicator into `recv`, in the communicator's rank order, once per
   * communicator (the transport keeps the buffers and checks them here, so a
   * call costs no more than starting it). `context` names the communicator,
   * `group` its ranks' world ranks (null: every rank, in order). Every rank
   * of the communicator binds it, with the same byte count. Absent when the
   * transport has none (threads) or cannot use it for this job: then the
   * engine's own algorithms run.
   */
  readonly bindAllgather?: (context: number, group: Int32Array | null, send: Uint8Array, recv: Uint8Array) => NativeAllgather
  /** Ends the job now with `code` on every process (MPI_Abort). */
  abort(code: number): never
  /** Closes the transport once the program is done (MPI_Finalize). */
  finalize(): void
}

/**
 * A native allgather bound to one communicator's buffers (`Links.bindAllgather`).
 * One at a time per rank: `start` begins the next call with `send`'s current
 * bytes and polls it briefly, true when it is already complete; otherwise
 * the engine waits on it like on any request (reading `done` makes progress,
 * and its other traffic moves meanwhile).
 */
export interface NativeAllgather {
  start(): boolean
  readonly done: boolean
}
