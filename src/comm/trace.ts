/**
 * What a rank's communication did, counted when the run is traced
 * (`--trace`): messages and bytes sent to each rank and on each lane (raw
 * buffer, number, serialized), time spent waiting in blocking calls, and
 * collective calls by kind. Counting is a few typed-array increments per
 * message; without `--trace` the engine keeps no Trace at all. Waits are
 * timed for each pair's first 1024 messages, then one in 16 (`MessageDetail`),
 * the rest estimated from those. With `--trace=FILE.json` it also records a
 * Timeline: every message and wait of those it times.
 *
 * Layer: comm.
 */
import { COLLECTIVE_NAMES } from "./collectives.ts"
import { BlockedOp } from "../transport/doorbell.ts"
import { KIND_NUMBER, KIND_SERIALIZED } from "./dtype.ts"
import { Timeline, TimelineEvent, type TimelineData, WaitFlags } from "./timeline.ts"

/** A rank's trace as plain data, for the supervisor's report. */
export interface TraceSummary {
  readonly rank: number
  /** Messages and bytes this rank sent to each rank (index: destination). */
  readonly sentTo: ReadonlyArray<{ readonly messages: number; readonly bytes: number }>
  /** Messages and bytes per lane: typed arrays and buffers as raw bytes, numbers, v8-serialized values. */
  readonly lanes: { readonly [lane in Lane]: { readonly messages: number; readonly bytes: number } }
  /** Seconds blocking communication calls spent waiting (from their first failed attempt), and how many such calls. */
  readonly waitSeconds: number
  readonly waits: number
  /**
   * When waits were sampled (see `MessageDetail`; not with
   * `--trace-messages=all`): how many calls had to wait, and how many of them
   * were timed; `waitSeconds` is then the timed waits' seconds scaled by
   * `waited / timedWaits`, an estimate.
   */
  readonly sampledWaits?: { readonly waited: number; readonly timed: number }
  /** Collective calls made, by name (collectives' own messages count above too). */
  readonly collectives: Readonly<Record<string, number>>
  /** What happened when, with `--trace=FILE.json` (the supervisor takes it out before reporting). */
  readonly timeline?: TimelineData
}

export type Lane = "buffer" | "number" | "serialized"
const LANES: ReadonlyArray<Lane> = ["buffer", "number", "serialized"]
/** A wait and its arrival are one record when the message's bytes fit the record's int32. */
const MAX_MERGED_BYTES = 0x7fff_ffff
// Module-level copies of the imported codes: a hot method comparing with an imported binding measured
// 30–45 ns a call under tsx against 3 ns with these (micro-benchmark of sent's counters).
const NUMBER = KIND_NUMBER
const SERIALIZED = KIND_SERIALIZED
const SEND = TimelineEvent.send
const WAIT = TimelineEvent.wait
const COLLECTIVE = TimelineEvent.collective
const RECV = BlockedOp.recv
const ANY_SOURCE_FLAG = WaitFlags.anySource
const ANY_TAG_FLAG = WaitFlags.anyTag
const laneOf = (kind: number): number => (kind === NUMBER ? 1 : kind === SERIALIZED ? 2 : 0)

/**
 * Which messages a timeline records in detail (`--trace=FILE.json`): each
 * pair's first `full` messages, then one in `every`, chosen by the pair's
 * sequence number, which the sender and the receiver count alike (one ring per
 * pair, first in, first out) — so every recorded send has its recorded
 * arrival, and a receive's wait is timed when the message it waits for is
 * recorded. Messages and bytes are still counted exactly, every one.
 *
 * Why: a tiny-step exchange (heat1d_small by hand: a message and a blocked
 * receive per rank per ~2 µs step) paid 13–17% for a clock read and a record
 * per message and per wait; the clock read that ends a wait is on the rank's
 * critical path and costs ~8% alone. Plain `--trace` (no timeline) times the
 * same waits by the same rule: timing every one cost it 10%, more than the
 * sampled timeline's 4.5%.
 */
