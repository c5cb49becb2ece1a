/**
 * A rank's timeline for `--trace=FILE.json`: what happened when, as numbers
 * in one growing Float64Array (six per event), sent to the supervisor at the
 * end of the run and written there as a Chrome trace-event / Perfetto file
 * (runtime/traceTimeline.ts). Recording an event is a few stores; the array
 * doubles when full, so nothing is allocated per message. Without a timeline
 * file the engine keeps no Timeline at all.
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
} as const

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

/** Numbers per event: code, start ms, end ms, peer, tag, c. */
export const TIMELINE_STRIDE = 6

/** A rank's timeline as plain data (structured-cloned to the supervisor). */
export interface TimelineData {
  readonly rank: number
  /** `performance.timeOrigin` of the rank's thread: event times are `performance.now()` there. */
  readonly origin: number
  /** `TIMELINE_STRIDE` numbers per event, `count` events. */
  readonly events: Float64Array
  readonly count: number
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

export class Timeline {
  private events = new Float64Array(TIMELINE_STRIDE * 8192)
  private count = 0

  constructor(private readonly rank: number) {
    current = this
  }

  /** A span of `kind` (SpanKind) from `start` to `end` (`performance.now()` ms): `index` its step, task or item (-1: none), `count` how many it covers. */
  span(kind: number, start: number, end: number, index: number, count: number): void {
    this.record(TimelineEvent.span, start, end, count, index, kind)
  }

  record(code: number, start: number, end: number, peer: number, tag: number, c: number): void {
    let at = this.count * TIMELINE_STRIDE
    if (at === this.events.length) {
      const bigger = new Float64Array(2 * this.events.length)
      bigger.set(this.events)
      this.events = bigger
    }
    const e = this.events
    e[at++] = code
    e[at++] = start
    e[at++] = end
    e[at++] = peer
    e[at++] = tag
    e[at] = c
    this.count++
  }

  data(): TimelineData {
    return { rank: this.rank, origin: performance.timeOrigin, events: this.events.subarray(0, this.count * TIMELINE_STRIDE), count: this.count }
  }
}
