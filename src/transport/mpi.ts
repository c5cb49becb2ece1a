/**
 * The MPI transport: the engine's per-peer channels as MPI messages on a
 * private duplicate of MPI_COMM_WORLD (through the optional addon,
 * `mpiAddon.ts`), for ranks that are Open MPI processes — on one machine or
 * across hosts. One rank per process (the rank is the MPI rank), or K rank
 * threads per process (hybrid, `--ranks-per-process K`): rank p·K + t is
 * thread t of process p; ranks of one process talk over shared-memory rings,
 * ranks of different processes over MPI, one MPI tag per pair of threads.
 *
 * A small frame (header + payload up to `MPI_SMALL_BYTES`) is one MPI
 * message; a large one is a header message then its payload, received
 * straight into the destination. With one rank per process a payload of at
 * most 8 bytes goes alone, its header in the MPI tag (`compactTag`), as
 * Open MPI's shared-memory path is slower for anything longer; the addon
 * rebuilds the frame on arrival. The incoming side keeps one receive posted
 * per peer into a staging buffer (the addon's slot), takes one frame at a
 * time, and shows
 * its header to the engine exactly as a ring does, so the engine's matching
 * (contexts, ANY_SOURCE, the unexpected queue), every collective, split,
 * dup, cart, patterns and pipelines are the same code on both transports —
 * hence bit-identical results.
 *
 * Waiting polls MPI — in C while every channel is MPI (`MpiBell`) — instead
 * of sleeping on a futex: there is no shared memory to ring a doorbell in.
 * A blocking receive into a typed array waits with the receive armed
 * (`MpiInChannel.sleepInto`): the addon's wait copies a matching small frame
 * into the array, as MPI does into a posted receive's buffer.
 *
 * Windows (`comm.alloc`) are blocks of an MPI-3 RMA window over each
 * process's shared heap (MPI_Win_create); `fetchAndAdd` is
 * MPI_Fetch_and_op. Other processes' blocks are not readable as memory, so
 * allreduces of windows go through messages.
 *
 * Layer: transport. Knows nothing of dtypes, tags or matching.
 */
import { copyBytes } from "./copy.ts"
import { FrameCopy } from "./frameCopy.ts"
import { ARMED_SLEPT, ARMED_WOKEN, type Bell, type InChannel, type Links, type NativeAllgather, type OutChannel } from "./channel.ts"
import type { WorldMemory } from "./memory.ts"
import { mpiAddon, type MpiAddon } from "./mpiAddon.ts"
import { HEADER_BYTES, pad16, Ring, type OutgoingFrame, type Sink, type TypedArray } from "./ring.ts"

/** How long a native allgather polls in C when it starts, before the engine's wait loop takes over (ns), and each later test. */
const ALLGATHER_FIRST_POLL_NS = 20_000
const ALLGATHER_POLL_NS = 500
/** Frames whose header + padded payload fit this many bytes travel as one MPI message. */
export const MPI_SMALL_BYTES = 16 * 1024
/** The first heap bytes of every process are the job's allocator word (on rank 0) and padding. */
const HEAP_HEADER_BYTES = 64
const HEAP_UNIT = 64

/** The outgoing staging buffer's first bytes: where the frame after them goes. */
const SEND_DESCRIPTOR_BYTES = 16

/**
 * The MPI tag of a compact frame: a payload of at most 8 bytes sent alone, its header (context,
 * tag, kind) in the tag (the addon unpacks it on arrival), or -1 when the header does not fit.
 * Open MPI's shared-memory path is ~0.05-0.1 µs slower one way for anything over 8 bytes, and a
 * header would make an 8-byte payload 24.
 */
export function compactTag(context: number, tag: number, kind: number): number {
  return context >= 0 && context < 1 << 10 && tag >= 0 && tag < 1 << 15 && kind >= 0 && kind < 1 << 5 ? (1 << 30) | (context << 20) | (tag << 5) | kind : -1
}

// Function declarations, not arrow constants, on the per-message path: a module constant's every
// read from another function is checked for the temporal dead zone by V8 11.
function isSmall(payloadBytes: number): boolean {
  return HEADER_BYTES + pad16(payloadBytes) <= MPI_SMALL_BYTES
}

/** `waitInto`'s arm words, after the slots' arrivals (native/mpi/mpi.c, Armed): what the JavaScript arms, then what the wait delivered. */
const ARM_SLOT = 0
const ARM_CONTEXT = 1
const ARM_TAG = 2
const ARM_KIND = 3
const ARM_MAX = 4
const ARM_DELIVERED = 5
const ARM_DELIVERED_TAG = 6
const ARM_WORDS = 8

