/**
 * The message engine of one rank: MPI matching and progress over the
 * transport's rings. Every communicator of the rank shares it; a context id
 * keeps their messages apart.
 *
 * Matching follows MPI: a receive takes the earliest message (in arrival
 * order per source) whose context, source and tag match, and a message goes to
 * the earliest posted receive that matches it. Messages nobody has asked for
 * yet stay in their ring; they are copied out to the unexpected queue only
 * when their writer is stalled for space (so a send never deadlocks for lack
 * of buffering), or when a later message from the same source is wanted
 * first. The common case copies once, ring to destination.
 *
 * Hot path (blocking small send / recv / recvInto with nothing pending):
 * no allocation, no Promise, one atomic store to publish, one atomic load
 * to see whether the peer sleeps.
 *
 * Layer: comm. Uses transport/ only.
 */
import { availableParallelism } from "node:os"
import { deserialize, serialize } from "node:v8"
import {
  CommTimeout,
  NotSerializable,
  RankAborted,
  RecvTruncated,
  RecvTypeMismatch,
  MessageTooLarge,
} from "../errors.ts"
import { ARMED_SLEPT, ARMED_WOKEN, type Bell, type InChannel, type Links, type OutChannel } from "../transport/channel.ts"
import { BlockedOp, blockedOpName, Doorbell, failedRankOf, SPIN_LIMIT, STREAM_SPIN_LIMIT } from "../transport/doorbell.ts"
import { allocateContext, reserveHeap, type WorldMemory } from "../transport/memory.ts"
import { native } from "../transport/native.ts"
import { HEADER_BYTES, MAX_FRAME_BYTES, Ring, type OutgoingFrame, type Sink, type TypedArray } from "../transport/ring.ts"
import {
  allocateFor,
  bufferValue,
  bytesOf,
  isObjectKind,
  KIND_NUMBER,
  KIND_SERIALIZED,
  kindName,
  kindOf,
  typedByteLength,
  typedConstructor,
} from "./dtype.ts"
import { Decoder, Encoder, PACKED_FORMAT } from "./encode.ts"
import { Status } from "./status.ts"
import { Trace, type TraceMode } from "./trace.ts"
import { Windows } from "./window.ts"

/**
 * Receive from whichever rank's message arrives first (MPI_ANY_SOURCE): the
 * default `source` of `recv`, `recvInto`, `irecv` and `probe`. The sender is
 * then read from a `Status`.
 *
 * @example
 * ```ts
 * import { ANY_SOURCE, ANY_TAG, init, Status } from "rankflow"
 * const comm = await init()
 * if (comm.rank !== 0) comm.send(`hello from ${comm.rank}`, 0, 7)
 * else
 *   for (let k = 1; k < comm.size; k++) {
 *     const status = new Status()
 *     const text = comm.recv<string>(ANY_SOURCE, ANY_TAG, status)
 *     console.log(text, "source", status.source, "tag", status.tag)
 *   }
 * ```
 */
export const ANY_SOURCE = -1
/** Receive a message with any tag (MPI_ANY_TAG): the default `tag` of receives and probes. */
export const ANY_TAG = -1

/**
 * Context bit of a synchronous send's frame (ssend/issend): no receive matches
 * it in the ring, so it is always copied to the unexpected queue, where it
 * matches with the bit cleared and its receiver acknowledges the match.
 */
export const SYNC_CONTEXT = 0x4000_0000
/** Context bit of the acknowledgement a matched synchronous send gets back (same tag, same source pair). */
export const ACK_CONTEXT = 0x2000_0000
/** The (empty) payload of an acknowledgement. */
const ACK_PAYLOAD = new Uint8Array(0)

/** Polls before the first yield when ranks outnumber cores (spinning there takes the core a peer needs). */
const OVERSUBSCRIBED_SPINS = 16
/** Yields before sleeping when ranks outnumber cores. */
const OVERSUBSCRIBED_YIELDS = 200

/** Largest serialized message sent in the light encoding (bigger ones go to v8 serialize). */
const PACKED_LIMIT = 64 * 1024

/** Where a receive puts its data: a caller's buffer, or null to allocate the value. */
export type RecvTarget = TypedArray | ArrayBuffer | DataView | null

/** A message copied out of its ring before anyone asked for it. */
interface Unexpected {
  readonly source: number
  readonly context: number
  readonly tag: number
  readonly kind: number
  readonly data: Uint8Array
  complete: boolean
  /** The data was streamed straight into the claiming receive's own buffer. */
  direct: boolean
  /** The receive that matched it while it was still streaming in. */
  claim: PendingRecv | null
  /** Sent by a synchronous send: its sender waits for an acknowledgement once a receive matches it. */
  sync?: boolean
}

/** A posted receive (irecv, or a blocking recv that had to wait behind others). */
export class PendingRecv {
  done = false
  value: unknown = undefined
  error: Error | null = null
  readonly status = new Status()
  /** Cancelled before any message matched it (`cancelRecv`). */
  cancelled = false
  constructor(
    readonly source: number,
    readonly tag: number,
    readonly context: number,
    readonly into: RecvTarget,
    /** When set, the message is combined into `into` by this sink instead of copied (streamed reductions). */
    readonly sink: Sink | null = null,
  ) {}
}

/** A send that could not go out at once (ring full, or a large message still streaming). */
export class PendingSend {
  done = false
  readonly frame: OutgoingFrame
  constructor(
    readonly dest: number,
    context: number,
    tag: number,
    kind: number,
    bytes: Uint8Array,
    readonly small: boolean,
  ) {
    this.frame = { context, tag, kind, bytes, sent: -1 }
  }
}

/**
 * A message about to be sent: its kind and its payload bytes. `data` may be
 * longer than `bytes` (the light encoder's reused buffer): send its first
 * `bytes` bytes, and copy them before anything else can encode.
 */
interface Payload {
  kind: number
  data: TypedArray
  bytes: number
}

