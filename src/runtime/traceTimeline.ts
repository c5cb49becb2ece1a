/**
 * `--trace=FILE.json`: every rank's timeline (comm/timeline.ts) as one
 * Chrome trace-event / Perfetto JSON document. One process (the job), one
 * thread track per rank (tid = rank); blocking collectives and blocked waits
 * are complete ("X") spans, each message is a 1 ns "send" slice on
 * the sender and an "arrive" slice on the receiver joined by a flow arrow
 * ("s"/"f", same id) carrying its bytes. Work above the engine is spans too:
 * a pipeline's stages (exchange, stencil, map, scan, reduction, gather, save;
 * a blocked loop's k sweeps between two exchanges are one "stencil" span with
 * `steps: k`), a farm's tasks and a stream's items, with their step, task or
 * item index in `args`. Times are µs since the job's first
 * event, on the process's monotonic clock (each thread's `performance.now()`
 * plus its origin there, see comm/timeline.ts): threads agree to the
 * nanosecond, so a message's arrow never points back in time.
 * Messages from one rank to another leave the ring in the order they were
 * sent, so the k-th send from a to b is the k-th arrival at b from a.
 *
 * Layer: runtime (supervisor side).
 */
import { closeSync, openSync, writeSync } from "node:fs"
import { COLLECTIVE_NAMES } from "../comm/collectives.ts"
import { MessageDetail } from "../comm/trace.ts"
import { SPAN_CATEGORIES, SPAN_INDEX_NAMES, SPAN_NAMES, TimelineEvent, TimelineReader, type TimelineData, WaitFlags } from "../comm/timeline.ts"
import { InvalidOptions } from "../errors.ts"
import { BlockedOp, blockedOpName } from "../transport/doorbell.ts"

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

/**
 * A message's send and arrival marks last 1 ns: a flow event binds to the
 * slice open at its time on its thread, and a zero-length slice may count
 * as already closed there.
 */
const MARK_US = 0.001

/** Creates (truncates) `path` now, so that an unwritable path fails before any rank starts. */
export function checkTraceFile(path: string): void {
  try {
    closeSync(openSync(path, "w"))
  } catch (error) {
    throw new InvalidOptions("--trace", `cannot write the timeline to '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

const peerName = (peer: number): string => (peer < 0 ? "any" : `rank ${peer}`)

/** A blocked wait's span: the call (`op`, a BlockedOp), whom and which tag it waited for (-1: any). */
function waitEvent(op: number, peer: number, tag: number, ts: string, dur: string, at: string): string {
  const call = blockedOpName(op)
  const name = `wait ${call} ${peerName(peer)}${tag >= 0 ? ` tag ${tag}` : ""}`
  return `{"name":"${name}","cat":"wait","ph":"X","ts":${ts},"dur":${dur},${at},"args":{"call":"${call}","peer":${peer},"tag":${tag}}}`
}

/**
 * The document's metadata (`otherData`): which messages are arrows (see
 * `MessageDetail`), and every message each rank sent to each other one,
 * counted exactly, with its bytes.
 */
function otherData(timelines: ReadonlyArray<TimelineData>, size: number): Record<string, unknown> {
  const sent: Array<{ from: number; to: number; messages: number; bytes: number }> = []
  for (const t of [...timelines].sort((a, b) => a.rank - b.rank))
    if (t.sentTo !== undefined)
      for (let to = 0; to < size && 2 * to < t.sentTo.length; to++)
        if (to !== t.rank && t.sentTo[2 * to]! > 0) sent.push({ from: t.rank, to, messages: t.sentTo[2 * to]!, bytes: t.sentTo[2 * to + 1]! })
  const detail = timelines[0]?.detail ?? MessageDetail
  const all = detail.full === Number.POSITIVE_INFINITY
  return {
    messages: all
      ? `every message is an arrow (--trace-messages=all); "sent" counts every message`
      : `each pair's first ${detail.full} messages are arrows, then one in ${detail.every} (by the pair's sequence number, at both ends); a receive's wait is a span when its message is an arrow; "sent" counts every message`,
    messageDetail: all ? "all" : { full: detail.full, every: detail.every },
    sent,
  }
}

/**
 * The arrival times (on the common clock, ms) of the messages from each rank
 * to each other one, in order: entry `from * size + to`. The k-th message
 * sent from a to b is the k-th to arrive at b from a (one ring per pair,
 * first in, first out).
 */
function arrivalTimes(timelines: ReadonlyArray<TimelineData>, size: number): number[][] {
  const arrivals = Array.from({ length: size * size }, (): number[] => [])
  for (const t of timelines) {
    const e = new TimelineReader(t)
    for (let i = 0; i < t.count; i++) {
      const code = e.at(i).code
      if (code === TimelineEvent.arrive || code === TimelineEvent.waitArrive) arrivals[e.peer * size + t.rank]!.push(t.origin + e.end)
    }
  }
  return arrivals
}

/**
 * The trace-event document of the ranks' timelines (`size` ranks in the job),
 * given to `write` in pieces of JSON text (a long run has millions of events:
 * they never exist as objects all at once).
 */