/**
 * A rank thread's outgoing staging buffer: every small frame is written here
 * — where it goes (destination process, MPI tag, frame bytes), then the
 * frame, header and payload — and sent by a call without arguments. One per
 * thread: a small send is done with the buffer when the call returns.
 */
export class MpiStaging {
  readonly buffer = new ArrayBuffer(SEND_DESCRIPTOR_BYTES + MPI_SMALL_BYTES)
  /** Destination process, MPI tag, frame bytes; then the frame's header (context, tag, kind, payload bytes). */
  readonly words = new Int32Array(this.buffer, 0, 8)
  readonly copy = new FrameCopy(new Uint8Array(this.buffer))
  /** Byte length of the frame seen arriving in each receive slot by the C-side wait (0: none): probe is then skipped; then the arm words. */
  readonly arrivals: Int32Array
  /** `waitInto`'s arm words (the addon's Armed): slot, context, tag, kind, max bytes; delivered bytes (-1: none), delivered tag. */
  readonly arm: Int32Array

  constructor(slots: number) {
    this.arrivals = new Int32Array(slots + ARM_WORDS)
    this.arm = this.arrivals.subarray(slots)
  }
}

/** Frames to one peer. MPI buffers them: a small frame always goes out at once. */
export class MpiOutChannel implements OutChannel {
  /** The large frame in flight and its send handle (frames leave in order: one at a time). */
  private current: OutgoingFrame | null = null
  private handle = -1
  private readonly words: Int32Array
  private readonly copy: FrameCopy

  constructor(
    private readonly mpi: MpiAddon,
    staging: MpiStaging,
    /** The peer's process (its MPI rank). */
    private readonly peer: number,
    /** The MPI tag of this pair of rank threads (odd; +1 carries large payloads). */
    private readonly mpiTag: number,
    /** The largest payload sent as a compact frame, or -1 (off). */
    private readonly compactMax: number,
  ) {
    this.words = staging.words
    this.copy = staging.copy
  }

  isSmall(payloadBytes: number): boolean {
    return isSmall(payloadBytes)
  }

  tryWriteSmall(context: number, tag: number, kind: number, payload: TypedArray | null, byteLength: number): boolean {
    const bytes = payload === null ? 0 : byteLength
    const compact = bytes <= this.compactMax ? compactTag(context, tag, kind) : -1
    if (compact < 0) return this.writeFramed(context, tag, kind, payload, bytes)
    const w = this.words
    w[0] = this.peer
    w[1] = compact
    w[2] = bytes
    if (bytes > 0) this.copy.write(SEND_DESCRIPTOR_BYTES, payload!, bytes)
    this.mpi.send()
    return true
  }

  /** A small frame with its 16-byte header: a payload over 8 bytes, or a header the MPI tag cannot carry. */
  private writeFramed(context: number, tag: number, kind: number, payload: TypedArray | null, bytes: number): boolean {
    const w = this.words
    w[0] = this.peer
    w[1] = this.mpiTag
    w[2] = HEADER_BYTES + bytes
    w[4] = context
    w[5] = tag
    w[6] = kind
    w[7] = bytes
    if (bytes > 0) this.copy.write(SEND_DESCRIPTOR_BYTES + HEADER_BYTES, payload!, bytes)
    this.mpi.send()
    return true
  }

  writeLarge(frame: OutgoingFrame): boolean {
    if (this.current !== frame) {
      this.current = frame
      this.handle = this.mpi.sendLarge(this.peer, this.mpiTag, frame.context, frame.tag, frame.kind, frame.bytes, frame.bytes.byteLength)
      frame.sent = 0
    }
    if (!this.mpi.testSend(this.handle)) return false
    frame.sent = pad16(frame.bytes.byteLength)
    this.current = null
    return true
  }
}

/** Frames from one peer, the head one held in a staging buffer. */
export class MpiInChannel implements InChannel {
  hasFrame = false
  frameContext = 0
  frameTag = 0
  frameKind = 0
  frameBytes = 0
  readonly smallMax = MPI_SMALL_BYTES
  /** Every small frame and every large frame's header fit (the addon receives into it; never replaced). */
  private readonly staging = new ArrayBuffer(MPI_SMALL_BYTES)
  private readonly header = new Int32Array(this.staging, 0, 4)
  private readonly copy = new FrameCopy(new Uint8Array(this.staging))
  /** Where a large frame is received before a non-copy sink (a reduction) combines it. */
  private scratch = new Uint8Array(0)
  /** The tag of the frame `sleepInto` delivered last. */
  deliveredTag = 0
  private readonly arrivals: Int32Array
  private readonly arm: Int32Array