export class Engine {
  readonly size: number
  private readonly doorbell: Bell
  // Channels to each peer: shared-memory rings on threads (only Ring instances then, so these
  // call sites stay monomorphic), or another transport's channels (`links`).
  private readonly outRings: OutChannel[] = []
  private readonly inRings: InChannel[] = []
  /** The large message currently streaming in from each source (ring positioned mid-frame). */
  private readonly streaming: Array<Unexpected | null>
  /** Number of non-null entries of `streaming`. */
  private streamsIn = 0
  private readonly unexpected: Unexpected[] = []
  private readonly posted: PendingRecv[] = []
  private readonly pendingSends: PendingSend[][] = []
  private pendingSendCount = 0
  private nextAnySource = 0
  /** `headMatches` just copied a matching synchronous frame to the unexpected queue (the blocking recv looks there again at once). */
  private syncStashed = false
  private readonly pollers: Array<{ poll(): boolean }> = []
  private polling = false
  /** Carry a number being sent / received (numbers skip the v8 serializer). Separate: a blocked send may receive meanwhile. */
  private readonly sendNumber = new Float64Array(1)
  private readonly recvNumber = new Float64Array(1)
  /** Reused for every send so the hot path allocates nothing. */
  private readonly payload: Payload = { kind: 0, data: new Uint8Array(0), bytes: 0 }
  /** Small plain values skip the v8 serializer (see encode.ts); encodings stay small frames. */
  private readonly encoder: Encoder
  private readonly decoder = new Decoder()
  /** Where a small packed frame is read to be decoded (a small frame's payload fits). */
  private readonly packedIn: Buffer

  // Blocking state (calls never nest, so one set of fields serves all).
  private spins = 0
  private armed = false
  /** The current blocking call has published what it is blocked on (it armed the doorbell). */
  private published = false
  /**
   * Spins before sleeping while a stream is in flight; none beyond the usual
   * when ranks outnumber cores, where a spinning rank takes the core its peer
   * needs to make the progress it waits for.
   */
  private readonly streamSpinLimit: number
  /** Failed attempts before a blocked call arms its doorbell: SPIN_LIMIT, or 1 for a polling bell. */
  private readonly spinLimit: number
  /** The doorbell's sleep polls the whole transport (`Bell.pollsTransport`): see `quickSleep`. */
  private readonly pollingBell: boolean
  /**
   * With more ranks than cores, a wait gives its core away this many times
   * (sched_yield, through the addon) before it sleeps: the peer it waits for
   * is likely runnable and gets the core at once, where a futex wake-up
   * costs tens of microseconds on every message. 0 otherwise.
   */
  private readonly yields: number
  /** When the current blocking call first slept (ms), for the per-call timeout. */
  private sleptSince = 0
  private bell = 0

  constructor(
    private readonly memory: WorldMemory,
    readonly rank: number,
    /** Seconds after which a blocking call fails with `CommTimeout` (undefined: never). */
    private readonly callTimeout?: number,
    /** Count traffic and waits (`--trace`); "timeline"/"timeline-all": also record when each happened (`--trace=FILE.json`). */
    traced: TraceMode = false,
    /**
     * Another transport than the threads' shared memory (e.g. MPI): its
     * channels, bell, context ids and window heap; `memory` then only holds
     * this process's local control block.
     */
    private readonly links?: Links,
  ) {
    this.size = links?.size ?? memory.size
    this.trace = traced !== false ? new Trace(rank, this.size, traced === "timeline" || traced === "timeline-all", traced === "timeline-all" ? "all" : "sampled") : null
    this.doorbell = links?.bell ?? new Doorbell(memory, rank)
    for (let r = 0; r < this.size; r++) {
      this.outRings.push(links?.out(r) ?? new Ring(memory, rank, r))
      this.inRings.push(links?.in(r) ?? new Ring(memory, r, rank))
      this.pendingSends.push([])
    }
    this.streaming = new Array<Unexpected | null>(this.size).fill(null)
    const oversubscribed = this.size > availableParallelism()
    this.pollingBell = this.doorbell.pollsTransport === true
    this.spinLimit = this.pollingBell ? 1 : SPIN_LIMIT
    // A bell that waits by polling (MPI's, in C) needs no longer spins while streaming.
    this.streamSpinLimit = oversubscribed || this.pollingBell ? this.spinLimit : STREAM_SPIN_LIMIT
    // A polling bell (MPI's) yields inside its own wait when the node is oversubscribed.
    this.yields = oversubscribed && native !== undefined && !this.pollingBell ? OVERSUBSCRIBED_YIELDS : 0
    this.windows = new Windows(links?.heap ?? memory.heap, (on) => (this.patient += on ? 1 : -1))
    this.sharedWindows = links === undefined
    this.bindAllgather = links?.bindAllgather
    // A packed message always travels as one small frame, on every channel (rings and MPI alike).
    const packedMax = Math.min(PACKED_LIMIT, ...this.inRings.map((c) => c.smallMax - HEADER_BYTES))
    this.encoder = new Encoder(packedMax)
    this.packedIn = Buffer.allocUnsafeSlow(packedMax)
  }

  /** The transport's native allgather (`Links.bindAllgather`), when it has one: native collectives (nativeReduce.ts) use it. */
  readonly bindAllgather: Links["bindAllgather"]

  /** Whether every rank's window blocks are readable here (threads); else windowed allreduces go through messages. */
  readonly sharedWindows: boolean

  /** Atomically adds `value` to element `at` of the window heap (rank `target`'s block) and returns the value before. */
  fetchAndAdd(at: number, target: number, value: number): number {
    return this.links === undefined ? Atomics.add(this.windows.heap32, at, value) : this.links.fetchAndAdd(target, at, value)
  }

  /** While positive, waits spin as long as while streaming: the peer is in a bulk phase and arrives soon. */
  private patient = 0

