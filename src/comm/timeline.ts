/**
 * A rank's timeline for `--trace=FILE.json`: what happened when, as numbers
 * in one growing Float64Array (six per event), sent to the supervisor at the
 * end of the run and written there as a Chrome trace-event / Perfetto file
 * (runtime/traceTimeline.ts). Recording an event is a few stores; the array
 * doubles when full, so nothing is allocated per message. Without a timeline
 * file the engine keeps no Timeline at all.
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
} as const

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

export class Timeline {
  private events = new Float64Array(TIMELINE_STRIDE * 8192)
  private count = 0

  constructor(private readonly rank: number) {}

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