  constructor(
    private readonly mpi: MpiAddon,
    /** Where the C-side wait leaves the byte length of a frame it saw arrive (indexed by slot), and the arm words. */
    staging: MpiStaging,
    /** This channel's slot in the addon's per-thread table of matched messages. */
    private readonly slot: number,
    /** The peer's process (its MPI rank). */
    private readonly peer: number,
    /** The MPI tag of this pair of rank threads. */
    private readonly mpiTag: number,
  ) {
    this.arrivals = staging.arrivals
    this.arm = staging.arm
    mpi.bind(slot, peer, mpiTag, this.staging)
  }

  /** The C-side wait (the bell's, `MpiBell.sleep`) with the receive armed; only for a rank whose channels are all MPI's (the bell then polls them all). */
  sleepInto(context: number, tag: number, kind: number, into: TypedArray, maxBytes: number): number {
    const a = this.arm
    a[ARM_SLOT] = this.slot
    a[ARM_CONTEXT] = context
    a[ARM_TAG] = tag
    a[ARM_KIND] = kind
    a[ARM_MAX] = maxBytes
    if (!this.mpi.waitInto(into, WAIT_NS)) return ARMED_SLEPT
    const bytes = a[ARM_DELIVERED]!
    if (bytes < 0) return ARMED_WOKEN
    this.deliveredTag = a[ARM_DELIVERED_TAG]!
    return bytes
  }

  isSmall(payloadBytes: number): boolean {
    return isSmall(payloadBytes)
  }

  peek(): boolean {
    if (this.hasFrame) return true
    if (this.arrivals[this.slot] !== 0) this.arrivals[this.slot] = 0
    else if (this.mpi.probe(this.slot) === 0) return false
    const h = this.header
    this.frameContext = h[0]!
    this.frameTag = h[1]!
    this.frameKind = h[2]!
    this.frameBytes = h[3]! >>> 0
    this.hasFrame = true
    return true
  }

  readSmallInto(dest: TypedArray): void {
    this.copy.read(dest, HEADER_BYTES, this.frameBytes)
    this.hasFrame = false
  }

  payloadByte(k: number): number {
    return this.copy.bytes[HEADER_BYTES + k] as number
  }

  skipSmall(): void {
    this.hasFrame = false
  }

  readLarge(dest: TypedArray, sink: Sink = copyBytes): boolean {
    const bytes = this.frameBytes
    if (sink === copyBytes) this.mpi.recvPayload(this.peer, this.mpiTag, dest, 0, bytes)
    else {
      if (this.scratch.byteLength < bytes) this.scratch = new Uint8Array(bytes)
      this.mpi.recvPayload(this.peer, this.mpiTag, this.scratch, 0, bytes)
      sink(dest, 0, this.scratch, 0, bytes)
    }
    this.hasFrame = false
    return true
  }

  /** A large frame's sender waits for its payload to be taken; so may a sender with more frames queued behind this one. */
  writerStalled(): boolean {
    return this.hasFrame && (!isSmall(this.frameBytes) || this.mpi.pending(this.slot))
  }
}

/** How long one "sleep" of a rank that has only MPI channels polls MPI in C before the engine re-checks everything (ns). */
const WAIT_NS = 50_000

/**
 * Waiting on MPI: nothing to publish (no shared control block across
 * processes) and no doorbell to ring. A rank whose channels are all MPI
 * (one rank per process) sleeps by polling its posted receives, large sends
 * and allgather in C until one completes (`waitAny`), so an arrival is seen
 * as soon as MPI sees it; it goes to sleep after its first failed attempt
 * (`pollsTransport`), since each poll from JavaScript costs a Node-API call. A
 * rank with sibling threads (hybrid) also waits on shared-memory rings that
 * the C loop cannot see: its "sleep" gives the core away once and asks to be
 * called again, so it keeps polling both like an MPI program does (with
 * `--mca mpi_yield_when_idle 1` on few cores).
 */