export const MessageDetail = { full: 1024, every: 16 } as const
const EVERY = MessageDetail.every

/** Which messages a timeline records: "sampled" (see `MessageDetail`, the default) or "all" (`--trace-messages=all`). */
export type TraceMessages = "sampled" | "all"

/** What a rank records: nothing (false), counts (`--trace`), a timeline too ("timeline": `--trace=FILE.json`; "timeline-all": with `--trace-messages=all`). */
export type TraceMode = boolean | "timeline" | "timeline-all"

export class Trace {
  private to: Float64Array
  private readonly lanes = new Float64Array(2 * LANES.length)
  private readonly collectiveCalls = new Float64Array(COLLECTIVE_NAMES.length)
  private waitMs = 0
  private waits = 0
  private since = 0
  /** What the current blocking call waits for, once it had to wait (op 0: it has not). */
  private blockedOp = 0
  private blockedPeer = -1
  private blockedTag = -1
  /** When the last blocking call ended (-1: it did not wait), and whether the next arrival happens right then. */
  private endedAt = 0
  private arrivalAtWaitEnd = false
  /** The last wait is still to be recorded, with the arrival that ended it. */
  private waitOpen = false
  /** Messages taken from each rank (the receiving end's sequence numbers, for `detailed`; counted with or without a timeline). */
  private readonly arrivals: Float64Array
  /** Whether the current wait is timed: a receive from a known rank when the message it waits for is detailed (`MessageDetail`), any other wait always. */
  private timed = true
  private waited = 0
  private timedWaits = 0
  /** Events with times, when the run writes a timeline file (`--trace=FILE.json`). */
  readonly timeline: Timeline | null

  /** Each pair's first this many messages are recorded in detail (Infinity: every one). */
  private readonly full: number

  constructor(
    private readonly rank: number,
    size: number,
    timeline = false,
    messages: TraceMessages = "sampled",
  ) {
    this.to = new Float64Array(2 * size)
    this.arrivals = new Float64Array(size)
    this.timeline = timeline ? new Timeline(rank) : null
    this.full = messages === "all" ? Number.POSITIVE_INFINITY : MessageDetail.full
  }

  /** Whether message `n` (from 0) of a pair is recorded in detail. */
  private detailed(n: number): boolean {
    return n < this.full || n % EVERY === 0
  }

  /**
   * Counts messages and bytes per destination into `row` (2 × size slots,
   * e.g. a view of shared memory a live display reads) instead of private
   * memory; what was counted so far moves along.
   */
  countInto(row: Float64Array): void {
    row.set(this.to)
    this.to = row
  }

  /**
   * A message to `dest` was handed over. The engine calls it once a small
   * message is in the ring (its time is read when the receiver may already
   * take it: the clock read is not on the message's way), and when a large
   * one is queued.
   */
  sent(dest: number, kind: number, bytes: number, tag: number): void {
    const n = this.to[2 * dest]!++
    this.to[2 * dest + 1]! += bytes
    const lane = laneOf(kind)
    this.lanes[2 * lane]!++
    this.lanes[2 * lane + 1]! += bytes
    if (this.timeline !== null && dest !== this.rank && this.detailed(n)) this.timeline.message(SEND, performance.now(), dest, tag, bytes)
  }

  /**
   * A message from `source` left its ring: counted (its sequence number
   * decides whether a wait for the next one is timed) and, with a timeline,
   * recorded. Right after a receive's wait (`arrivesNow`), it is recorded
   * with the wait as one event, at the wait's end: one clock read and one
   * record for both.
   */
  arrived(source: number, tag: number, bytes: number): void {
    const n = this.arrivals[source]!++
    if (this.timeline === null) return
    if (!this.detailed(n)) {
      this.arrivalAtWaitEnd = false
      this.waitOpen = false // (a wait is timed by the message it waits for: one not recorded ends an untimed wait, or a mispredicted one)
      return
    }
    if (this.arrivalAtWaitEnd) {
      this.arrivalAtWaitEnd = false
      if (this.waitOpen) {
        this.waitOpen = false
        if (bytes <= MAX_MERGED_BYTES) {
          const flags = (this.blockedPeer < 0 ? ANY_SOURCE_FLAG : 0) | (this.blockedTag < 0 ? ANY_TAG_FLAG : 0)
          this.timeline.stageWaitArrive(this.since, this.endedAt, source, tag, bytes, flags)
          return
        }
        this.timeline.record(WAIT, this.since, this.endedAt, this.blockedPeer, this.blockedTag, this.blockedOp)
      }
      if (this.endedAt >= 0) return this.timeline.stageArrival(this.endedAt, source, tag, bytes)
    }
    this.timeline.stageArrival(performance.now(), source, tag, bytes)
  }

