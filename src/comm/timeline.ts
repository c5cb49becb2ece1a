/**
 * A rank's timeline for `--trace=FILE.json`: what happened when, as fixed
 * 32-byte records in chunks of memory that are filled in turn (never grown
 * by copying), sent to the supervisor at the end of the run and written
 * there as a Chrome trace-event / Perfetto file (runtime/traceTimeline.ts).
 * Recording an event is a few stores, so nothing is allocated per message;
 * a chunk (1 MiB) is allocated every 32 768 events. Without a timeline file
 * the engine keeps no Timeline at all.
 *
 * Besides the engine's own events (messages, waits, collectives), the layers
 * above record spans of their work — a pipeline's stages, a farm's tasks, a
 * stream's items — through `threadTimeline()`, which is null when the run
 * writes no timeline: they check it once when they set up, so an untraced run
 * pays nothing per step.
 *
 * Layer: comm.
 */

/** Event codes (first number of each event). */
export const TimelineEvent = {
  /** A message handed to the transport: peer = destination, c = bytes. */
  send: 1,
  /** A message taken out of the ring from `peer` (it arrived here): c = bytes. */
  arrive: 2,
  /** A blocking call that had to wait: peer/tag it waited for (-1: a collective's or any), c = the BlockedOp. */
  wait: 3,
  /** A blocking collective call from start to end: c = the collective's op. */
  collective: 4,
  /** A span of work above the engine: c = its SpanKind, tag = its index (step, task, item, chunk; -1: none), peer = how many it covers (steps of a batch). */
  span: 5,
  /**
   * A receive that had to wait, ended by the arrival of its (small) message: one
   * record for the wait (start to end) and the arrival (at end) from `peer` with
   * `tag`, c = bytes. `flags` say whether the receive asked for any source or any tag.
   */
  waitArrive: 6,
} as const

/** Flags of a `waitArrive` event: the receive waited for any source, for any tag. */
export const WaitFlags = { anySource: 1, anyTag: 2 } as const

/** What a span is (the c of a `span` event); its name in the trace is `SPAN_NAMES[kind]`. */
export const SpanKind = {
  /** A pipeline's halo exchange. */
  exchange: 1,
  /** A pipeline's stencil sweep(s) over this thread's blocks. */
  stencil: 2,
  /** A pipeline's mapLocal over this thread's blocks, or a range pipeline's map of its chunks. */
  map: 3,
  /** A pipeline's reduce or allreduce of its result. */
  reduction: 4,
  /** A pipeline's scan along a field. */
  scan: 5,
  /** A pipeline's gather of its result. */
  gather: 6,
  /** A pipeline's save of its fields to files. */
  save: 7,
  /** A task of managerWorker, computed here (tag: its index). */
  task: 8,
  /** An item of a Stream stage, computed here (tag: its index). */
  item: 9,
  /** A range pipeline's map of one chunk (tag: the chunk's index). */
  chunk: 10,
  /** A loop's steps run without a span per stage (tag: the first, peer: how many), where steps are too short to trace each. */
  steps: 11,
} as const

/** The names of the span kinds in the trace (index: SpanKind). */
export const SPAN_NAMES: ReadonlyArray<string> = ["span", "exchange", "stencil", "map", "reduction", "scan", "gather", "save", "task", "item", "map", "steps"]

/** The trace category of each span kind (index: SpanKind): what the work belongs to. */
export const SPAN_CATEGORIES: ReadonlyArray<string> = ["span", "stage", "stage", "stage", "stage", "stage", "stage", "stage", "farm", "stream", "stage", "stage"]

/** What a span's index is, its key in the trace's `args` (index: SpanKind). */
export const SPAN_INDEX_NAMES: ReadonlyArray<string> = ["index", "step", "step", "step", "step", "step", "step", "step", "task", "item", "chunk", "step"]

/** Events per chunk of a timeline: 32 bytes each, so a chunk is 1 MiB. */
export const TIMELINE_CHUNK_EVENTS = 1 << 15

/** Bytes per event: start and end (two float64), then code, peer, tag and c (four int32). */
const EVENT_BYTES = 32
/** Where a chunk's int32 part begins, in int32s (the float64 part is the first half). */
const INTS_AT = (TIMELINE_CHUNK_EVENTS * EVENT_BYTES) / 2 / 4
/** The code's int32 holds the event code in its low bits and flags above them. */
const FLAGS_SHIFT = 4
const CODE_MASK = (1 << FLAGS_SHIFT) - 1

/**
 * A rank's timeline as plain data (structured-cloned to the supervisor):
 * `count` events in chunks of `TIMELINE_CHUNK_EVENTS` (all full but the
 * last). Read it with `timelineEvent` or `TimelineReader`.
 */