export class MpiBell implements Bell {
  constructor(
    private readonly mpi: MpiAddon,
    /** True when every channel of the rank is an MPI channel: its sleep then polls them all in C. */
    readonly pollsTransport: boolean,
  ) {}
  abortWord(): number {
    return 0
  }
  prepareSleep(): number {
    return 0
  }
  publishBlocked(): void {}
  sleep(): boolean {
    if (this.pollsTransport) return this.mpi.waitAny(WAIT_NS)
    this.mpi.yieldThread()
    return false
  }
  wakeUp(): void {}
  unblocked(): void {}
  enterCollective(): void {}
  ring(): void {}
}

/** One communicator's bound allgather: a start polls in C long enough for a prompt peer, later tests briefly. */
class MpiAllgather implements NativeAllgather {
  constructor(
    private readonly mpi: MpiAddon,
    /** The addon's bound run (no arguments: the leanest Node-API call). */
    readonly start: () => boolean,
  ) {}

  get done(): boolean {
    return this.mpi.allgatherTest(ALLGATHER_POLL_NS)
  }
}

/** The MPI tag of frames from thread `from` to thread `to` (K threads per process): odd, the next even one carries large payloads. */
export const mpiTagOf = (from: number, to: number, perProcess: number): number => 1 + 2 * (from * perProcess + to)

/**
 * Initializes MPI in this process (MPI_Init_thread, by its first rank
 * thread) and returns the links of rank thread `thread` of `perProcess`:
 * its rank is process · perProcess + thread, the job's size processes ·
 * perProcess. `memory` is the process's own shared memory (its K threads'
 * rings, and the heap the job's RMA window exposes). Throws `MpiUnavailable`
 * when the addon is missing.
 */
export function mpiLinks(memory: WorldMemory, thread = 0, perProcess = 1): Links & { readonly rank: number } {
  const mpi = mpiAddon()
  const [process, processes, , compactMax] = mpi.init(new Uint8Array(memory.heap), perProcess)
  const size = processes * perProcess
  const rank = process * perProcess + thread
  const staging = new MpiStaging(size)
  mpi.bindThread(staging.buffer, staging.arrivals)
  const outs: OutChannel[] = []
  const ins: InChannel[] = []
  for (let peer = 0; peer < size; peer++) {
    const peerProcess = Math.floor(peer / perProcess)
    const peerThread = peer % perProcess
    if (peerProcess === process) {
      outs.push(new Ring(memory, thread, peerThread))
      ins.push(new Ring(memory, peerThread, thread))
    } else {
      outs.push(new MpiOutChannel(mpi, staging, peerProcess, mpiTagOf(thread, peerThread, perProcess), compactMax))
      ins.push(new MpiInChannel(mpi, staging, peer, peerProcess, mpiTagOf(peerThread, thread, perProcess)))
    }
  }
  const heap = memory.heap
  let contexts = 0
  // Native collectives: point-to-point on the addon's own duplicate of MPI_COMM_WORLD, one tag per rankflow communicator.
  // Contexts are even and unique in the job: context / 2 is a tag no other communicator uses.
  const bindAllgather = (context: number, group: Int32Array | null, send: Uint8Array, recv: Uint8Array): NativeAllgather =>
    new MpiAllgather(mpi, mpi.allgatherBind(context / 2, group, send, recv, ALLGATHER_FIRST_POLL_NS))
  return {
    name: "mpi",
    rank,
    size,
    bell: new MpiBell(mpi, perProcess === 1),
    out: (peer) => outs[peer]!,
    in: (peer) => ins[peer]!,
    // Unique without asking anyone: world uses 0 and 1, then 2 + 2 (k·size + rank).
    newContext: () => 2 + 2 * (contexts++ * size + rank),
    heap,
    // One allocator for the job: a counter in process 0's heap (its first 64 bytes).
    reserveHeap: (bytes) => {
      const units = Math.ceil(bytes / HEAP_UNIT)
      const top = mpi.fetchAndAddInt32(0, 0, units)
      const offset = HEAP_HEADER_BYTES + top * HEAP_UNIT
      return offset + units * HEAP_UNIT > heap.byteLength ? -1 : offset
    },
    fetchAndAdd: (target, index, value) => mpi.fetchAndAddInt32(Math.floor(target / perProcess), index, value),
    // One rank per process: the ranks of a communicator are MPI processes (hybrid runs keep the engine's algorithms).
    ...(perProcess === 1 ? { bindAllgather } : {}),
    abort: (code) => mpi.abort(code),
    finalize: () => mpi.finalize(),
  }
}