  /** How long blocking waits spin before they sleep (ms; 0: the usual spins), see `spinFor`. */
  private spinMs = 0
  /** When the current blocking call stops spinning (performance.now(), ms), set once its usual spins are spent; 0 before. */
  private spinUntil = 0

  /**
   * Until called again with 0, blocking waits spin up to `ms` milliseconds
   * each before they sleep (a futex wake-up costs ~20 µs here): for waits on
   * peers that compute about as long as this rank and arrive soon (a halo
   * exchange after each rank's sweeps). Ignored when ranks outnumber cores:
   * a spinning rank would take the core its peer needs. Reads the clock only
   * once a wait has spun its usual spins.
   */
  spinFor(ms: number): void {
    this.spinMs = this.streamSpinLimit === this.spinLimit ? 0 : ms
  }

  /** Shared-memory windows allocated by this rank's communicators. */
  readonly windows: Windows

  /** Counters of this rank's traffic and waits, when the run is traced. */
  readonly trace: Trace | null

  /** Reserves `bytes` of the job's shared heap: the byte offset, or -1 when it is full. */
  reserveHeap(bytes: number): number {
    return this.links === undefined ? reserveHeap(this.memory, bytes) : this.links.reserveHeap(bytes)
  }

  /** The shared heap's size in bytes. */
  get heapBytes(): number {
    return this.heap.byteLength
  }

  /** The shared heap itself, to view windows on (on MPI: this process's heap, exposed to the others as an RMA window). */
  get heap(): SharedArrayBuffer | ArrayBuffer {
    return this.links?.heap ?? this.memory.heap
  }

  // ---- sending ----------------------------------------------------------

  /** Blocking send: returns once `value` is in the destination's ring (or the caller may reuse it). */
  send(value: unknown, dest: number, tag: number, context: number): void {
    // Earlier queued sends go first (MPI order); flushing may run nested sends, so before `payload` is filled.
    if (this.pendingSendCount > 0 && dest !== this.rank && this.pendingSends[dest]!.length > 0) this.flushSends(dest)
    const p = this.preparePayload(value, "send")
    if (dest === this.rank) return this.sendLocal(p, tag, context)
    const ring = this.outRings[dest]!
    // The common case first, kept small enough for V8 to inline what it calls; everything else in sendBlocked.
    if (ring.isSmall(p.bytes) && ring.tryWriteSmall(context, tag, p.kind, p.data, p.bytes)) {
      this.doorbell.ring(dest)
      // Traced once the message is in the ring: the receiver need not wait for the clock read.
      if (this.trace !== null) this.trace.sent(dest, p.kind, p.bytes, tag)
      return
    }
    this.sendBlocked(p, ring, dest, tag, context)
  }

  /** A send to this rank itself: copied straight into the matching receive or the unexpected queue. */
  private sendLocal(p: Payload, tag: number, context: number): void {
    if (this.trace !== null) this.trace.sent(this.rank, p.kind, p.bytes, tag)
    this.deliverLocal(p, tag, context)
  }

  /** The rest of a blocking send: a small frame that did not fit the full ring, or a large one (queued, then flushed). */
  private sendBlocked(p: Payload, ring: OutChannel, dest: number, tag: number, context: number): void {
    // Progress made while the ring is full may run nested sends that reuse `payload`: its kind and size, kept here.
    const kind = p.kind
    const bytes = p.bytes
    if (ring.isSmall(bytes)) {
      // Ring full: wait with a private copy, since the progress made meanwhile
      // may run nested sends (nonblocking collectives) that reuse `payload`.
      const data = bytesOf(p.data).slice(0, bytes)
      this.beginBlocking()
      while (!ring.tryWriteSmall(context, tag, kind, data, data.byteLength)) {
        this.progress()
        this.pause(BlockedOp.send, dest, tag, context)
      }
      this.endBlocking()
      this.doorbell.ring(dest)
      if (this.trace !== null) this.trace.sent(dest, kind, bytes, tag)
      return
    }
    if (this.trace !== null) this.trace.sent(dest, kind, bytes, tag)
    const pending = new PendingSend(dest, context, tag, kind, bytesOf(p.data), false)
    this.pendingSends[dest]!.push(pending)
    this.pendingSendCount++
    this.flushSends(dest)
  }

  /** Nonblocking send: completes at once when the message fits, else queues it behind earlier ones. */
  isend(value: unknown, dest: number, tag: number, context: number): PendingSend | null {
    const p = this.preparePayload(value, "isend")
    if (dest === this.rank) {
      if (this.trace !== null) this.trace.sent(dest, p.kind, p.bytes, tag)
      this.deliverLocal(p, tag, context)
      return null
    }
    const ring = this.outRings[dest]!
    const small = ring.isSmall(p.bytes)
    const queue = this.pendingSends[dest]!
    if (small && queue.length === 0 && ring.tryWriteSmall(context, tag, p.kind, p.data, p.bytes)) {
      this.doorbell.ring(dest)
      // Traced once the message is in the ring: the receiver need not wait for the clock read.
      if (this.trace !== null) this.trace.sent(dest, p.kind, p.bytes, tag)
      return null
    }
    if (this.trace !== null) this.trace.sent(dest, p.kind, p.bytes, tag)
    // Queued: keep a private copy of small payloads so the caller may reuse its buffer.
    const bytes = small ? bytesOf(p.data).slice(0, p.bytes) : bytesOf(p.data)
    const pending = new PendingSend(dest, context, tag, p.kind, bytes, small)
    queue.push(pending)
    this.pendingSendCount++
    this.progressSends()
    return pending
  }

  private preparePayload(value: unknown, op: string): Payload {
    const p = this.payload
    const kind = kindOf(value)
    p.kind = kind
    // A typed array (the common case) is sent as it is; other kinds are prepared apart, keeping this inlinable.
    if (typedConstructor(kind) === undefined) return this.prepareOther(p, value, op)
    p.data = value as TypedArray
    p.bytes = typedByteLength(p.data)
    if (p.bytes > MAX_FRAME_BYTES) throw new MessageTooLarge(this.rank, p.bytes, MAX_FRAME_BYTES)
    return p
  }