export interface TimelineData {
  readonly rank: number
  /**
   * The rank thread's `performance.now()` zero on the process's monotonic
   * clock (ms of `process.hrtime`): every thread of the process has the same
   * clock this way, to the nanosecond (`performance.timeOrigin` is only
   * good to a few microseconds between threads).
   */
  readonly origin: number
  readonly chunks: ReadonlyArray<ArrayBuffer>
  readonly count: number
  /** Messages and bytes the rank sent to each rank (2 numbers per destination), all counted, recorded in detail or not. */
  readonly sentTo?: Float64Array
  /** Which messages are recorded in detail: each pair's first `full`, then one in `every` (see `MessageDetail`; `full` Infinity: all). */
  readonly detail?: { readonly full: number; readonly every: number }
}

/** One event of a timeline, as an object (tests, tools; the writer reads chunks in place). */
export interface TimelineRecord {
  readonly code: number
  /** WaitFlags of a `waitArrive`, else 0. */
  readonly flags: number
  /** `performance.now()` ms on the rank's thread; a message's start and end are the same time. */
  readonly start: number
  readonly end: number
  readonly peer: number
  readonly tag: number
  /** Bytes of a message, the BlockedOp of a wait, the op of a collective, the SpanKind of a span. */
  readonly c: number
}

/**
 * Reads a timeline's events in place, chunk by chunk: `at(i)` points it at
 * event `i`, then its fields are that event's (the supervisor's writer goes
 * through millions of events this way without an object each).
 */
export class TimelineReader {
  private floats = new Float64Array(0)
  private ints = new Int32Array(0)
  private chunk = -1
  private slot = 0

  constructor(private readonly data: TimelineData) {}

  at(i: number): this {
    const chunk = Math.floor(i / TIMELINE_CHUNK_EVENTS)
    if (chunk !== this.chunk) {
      this.floats = new Float64Array(this.data.chunks[chunk]!)
      this.ints = new Int32Array(this.data.chunks[chunk]!)
      this.chunk = chunk
    }
    this.slot = i - chunk * TIMELINE_CHUNK_EVENTS
    return this
  }

  get code(): number {
    return this.ints[INTS_AT + 4 * this.slot]! & CODE_MASK
  }
  /** The event's WaitFlags (a `waitArrive`'s), 0 for others. */
  get flags(): number {
    return this.ints[INTS_AT + 4 * this.slot]! >> FLAGS_SHIFT
  }
  get start(): number {
    return this.floats[2 * this.slot]!
  }
  get end(): number {
    return this.isMessage ? this.start : this.floats[2 * this.slot + 1]!
  }
  get peer(): number {
    return this.ints[INTS_AT + 4 * this.slot + 1]!
  }
  get tag(): number {
    return this.ints[INTS_AT + 4 * this.slot + 2]!
  }
  get c(): number {
    return this.isMessage ? this.floats[2 * this.slot + 1]! : this.ints[INTS_AT + 4 * this.slot + 3]!
  }
  private get isMessage(): boolean {
    const code = this.code
    return code === TimelineEvent.send || code === TimelineEvent.arrive
  }
}

/** Event `i` of a timeline as an object. */
export function timelineEvent(data: TimelineData, i: number): TimelineRecord {
  const e = new TimelineReader(data).at(i)
  return { code: e.code, flags: e.flags, start: e.start, end: e.end, peer: e.peer, tag: e.tag, c: e.c }
}

/**
 * The process's monotonic clock (ms) at this thread's `performance.now()`
 * zero: the tightest of a few readings of `process.hrtime` between two of
 * `performance.now()` (both count from the same monotonic clock, so the
 * difference is a constant, read to within tens of nanoseconds).
 */
function monotonicOrigin(): number {
  let best = Infinity
  let origin = 0
  for (let k = 0; k < 8; k++) {
    const before = performance.now()
    const hr = process.hrtime()
    const after = performance.now()
    if (after - before < best) {
      best = after - before
      origin = hr[0] * 1e3 + hr[1] / 1e6 - (before + after) / 2
    }
  }
  return origin
}

/** The timeline of this thread's rank, when the run writes one (the last Timeline made on the thread). */
let current: Timeline | null = null

/**
 * This thread's timeline, or null when the run writes none (`--trace=FILE.json`
 * absent): layers above comm record their spans in it. Ask once at set-up and
 * keep the answer; a null means the work runs uninstrumented.
 */
export function threadTimeline(): Timeline | null {
  return current
}