export function timelineJson(timelines: ReadonlyArray<TimelineData>, size: number, title: string, write: (text: string) => void): number {
  let zero = Infinity
  for (const t of timelines) {
    const e = new TimelineReader(t)
    for (let i = 0; i < t.count; i++) zero = Math.min(zero, t.origin + e.at(i).start)
  }
  let count = 0
  let chunk = `{"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData(timelines, size))},"traceEvents":[\n`
  const emit = (event: string): void => {
    chunk += count === 0 ? event : `,\n${event}`
    count++
    if (chunk.length > 1 << 20) {
      write(chunk)
      chunk = ""
    }
  }
  const meta = (name: string, tid: number, args: Readonly<Record<string, unknown>>) => emit(JSON.stringify({ name, ph: "M", ts: 0, pid: PID, tid, args } satisfies TraceEvent))
  meta("process_name", 0, { name: title })
  for (let rank = 0; rank < size; rank++) {
    meta("thread_name", rank, { name: `rank ${rank}` })
    meta("thread_sort_index", rank, { sort_index: rank })
  }
  // Flow ids: the k-th message from a to b has the id of the k-th send a→b.
  const sentCount = new Float64Array(size * size)
  const arrivedCount = new Float64Array(size * size)
  const flowId = (counts: Float64Array, from: number, to: number): number => {
    const key = from * size + to
    return counts[key]!++ * size * size + key + 1
  }
  const arrivals = arrivalTimes(timelines, size)
  for (const t of [...timelines].sort((a, b) => a.rank - b.rank)) {
    const e = new TimelineReader(t)
    const tid = t.rank
    const at = `"pid":${PID},"tid":${tid}`
    const ns = (ms: number): number => Math.round((t.origin + ms - zero) * 1e6)
    for (let i = 0; i < t.count; i++) {
      e.at(i)
      const code = e.code
      // Start and end rounded to the nanosecond first: spans that touch (a stage and the next) still touch, never overlap.
      const startNs = ns(e.start)
      const ts = String(startNs / 1000)
      const dur = String(Math.max(0, ns(e.end) - startNs) / 1000)
      const peer = e.peer
      const tag = e.tag
      const c = e.c
      if (code === TimelineEvent.waitArrive) {
        // A receive's wait and the arrival that ended it, recorded as one event: the wait's span, then the arrival.
        const flags = e.flags
        const waited = (flags & WaitFlags.anySource) !== 0 ? -1 : peer
        const waitedTag = (flags & WaitFlags.anyTag) !== 0 ? -1 : tag
        emit(waitEvent(BlockedOp.recv, waited, waitedTag, ts, dur, at))
      }
      if (code === TimelineEvent.send || code === TimelineEvent.arrive || code === TimelineEvent.waitArrive) {
        const send = code === TimelineEvent.send
        const key = send ? tid * size + peer : peer * size + tid
        // A send's time is read just after the message is in the ring: where the receiver took it out sooner, it is
        // marked at the arrival (the hand-over lies between the sender's previous event and both readings).
        const arrival = send ? arrivals[key]![sentCount[key]!] : undefined
        const mark = arrival !== undefined && arrival < t.origin + e.start ? String(Math.round((arrival - zero) * 1e6) / 1000) : code === TimelineEvent.waitArrive ? String(ns(e.end) / 1000) : ts
        const id = send ? flowId(sentCount, tid, peer) : flowId(arrivedCount, peer, tid)
        const args = send ? `{"to":${peer},"tag":${tag},"bytes":${c}}` : `{"from":${peer},"tag":${tag},"bytes":${c}}`
        const name = send ? `send → ${peerName(peer)}` : `arrive ← ${peerName(peer)}`
        emit(`{"name":"${name}","cat":"message","ph":"X","ts":${mark},"dur":${MARK_US},${at},"args":${args}}`)
        emit(`{"name":"message","cat":"message","ph":"${send ? "s" : "f"}","bp":"e","id":${id},"ts":${mark},${at},"args":${args}}`)
      } else if (code === TimelineEvent.wait) {
        emit(waitEvent(c, peer, tag, ts, dur, at))
      } else if (code === TimelineEvent.span) {
        const name = SPAN_NAMES[c] ?? "span"
        const key = SPAN_INDEX_NAMES[c] ?? "index"
        const args = tag < 0 ? "" : peer > 1 ? `,"args":{"${key}":${tag},"steps":${peer}}` : `,"args":{"${key}":${tag}}`
        emit(`{"name":"${name}","cat":"${SPAN_CATEGORIES[c] ?? "span"}","ph":"X","ts":${ts},"dur":${dur},${at}${args}}`)
      } else if (code === TimelineEvent.collective) {
        emit(`{"name":${JSON.stringify(COLLECTIVE_NAMES[c] ?? "collective")},"cat":"collective","ph":"X","ts":${ts},"dur":${dur},${at}}`)
      }
    }
  }
  write(`${chunk}\n]}\n`)
  return count
}

/** Writes the ranks' timelines to `path`; returns how many events it holds. */
export function writeTimeline(path: string, timelines: ReadonlyArray<TimelineData>, size: number, title: string): number {
  const fd = openSync(path, "w")
  try {
    return timelineJson(timelines, size, title, (text) => writeSync(fd, text))
  } finally {
    closeSync(fd)
  }
}