  /** `preparePayload` of a number, a serialized value, an ArrayBuffer or a DataView. */
  private prepareOther(p: Payload, value: unknown, op: string): Payload {
    const kind = p.kind
    if (kind === KIND_NUMBER) {
      this.sendNumber[0] = value as number
      p.data = this.sendNumber
    } else if (kind === KIND_SERIALIZED) {
      // The light encoding when it takes the value (always a small frame), else v8's.
      const packed = this.encoder.encode(value)
      if (packed >= 0) {
        p.data = this.encoder.bytes
        p.bytes = packed
        return p
      }
      try {
        p.data = serialize(value)
      } catch (cause) {
        throw new NotSerializable(this.rank, op, describeType(value), (cause as Error).message)
      }
    } else {
      p.data = bytesOf(value as ArrayBuffer | DataView)
    }
    p.bytes = typedByteLength(p.data)
    if (p.bytes > MAX_FRAME_BYTES) throw new MessageTooLarge(this.rank, p.bytes, MAX_FRAME_BYTES)
    return p
  }

  /** Sends to self: copied straight into the matching receive or the unexpected queue. */
  private deliverLocal(p: Payload, tag: number, context: number): void {
    const data = bytesOf(p.data).slice(0, p.bytes)
    const sync = (context & SYNC_CONTEXT) !== 0
    const message: Unexpected = { source: this.rank, context: context & ~SYNC_CONTEXT, tag, kind: p.kind, data, complete: true, direct: false, claim: null, sync }
    const request = this.takePosted(this.rank, message.context, tag)
    if (request === null) this.unexpected.push(message)
    else {
      if (sync) this.acknowledge(message)
      this.completeFromCopy(request, message)
    }
  }

  // ---- synchronous sends and cancelled receives (off the hot path) ----------

  /**
   * Synchronous send (MPI_Ssend): returns once a receive on `dest` has matched
   * the message. The frame travels with `SYNC_CONTEXT` set and the receiver's
   * engine acknowledges the match on `ACK_CONTEXT`; a receiver that never
   * receives leaves this rank blocked, which the deadlock watcher or the
   * per-call timeout reports.
   */
  ssend(value: unknown, dest: number, tag: number, context: number): void {
    this.send(value, dest, tag, context | SYNC_CONTEXT)
    const ack = this.postRecv(dest, tag, context | ACK_CONTEXT, null)
    if (ack.done) return
    // Published as a send (deadlock reports and --comm-timeout say "send"): the call is one, waiting for its receiver.
    // Nothing of ours waits in dest's ring, so dest is not rung before each sleep: two ranks ssending to each
    // other rang each other awake forever, which no deadlock watcher can tell from ranks making progress.
    this.beginBlocking()
    for (;;) {
      this.progress()
      if (ack.done) break
      this.pause(BlockedOp.send, dest, tag, context, false)
    }
    this.endBlocking()
  }

  /** Starts a synchronous send: the send, and the receive of its acknowledgement; done when both are. */
  issend(value: unknown, dest: number, tag: number, context: number): { readonly send: PendingSend | null; readonly ack: PendingRecv } {
    const send = this.isend(value, dest, tag, context | SYNC_CONTEXT)
    return { send, ack: this.postRecv(dest, tag, context | ACK_CONTEXT, null) }
  }

  /** Tells a synchronous message's sender that a receive has matched it. */
  private acknowledge(message: Unexpected): void {
    message.sync = false
    this.isend(ACK_PAYLOAD, message.source, message.tag, message.context | ACK_CONTEXT)
  }

  /**
   * A message just copied to the unexpected queue goes to a receive already
   * posted for it, if any (a synchronous one is acknowledged). A probe or recv
   * that moves a head it does not want out of the way may so move the message
   * a nonblocking receive or collective waits for.
   */
  private matchPosted(message: Unexpected): void {
    const request = this.takePosted(message.source, message.context, message.tag)
    if (request === null) return
    this.unexpected.splice(this.unexpected.indexOf(message), 1)
    if (message.sync === true) this.acknowledge(message)
    if (message.complete) this.completeFromCopy(request, message)
    else message.claim = request
  }

  /**
   * Cancels a posted receive that no message has matched yet (MPI_Cancel):
   * true if it was cancelled (it is then done, with `cancelled` set), false
   * if a message already matched it.
   */
  cancelRecv(request: PendingRecv): boolean {
    if (request.done) return false
    const i = this.posted.indexOf(request)
    if (i < 0) return false // claimed by a message still streaming in: it will complete
    this.posted.splice(i, 1)
    request.cancelled = true
    request.done = true
    return true
  }

  private flushSends(dest: number): void {
    const queue = this.pendingSends[dest]!
    const last = queue[queue.length - 1]!
    this.beginBlocking()
    while (!last.done) {
      // Receives already posted must move too: the peer may be sending to us just as we send to it.
      this.progress()
      if (!last.done) this.pause(BlockedOp.send, dest, last.frame.tag, last.frame.context)
    }
    this.endBlocking()
  }

  /** Moves queued sends into their rings as far as space allows. Never blocks. */
  private progressSends(): void {
    if (this.pendingSendCount === 0) return
    for (let dest = 0; dest < this.size; dest++) {
      const queue = this.pendingSends[dest]!
      if (queue.length === 0) continue
      const ring = this.outRings[dest]!
      let moved = false
      while (queue.length > 0) {
        const s = queue[0]!
        const f = s.frame
        const sentBefore = f.sent
        const finished = s.small
          ? ring.tryWriteSmall(f.context, f.tag, f.kind, f.bytes, f.bytes.byteLength)
          : ring.writeLarge(f)
        if (finished || f.sent !== sentBefore) moved = true
        if (!finished) break
        s.done = true
        queue.shift()
        this.pendingSendCount--
      }
      if (moved) this.doorbell.ring(dest)
    }
  }