  /**
   * The blocking receive that is about to end (`waitEnds`) takes a small
   * message out of its ring next (`arrived`): the two share the wait's end
   * as their time, and one record (a clock read and a record are most of
   * what a tiny step's trace costs).
   */
  arrivesNow(): void {
    this.arrivalAtWaitEnd = true
  }

  /** A blocking call begins; the clock is read only if it has to wait (`blocked`), so one that finds its message at once costs nothing. */
  waitBegins(): void {
    this.blockedOp = 0
  }

  /** The current blocking call failed an attempt and waits for `peer`/`tag` (called on every failed attempt). */
  blocked(op: number, peer: number, tag: number): void {
    if (this.blockedOp === 0) {
      // A receive from a known rank is timed when the next message from there is detailed (with a timeline: recorded).
      this.timed = op !== RECV || peer < 0 || this.detailed(this.arrivals[peer]!)
      if (this.timed) this.since = performance.now()
    }
    this.blockedOp = op
    this.blockedPeer = peer
    this.blockedTag = tag
  }

  waitEnds(): void {
    this.waits++
    if (this.blockedOp === 0) {
      this.endedAt = -1
      return
    }
    this.waited++
    if (!this.timed) {
      this.endedAt = -1
      return
    }
    this.timedWaits++
    const now = performance.now()
    this.endedAt = now
    this.waitMs += now - this.since
    if (this.timeline === null) return
    if (this.arrivalAtWaitEnd) this.waitOpen = true // recorded with the arrival
    else this.timeline.record(WAIT, this.since, now, this.blockedPeer, this.blockedTag, this.blockedOp)
  }

  /** The start time of a blocking collective, for `collectiveEnds` (0 without a timeline). */
  clock(): number {
    return this.timeline === null ? 0 : performance.now()
  }

  /** A blocking collective `op` that began at `since` (from `clock()`) ended. */
  collectiveEnds(op: number, since: number): void {
    if (this.timeline !== null) this.timeline.record(COLLECTIVE, since, performance.now(), -1, -1, op)
  }

  collective(op: number): void {
    this.collectiveCalls[op]!++
  }

  summary(): TraceSummary {
    const pair = (a: Float64Array, i: number) => ({ messages: a[2 * i]!, bytes: a[2 * i + 1]! })
    return {
      rank: this.rank,
      sentTo: Array.from({ length: this.to.length / 2 }, (_, d) => pair(this.to, d)),
      lanes: { buffer: pair(this.lanes, 0), number: pair(this.lanes, 1), serialized: pair(this.lanes, 2) },
      waitSeconds: this.timedWaits === this.waited || this.timedWaits === 0 ? this.waitMs / 1000 : (this.waitMs / 1000) * (this.waited / this.timedWaits),
      waits: this.waits,
      ...(this.timedWaits === this.waited ? {} : { sampledWaits: { waited: this.waited, timed: this.timedWaits } }),
      collectives: Object.fromEntries(COLLECTIVE_NAMES.flatMap((name, op) => (this.collectiveCalls[op]! > 0 ? [[name, this.collectiveCalls[op]!]] : []))),
      ...(this.timeline === null ? {} : { timeline: { ...this.timeline.data(), sentTo: this.to.slice(), detail: { full: this.full, every: EVERY } } }),
    }
  }
}
