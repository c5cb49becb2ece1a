/**
 * `--trace=FILE.json`: every rank's timeline (comm/timeline.ts) as one
 * Chrome trace-event / Perfetto JSON document. One process (the job), one
 * thread track per rank (tid = rank); blocking collectives and blocked waits
 * are complete ("X") spans, each message is a zero-length "send" slice on
 * the sender and an "arrive" slice on the receiver joined by a flow arrow
 * ("s"/"f", same id) carrying its bytes. Times are µs since the job's first
 * event, from each thread's `performance.timeOrigin + performance.now()`.
 * Messages from one rank to another leave the ring in the order they were
 * sent, so the k-th send from a to b is the k-th arrival at b from a.
 *
 * Layer: runtime (supervisor side).
 */
import { closeSync, openSync, writeFileSync } from "node:fs"
import { COLLECTIVE_NAMES } from "../comm/collectives.ts"
import { TIMELINE_STRIDE, TimelineEvent, type TimelineData } from "../comm/timeline.ts"
import { InvalidOptions } from "../errors.ts"
import { blockedOpName } from "../transport/doorbell.ts"

/** One event of the trace-event format (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU). */
export interface TraceEvent {
  readonly name: string
  readonly ph: "X" | "s" | "f" | "M"
  readonly ts: number
  readonly pid: number
  readonly tid: number
  readonly dur?: number
  readonly cat?: string
  readonly id?: number
  readonly bp?: "e"
  readonly args?: Readonly<Record<string, unknown>>
}

/** The job's process id in the trace. */
const PID = 1

/** Creates (truncates) `path` now, so that an unwritable path fails before any rank starts. */
export function checkTraceFile(path: string): void {
  try {
    closeSync(openSync(path, "w"))
  } catch (error) {
    throw new InvalidOptions("--trace", `cannot write the timeline to '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

const peerName = (peer: number): string => (peer < 0 ? "any" : `rank ${peer}`)

/** The trace-event document of the ranks' timelines (`size` ranks in the job). */
export function timelineDocument(timelines: ReadonlyArray<TimelineData>, size: number, title: string): { traceEvents: TraceEvent[]; displayTimeUnit: "ms" } {
  let zero = Infinity
  for (const t of timelines) for (let i = 0; i < t.count; i++) zero = Math.min(zero, t.origin + t.events[i * TIMELINE_STRIDE + 1]!)
  const µs = (t: TimelineData, ms: number): number => Math.round((t.origin + ms - zero) * 1000 * 1000) / 1000
  const events: TraceEvent[] = [{ name: "process_name", ph: "M", ts: 0, pid: PID, tid: 0, args: { name: title } }]
  for (let rank = 0; rank < size; rank++) {
    events.push({ name: "thread_name", ph: "M", ts: 0, pid: PID, tid: rank, args: { name: `rank ${rank}` } })
    events.push({ name: "thread_sort_index", ph: "M", ts: 0, pid: PID, tid: rank, args: { sort_index: rank } })
  }
  // Flow ids: the k-th message from a to b has the id of the k-th send a→b.
  const sentCount = new Map<number, number>()
  const arrivedCount = new Map<number, number>()
  const flowId = (counts: Map<number, number>, from: number, to: number): number => {
    const key = from * size + to
    const k = counts.get(key) ?? 0
    counts.set(key, k + 1)
    return k * size * size + key + 1
  }
  for (const t of [...timelines].sort((a, b) => a.rank - b.rank)) {
    const e = t.events
    const tid = t.rank
    for (let i = 0; i < t.count; i++) {
      const at = i * TIMELINE_STRIDE
      const code = e[at]!
      const ts = µs(t, e[at + 1]!)
      const dur = Math.max(0, µs(t, e[at + 2]!) - ts)
      const peer = e[at + 3]!
      const tag = e[at + 4]!
      const c = e[at + 5]!
      if (code === TimelineEvent.send || code === TimelineEvent.arrive) {
        const send = code === TimelineEvent.send
        const id = send ? flowId(sentCount, tid, peer) : flowId(arrivedCount, peer, tid)
        const args = send ? { to: peer, tag, bytes: c } : { from: peer, tag, bytes: c }
        events.push({ name: send ? `send → ${peerName(peer)}` : `arrive ← ${peerName(peer)}`, cat: "message", ph: "X", ts, dur: 0, pid: PID, tid, args })
        events.push({ name: "message", cat: "message", ph: send ? "s" : "f", bp: "e", id, ts, pid: PID, tid, args })
      } else if (code === TimelineEvent.wait) {
        const what = blockedOpName(c)
        events.push({ name: `wait ${what} ${peerName(peer)}${tag >= 0 ? ` tag ${tag}` : ""}`, cat: "wait", ph: "X", ts, dur, pid: PID, tid, args: { call: what, peer, tag } })
      } else if (code === TimelineEvent.collective) {
        events.push({ name: COLLECTIVE_NAMES[c] ?? "collective", cat: "collective", ph: "X", ts, dur, pid: PID, tid })
      }
    }
  }
  return { traceEvents: events, displayTimeUnit: "ms" }
}

/** Writes the ranks' timelines to `path`; returns how many events it holds. */
export function writeTimeline(path: string, timelines: ReadonlyArray<TimelineData>, size: number, title: string): number {
  const document = timelineDocument(timelines, size, title)
  writeFileSync(path, JSON.stringify(document))
  return document.traceEvents.length
}