  // ---- receiving --------------------------------------------------------

  /**
   * Blocking receive. With nothing posted ahead of it, a small message is
   * copied straight from the ring into `into` (or a new value) without
   * allocating anything but the value itself.
   */
  recv(source: number, tag: number, context: number, into: RecvTarget, status: Status | null): unknown {
    if (this.posted.length > 0) return this.waitRecv(this.postRecv(source, tag, context, into), status)
    this.beginBlocking()
    for (;;) {
      if (this.unexpected.length > 0) {
        const i = this.findUnexpected(source, tag, context)
        if (i >= 0) {
          this.endBlocking()
          return this.takeUnexpected(i, into, status)
        }
      }
      const from = this.arrivedFrom(source, tag, context)
      if (from >= 0) {
        const ring = this.inRings[from]!
        if (ring.isSmall(ring.frameBytes)) {
          if (this.trace !== null) this.trace.arrivesNow() // before the wait ends: the wait and the arrival are traced as one
          this.endBlocking()
          return this.readSmall(ring, from, into, status)
        }
        this.endBlocking()
        return this.waitRecv(this.postRecv(from, ring.frameTag, context, into), status)
      }
      if (this.syncStashed) {
        this.syncStashed = false // a matching synchronous message was just copied to the unexpected queue: take it there
        continue
      }
      const slept = this.quickSleep(BlockedOp.recv, source, tag, context, into)
      if (slept >= 0) {
        if (this.trace !== null) this.trace.arrivesNow()
        this.endBlocking()
        return this.deliveredInto(source, into, slept, status)
      }
      if (slept === ARMED_WOKEN) continue
      this.pause(BlockedOp.recv, source, tag, context)
    }
  }

  /**
   * A receive's first wait on a polling bell (`Bell.pollsTransport`: MPI's,
   * in C) when nothing else needs this rank's progress — no queued sends,
   * nonblocking collectives or streams: it sleeps at once, skipping the round
   * of progress and the re-check that arming a doorbell takes (a Node-API
   * call per channel), which were the rank's critical path on a ping-pong.
   * Only before a call's first failed attempt is counted (or after a sleep
   * that woke, which resets the count): a wake-up for anything else goes
   * the usual way. A blocking receive from one source into a typed array
   * sleeps with the receive armed in the transport (`InChannel.sleepInto`,
   * as MPI posts a receive into the user's buffer): a matching small message
   * then lands in `into` with none of the engine's matching and copying on
   * the way. Returns the payload bytes so delivered, ARMED_WOKEN (re-check)
   * or ARMED_SLEPT (not woken, or no sleep here: pause next).
   */
  private quickSleep(op: number, peer: number, tag: number, context: number, into: RecvTarget): number {
    if (!this.pollingBell || this.spins !== 0 || this.pendingSendCount > 0 || this.pollers.length > 0 || this.streamsIn > 0) return ARMED_SLEPT
    this.spins = 1
    if (this.trace !== null) this.trace.blocked(op, peer, tag)
    if (peer !== ANY_SOURCE && into !== null) {
      const ring = this.inRings[peer]!
      const kind = kindOf(into)
      if (ring.sleepInto !== undefined && typedConstructor(kind) !== undefined) return ring.sleepInto(context, tag, kind, into as TypedArray, typedByteLength(into as TypedArray))
    }
    return this.doorbell.sleep(0) ? ARMED_WOKEN : ARMED_SLEPT
  }

  /** A receive into `into` the transport completed during `quickSleep` (`InChannel.sleepInto`): as `readSmall` ends one. */
  private deliveredInto(source: number, into: RecvTarget, bytes: number, status: Status | null): unknown {
    const tag = this.inRings[source]!.deliveredTag!
    if (this.trace !== null) this.trace.arrived(source, tag, bytes)
    status?.set(source, tag, bytes, kindOf(into))
    this.doorbell.ring(source)
    return into
  }

  /**
   * The source whose ring holds a matching message at its head, or -1.
   * Heads that do not match are moved to the unexpected queue so later
   * messages from that source can be seen.
   */
  private arrivedFrom(source: number, tag: number, context: number): number {
    if (source !== ANY_SOURCE) return this.headMatches(source, tag, context) ? source : -1
    for (let k = 0; k < this.size; k++) {
      const s = (this.nextAnySource + k) % this.size
      if (this.headMatches(s, tag, context)) {
        this.nextAnySource = (s + 1) % this.size
        return s
      }
    }
    return -1
  }

  private headMatches(source: number, tag: number, context: number): boolean {
    if (this.streaming[source] !== null) {
      this.progressIncoming(source)
      if (this.streaming[source] !== null) return false
      if (this.unexpected.length > 0 && this.findUnexpected(source, tag, context) >= 0) return false
    }
    const ring = this.inRings[source]!
    while (ring.peek()) {
      if (ring.frameContext === context && (tag === ANY_TAG || ring.frameTag === tag)) return true
      // A synchronous frame that matches once its flag is cleared: stashed, it is the one to take (messages after it must not overtake it).
      const wanted = ring.frameContext === (context | SYNC_CONTEXT) && (tag === ANY_TAG || ring.frameTag === tag)
      this.stashHead(source)
      if (wanted) this.syncStashed = true
      if (wanted || this.streaming[source] !== null) return false
    }
    return false
  }

  /** Posts a receive (combining into `into` through `sink`, when given); it may complete at once from the unexpected queue. */
  postRecv(source: number, tag: number, context: number, into: RecvTarget, sink: Sink | null = null): PendingRecv {
    const request = new PendingRecv(source, tag, context, into, sink)
    const i = this.findUnexpected(source, tag, context)
    if (i < 0) {
      this.posted.push(request)
      return request
    }
    const message = this.unexpected[i]!
    this.unexpected.splice(i, 1)
    if (message.sync === true) this.acknowledge(message)
    if (message.complete) this.completeFromCopy(request, message)
    else message.claim = request
    return request
  }