/**
 * Where a rank records what happened when. Events are fixed 32-byte records
 * in 1 MiB chunks of memory allocated as they fill (never copied, never
 * grown): recording is six stores and a bounds check, and a new chunk every
 * 32 768 events. The first chunk is allocated and written to up front, so a
 * short run's pages are in memory before it starts.
 */
export class Timeline {
  private readonly full: ArrayBuffer[] = []
  private buffer!: ArrayBuffer
  private floats!: Float64Array
  private ints!: Int32Array
  /** The next free slot of the current chunk. */
  private slot = 0
  private readonly origin = monotonicOrigin()

  constructor(private readonly rank: number) {
    this.newChunk()
    this.ints.fill(0) // the whole chunk: its pages are mapped now, not while the run records
    current = this
  }

  /** Events recorded so far. */
  get count(): number {
    return this.full.length * TIMELINE_CHUNK_EVENTS + this.slot + (this.staged ? 1 : 0)
  }

  /** A span of `kind` (SpanKind) from `start` to `end` (`performance.now()` ms): `index` its step, task or item (-1: none), `count` how many it covers. */
  span(kind: number, start: number, end: number, index: number, count: number): void {
    this.record(TimelineEvent.span, start, end, count, index, kind)
  }

  /** An event with a start and an end (a wait, a collective, a span); `c` a small integer (its op or kind). */
  record(code: number, start: number, end: number, peer: number, tag: number, c: number): void {
    if (this.staged) this.commit()
    this.write(code, start, end, peer, tag, c)
  }

  /** A message sent or arrived (`code`) at `time`, to or from `peer`, of `bytes`. */
  message(code: number, time: number, peer: number, tag: number, bytes: number): void {
    if (this.staged) this.commit()
    this.write(code, time, bytes, peer, tag, 0)
  }

  /**
   * A receive's wait from `start` to `end`, ended by a message from `peer`
   * with `tag` of `bytes` (< 2³¹) arriving at `end` (`flags`: WaitFlags).
   * Staged: kept in this object until the next event is recorded (or the
   * data is taken). A receive that ends a wait is on the rank's critical
   * path, so the stores into the chunk — and the fault of a new page, ~2 µs
   * on a VM — happen later, e.g. once the rank's next send is on its way.
   */
  stageWaitArrive(start: number, end: number, peer: number, tag: number, bytes: number, flags: number): void {
    this.stage(TimelineEvent.waitArrive | (flags << FLAGS_SHIFT), start, end, peer, tag, bytes)
  }

  /** A message arrived from `peer` at `time` (staged, see `stageWaitArrive`). */
  stageArrival(time: number, peer: number, tag: number, bytes: number): void {
    this.stage(TimelineEvent.arrive, time, bytes, peer, tag, 0)
  }

  private staged = false
  private stagedCode = 0
  private stagedStart = 0
  private stagedEnd = 0
  private stagedPeer = 0
  private stagedTag = 0
  private stagedC = 0

  private stage(code: number, start: number, end: number, peer: number, tag: number, c: number): void {
    if (this.staged) this.commit()
    this.stagedCode = code
    this.stagedStart = start
    this.stagedEnd = end
    this.stagedPeer = peer
    this.stagedTag = tag
    this.stagedC = c
    this.staged = true
  }

  private commit(): void {
    this.staged = false
    this.write(this.stagedCode, this.stagedStart, this.stagedEnd, this.stagedPeer, this.stagedTag, this.stagedC)
  }

  /** Stores one record (the layout's second float is a message's bytes, else the end). */
  private write(code: number, start: number, end: number, peer: number, tag: number, c: number): void {
    if (this.slot === TIMELINE_CHUNK_EVENTS) this.nextChunk()
    const i = this.slot++
    this.floats[2 * i] = start
    this.floats[2 * i + 1] = end
    const n = INTS_AT + 4 * i
    const ints = this.ints
    ints[n] = code
    ints[n + 1] = peer
    ints[n + 2] = tag
    ints[n + 3] = c
  }

  /** Forgets every event (a benchmark that reuses one timeline). */
  clear(): void {
    this.full.length = 0
    this.slot = 0
    this.staged = false
  }

  private nextChunk(): void {
    this.full.push(this.buffer)
    this.newChunk()
  }

  private newChunk(): void {
    this.buffer = new ArrayBuffer(TIMELINE_CHUNK_EVENTS * EVENT_BYTES)
    this.floats = new Float64Array(this.buffer, 0, 2 * TIMELINE_CHUNK_EVENTS)
    this.ints = new Int32Array(this.buffer)
    this.slot = 0
  }

  data(): TimelineData {
    if (this.staged) this.commit()
    return { rank: this.rank, origin: this.origin, chunks: [...this.full, this.buffer], count: this.count }
  }
}