  /** Blocks until `request` completes; returns its value or throws its error. */
  waitRecv(request: PendingRecv, status: Status | null): unknown {
    this.waitDone(request)
    if (status !== null) {
      const s = request.status
      status.set(s.source, s.tag, s.bytes, s.kind)
    }
    if (request.error !== null) throw request.error
    return request.value
  }

  /** Blocks until a send, receive or collective request is done. */
  waitDone(request: { readonly done: boolean }): void {
    if (request.done) return
    const [peer, tag, context] =
      request instanceof PendingRecv
        ? [request.source, request.tag, request.context]
        : request instanceof PendingSend
          ? [request.dest, request.frame.tag, request.frame.context]
          : [-1, -1, -1] // a collective: its own receives publish the details
    this.beginBlocking()
    for (;;) {
      this.progress()
      if (request.done) break
      this.pause(BlockedOp.wait, peer, tag, context)
    }
    this.endBlocking()
  }

  /** One nonblocking round of progress on every send queue, incoming ring and nonblocking collective. */
  progress(): void {
    this.progressSends()
    for (let s = 0; s < this.size; s++) if (s !== this.rank) this.progressIncoming(s)
    if (this.pollers.length > 0 && !this.polling) {
      this.polling = true
      try {
        const before = this.pollers.length
        for (let i = this.pollers.length - 1; i >= 0; i--) if (this.pollers[i]!.poll()) this.pollers.splice(i, 1)
        if (this.pollers.length !== before) this.doorbell.nonblocking?.(this.pollers.length)
      } finally {
        this.polling = false
      }
    }
  }

  /**
   * Registers an operation that advances itself (a nonblocking collective):
   * every progress round polls it until `poll()` returns true, so it moves
   * on even while this rank is blocked in another call, as MPI requires.
   */
  addPoller(poller: { poll(): boolean }): void {
    this.pollers.push(poller)
    this.doorbell.nonblocking?.(this.pollers.length)
  }

  /** A fresh context pair for a new communicator (unique in the job). */
  newContext(): number {
    return this.links === undefined ? allocateContext(this.memory) : this.links.newContext()
  }

  /** Publishes the collective this rank is in (op -1: none), for deadlock reports. */
  enterCollective(op: number, seq: number, root: number): void {
    this.doorbell.enterCollective(op, seq, root)
  }

  /** Blocking probe: the envelope of the next matching message, left in place. */
  probe(source: number, tag: number, context: number, status: Status): Status {
    this.beginBlocking()
    while (!this.iprobe(source, tag, context, status)) this.pause(BlockedOp.probe, source, tag, context)
    this.endBlocking()
    return status
  }

  /** Nonblocking probe: fills `status` and returns true if a matching message has arrived. */
  iprobe(source: number, tag: number, context: number, status: Status): boolean {
    this.progressSends()
    let i = this.findUnexpected(source, tag, context)
    if (i < 0) {
      const from = this.arrivedFrom(source, tag, context)
      if (from >= 0) {
        const ring = this.inRings[from]!
        status.set(from, ring.frameTag, ring.frameBytes, ring.frameKind)
        return true
      }
      i = this.findUnexpected(source, tag, context)
      if (i < 0) return false
    }
    const m = this.unexpected[i]!
    status.set(m.source, m.tag, m.data.byteLength, m.kind)
    return true
  }

  /**
   * The first message on a collective context (odd id) that nobody received:
   * after the final barrier, a sign that ranks called different collectives.
   */
  leftoverCollective(): { source: number; tag: number } | undefined {
    for (const m of this.unexpected) if ((m.context & 1) === 1) return { source: m.source, tag: m.tag }
    for (let s = 0; s < this.size; s++) {
      const ring = this.inRings[s]!
      if (ring.peek() && (ring.frameContext & 1) === 1) return { source: s, tag: ring.frameTag }
    }
    return undefined
  }

  private findUnexpected(source: number, tag: number, context: number): number {
    const u = this.unexpected
    for (let i = 0; i < u.length; i++) {
      const m = u[i]!
      if (m.context === context && (source === ANY_SOURCE || m.source === source) && (tag === ANY_TAG || m.tag === tag))
        return i
    }
    return -1
  }

  private takePosted(source: number, context: number, tag: number): PendingRecv | null {
    const p = this.posted
    for (let i = 0; i < p.length; i++) {
      const r = p[i]!
      if (r.context === context && (r.source === ANY_SOURCE || r.source === source) && (r.tag === ANY_TAG || r.tag === tag)) {
        p.splice(i, 1)
        return r
      }
    }
    return null
  }

  /**
   * Moves what has arrived from `source` into posted receives. A frame nobody
   * has asked for stays in the ring, unless a posted receive from this source
   * needs to see past it or the writer is stalled for space — then it is
   * copied to the unexpected queue. Never blocks.
   */
  private progressIncoming(source: number): void {
    const ring = this.inRings[source]!
    for (;;) {
      const current = this.streaming[source] ?? null
      if (current !== null) {
        // A direct stream for a reducing receive combines into the receive's own array.
        const sink = current.direct ? (current.claim?.sink ?? null) : null
        const done = sink === null ? ring.readLarge(current.data) : ring.readLarge(current.claim!.into as TypedArray, sink)
        this.doorbell.ring(source)
        if (!done) return
        this.endStream(source)
        current.complete = true
        if (current.claim !== null) this.completeFromCopy(current.claim, current)
        continue
      }
      if (!ring.peek()) return
      const request = this.takePosted(source, ring.frameContext, ring.frameTag)
      if (request !== null) {
        if (ring.isSmall(ring.frameBytes)) this.completeFromRing(request, ring, source)
        else this.streamInto(request, ring, source)
      } else if (ring.writerStalled() || this.hasPostedFrom(source)) {
        this.stashHead(source)
      } else {
        return
      }
    }
  }

  private hasPostedFrom(source: number): boolean {
    const p = this.posted
    for (let i = 0; i < p.length; i++) if (p[i]!.source === source || p[i]!.source === ANY_SOURCE) return true
    return false
  }

  /** Copies the frame at the head of `source`'s ring into the unexpected queue. */
  private stashHead(source: number): void {
    const ring = this.inRings[source]!
    if (ring.isSmall(ring.frameBytes)) {
      const copy = this.copyOut(ring, source)
      this.unexpected.push(copy)
      this.matchPosted(copy)
      return
    }
    const message = this.recordOf(ring, source, bytesOf(allocateFor(ring.frameKind, ring.frameBytes)))
    this.unexpected.push(message)
    this.startStream(source, message)
    if (ring.readLarge(message.data)) {
      this.endStream(source)
      message.complete = true
    }
    this.doorbell.ring(source)
    this.matchPosted(message)
  }

  /** The record of the frame at the head of `ring`, whose bytes go to `data`. */
  private recordOf(ring: InChannel, source: number, data: Uint8Array, claim: PendingRecv | null = null): Unexpected {
    if (this.trace !== null) this.trace.arrived(source, ring.frameTag, ring.frameBytes)
    const context = ring.frameContext
    return {
      source,
      context: context & ~SYNC_CONTEXT,
      tag: ring.frameTag,
      kind: ring.frameKind,
      data,
      complete: false,
      direct: false,
      claim,
      sync: (context & SYNC_CONTEXT) !== 0,
    }
  }

  /** A large frame matched a posted receive: stream it straight into the receive's buffer. */
  private streamInto(request: PendingRecv, ring: InChannel, source: number): void {
    const error = this.checkTarget(request.into, ring.frameKind, ring.frameBytes, source, ring.frameTag)
    const direct = error === null && request.into !== null
    const data = direct
      ? bytesOf(request.into!).subarray(0, ring.frameBytes)
      : bytesOf(allocateFor(ring.frameKind, ring.frameBytes))
    const message = this.recordOf(ring, source, data, request)
    message.direct = direct
    request.error = error
    this.startStream(source, message)
  }

  /** `source`'s ring is now mid-frame, its bytes going to `message`. */
  private startStream(source: number, message: Unexpected): void {
    this.streaming[source] = message
    this.streamsIn++
  }

  private endStream(source: number): void {
    this.streaming[source] = null
    this.streamsIn--
  }

  private completeFromRing(request: PendingRecv, ring: InChannel, source: number): void {
    try {
      if (request.sink === null) request.value = this.readSmall(ring, source, request.into, request.status)
      else {
        // A reducing receive of a small frame: read it, then combine it into the target.
        const message = this.copyOut(ring, source)
        this.completeFromCopy(request, message)
        return
      }
    } catch (error) {
      request.error = error as Error
    }
    request.done = true
  }

  /** Reads the small frame at the head of `ring` into a private copy. */
  private copyOut(ring: InChannel, source: number): Unexpected {
    const data = allocateFor(ring.frameKind, ring.frameBytes)
    const message = this.recordOf(ring, source, bytesOf(data))
    ring.readSmallInto(data)
    message.complete = true
    this.doorbell.ring(source)
    return message
  }

  private completeFromCopy(request: PendingRecv, message: Unexpected): void {
    request.status.set(message.source, message.tag, message.data.byteLength, message.kind)
    // An error found when the stream started stands; a stream into the caller's buffer is already there.
    if (request.error === null) {
      try {
        request.value = message.direct ? request.into : this.valueOf(message, request.into, request.sink)
      } catch (error) {
        request.error = error as Error
      }
    }
    request.done = true
  }

  private takeUnexpected(i: number, into: RecvTarget, status: Status | null): unknown {
    const message = this.unexpected[i]!
    if (message.sync === true) this.acknowledge(message)
    if (!message.complete) {
      const request = new PendingRecv(message.source, message.tag, message.context, into)
      this.unexpected.splice(i, 1)
      message.claim = request
      return this.waitRecv(request, status)
    }
    this.unexpected.splice(i, 1)
    status?.set(message.source, message.tag, message.data.byteLength, message.kind)
    return this.valueOf(message, into)
  }

  /** The received value from a private copy (already in `message.data`), copied or combined (`sink`) into `into`. */
  private valueOf(message: Unexpected, into: RecvTarget, sink: Sink | null = null): unknown {
    if (into === null)
      return isObjectKind(message.kind) ? objectValue(message.kind, message.data, this.decoder) : bufferValue(message.kind, message.data)
    const error = this.checkTarget(into, message.kind, message.data.byteLength, message.source, message.tag)
    if (error !== null) throw error
    if (sink !== null) sink(into as TypedArray, 0, message.data, 0, message.data.byteLength)
    else bytesOf(into).set(message.data)
    return into
  }

  /** Reads the small frame at the head of `ring`, consuming it even when the target is rejected. */
  private readSmall(ring: InChannel, source: number, into: RecvTarget, status: Status | null): unknown {
    const kind = ring.frameKind
    const bytes = ring.frameBytes
    if (this.trace !== null) this.trace.arrived(source, ring.frameTag, bytes)
    status?.set(source, ring.frameTag, bytes, kind)
    if (into === null) {
      if (kind === KIND_NUMBER) {
        ring.readSmallInto(this.recvNumber)
        this.doorbell.ring(source)
        return this.recvNumber[0]
      }
      if (kind === KIND_SERIALIZED && ring.payloadByte(0) === PACKED_FORMAT) {
        ring.readSmallInto(this.packedIn)
        this.doorbell.ring(source)
        return this.decoder.decode(this.packedIn, bytes)
      }
      const data = allocateFor(kind, bytes)
      ring.readSmallInto(data)
      this.doorbell.ring(source)
      if (kind === KIND_SERIALIZED) return deserialize(data as Uint8Array)
      return typedConstructor(kind) !== undefined ? data : bufferValue(kind, data as Uint8Array)
    }
    const error = this.checkTarget(into, kind, bytes, source, ring.frameTag)
    if (error !== null) {
      ring.skipSmall()
      this.doorbell.ring(source)
      throw error
    }
    ring.readSmallInto(ArrayBuffer.isView(into) && !(into instanceof DataView) ? into : bytesOf(into))
    this.doorbell.ring(source)
    return into
  }

  /** Why `into` cannot take a message of `kind` and `bytes`, or null if it can. */
  private checkTarget(into: RecvTarget, kind: number, bytes: number, source: number, tag: number): Error | null {
    if (into === null) return null
    const intoKind = kindOf(into)
    const typed = typedConstructor(intoKind) !== undefined
    if (isObjectKind(kind) || (typed && intoKind !== kind))
      return new RecvTypeMismatch(this.rank, source, tag, kindName(intoKind), kindName(kind))
    const room = typed ? typedByteLength(into as TypedArray) : into.byteLength
    if (bytes > room) return new RecvTruncated(this.rank, source, tag, bytes, room)
    return null
  }

  // ---- blocking ---------------------------------------------------------

  private beginBlocking(): void {
    if (this.trace !== null) this.trace.waitBegins()
    this.spins = 0
    this.armed = false
    this.sleptSince = 0
    this.spinUntil = 0
  }

  private endBlocking(): void {
    if (this.trace !== null) this.trace.waitEnds()
    if (this.armed) {
      this.doorbell.wakeUp()
      this.armed = false
    } else if (this.published) this.doorbell.wakeUp() // published while yielding: no longer blocked
    if (this.published) {
      this.doorbell.unblocked()
      this.published = false
    }
  }

  /**
   * Called after a failed attempt: spin a little, then arm the doorbell,
   * make progress on everything (so no peer waits on us), and on the next
   * failed attempt sleep until something changes. `peerDrains`: the call
   * waits for `peer` to make room for our output (a send), so `peer` is rung
   * before this rank sleeps.
   */
  private pause(op: number, peer: number, tag: number, context: number, peerDrains = op === BlockedOp.send): void {
    if (this.trace !== null) this.trace.blocked(op, peer, tag)
    if (this.armed) {
      const woken = this.doorbell.sleep(this.bell)
      this.checkAbort()
      if (this.callTimeout !== undefined) this.checkCallTimeout(op, peer)
      if (woken) {
        this.armed = false
        this.spins = 0
      } else this.progress()
      // Timed out with nothing rung: still armed, so the next failed attempt sleeps again
      // without spinning and yielding first (a rank that spun after every timeout looked busy
      // to the deadlock watcher, which never saw every rank asleep under two CPU hogs).
      // Everything pending moves on first: a probe or recv loop re-checks only its own
      // condition, and a nonblocking collective whose next receive was posted after its
      // message had arrived (no ring follows) would otherwise wait in the ring forever.
      return
    }
    // Queued sends move while we wait for anything: the peer may be waiting for them to wait on us.
    if (this.pendingSendCount > 0) this.progressSends()
    if (this.yields > 0) {
      if (++this.spins < OVERSUBSCRIBED_SPINS) return
      if (this.spins < OVERSUBSCRIBED_SPINS + this.yields) {
        // A yield can last a whole time slice when other processes hold the cores (200 of them: up to ~1 s):
        // say what this call waits for meanwhile, for the deadlock watcher and the dashboard.
        if (!this.published) {
          this.doorbell.publishBlocked(op, peer, tag, context)
          this.published = true
        }
        return native!.yieldThread()
      }
    } else if (++this.spins < this.spinLimit) return
    // While a large message streams, the peer is busy copying the next chunk:
    // keep spinning rather than pay a ~20 µs futex wake-up per chunk.
    if ((this.streamsIn > 0 || this.pendingSendCount > 0 || this.patient > 0) && this.spins < this.streamSpinLimit) return
    if (this.spinMs > 0) {
      const now = performance.now()
      if (this.spinUntil === 0) this.spinUntil = now + this.spinMs
      if (now < this.spinUntil) return
    }
    this.checkAbort()
    this.bell = this.doorbell.prepareSleep(op, peer, tag, context)
    this.armed = true
    this.published = true
    // Before sleeping, wake whoever must drain our stalled output (it may sleep waiting on something else).
    if (peerDrains) this.doorbell.ring(peer)
    if (this.pendingSendCount > 0)
      for (let dest = 0; dest < this.size; dest++) if (this.pendingSends[dest]!.length > 0) this.doorbell.ring(dest)
    this.progress()
  }

  /** Throws `CommTimeout` when the current blocking call has waited longer than allowed. */
  private checkCallTimeout(op: number, peer: number): void {
    const now = performance.now()
    if (this.sleptSince === 0) this.sleptSince = now
    else if (now - this.sleptSince > this.callTimeout! * 1000) {
      this.doorbell.wakeUp()
      throw new CommTimeout(this.rank, blockedOpName(op), peer, this.callTimeout!)
    }
  }

  /** Throws `RankAborted` once the job is being torn down. */
  checkAbort(): void {
    const word = this.doorbell.abortWord()
    if (word !== 0) throw new RankAborted(this.rank, failedRankOf(word))
  }
}

/** The value of an object-kind message (serialized — light encoding or v8's —, or a number) from its bytes. */
function objectValue(kind: number, data: Uint8Array, decoder: Decoder): unknown {
  if (kind === KIND_NUMBER) return new Float64Array(data.buffer, data.byteOffset, 1)[0]
  if (data[0] !== PACKED_FORMAT) return deserialize(data)
  return decoder.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength), data.byteLength)
}

function describeType(value: unknown): string {
  if (value === null) return "null"
  if (typeof value === "object") return (value as object).constructor?.name ?? "object"
  return typeof value
}
