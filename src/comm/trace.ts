/**
 * What a rank's communication did, counted when the run is traced
 * (`--trace`): messages and bytes sent to each rank and on each lane (raw
 * buffer, number, serialized), time spent waiting in blocking calls, and
 * collective calls by kind. Counting is a few typed-array increments per
 * message; without `--trace` the engine keeps no Trace at all.
 *
 * Layer: comm.
 */
import { COLLECTIVE_NAMES } from "./collectives.ts"
import { KIND_NUMBER, KIND_SERIALIZED } from "./dtype.ts"

/** A rank's trace as plain data, for the supervisor's report. */
export interface TraceSummary {
  readonly rank: number
  /** Messages and bytes this rank sent to each rank (index: destination). */
  readonly sentTo: ReadonlyArray<{ readonly messages: number; readonly bytes: number }>
  /** Messages and bytes per lane: typed arrays and buffers as raw bytes, numbers, v8-serialized values. */
  readonly lanes: { readonly [lane in Lane]: { readonly messages: number; readonly bytes: number } }
  /** Seconds spent inside blocking communication calls, and how many such calls. */
  readonly waitSeconds: number
  readonly waits: number
  /** Collective calls made, by name (collectives' own messages count above too). */
  readonly collectives: Readonly<Record<string, number>>
}

export type Lane = "buffer" | "number" | "serialized"
const LANES: ReadonlyArray<Lane> = ["buffer", "number", "serialized"]
const laneOf = (kind: number): number => (kind === KIND_NUMBER ? 1 : kind === KIND_SERIALIZED ? 2 : 0)

export class Trace {
  private readonly to: Float64Array
  private readonly lanes = new Float64Array(2 * LANES.length)
  private readonly collectiveCalls = new Float64Array(COLLECTIVE_NAMES.length)
  private waitMs = 0
  private waits = 0
  private since = 0

  constructor(
    private readonly rank: number,
    size: number,
  ) {
    this.to = new Float64Array(2 * size)
  }

  sent(dest: number, kind: number, bytes: number): void {
    this.to[2 * dest]!++
    this.to[2 * dest + 1]! += bytes
    const lane = laneOf(kind)
    this.lanes[2 * lane]!++
    this.lanes[2 * lane + 1]! += bytes
  }

  waitBegins(): void {
    this.since = performance.now()
  }

  waitEnds(): void {
    this.waitMs += performance.now() - this.since
    this.waits++
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
      waitSeconds: this.waitMs / 1000,
      waits: this.waits,
      collectives: Object.fromEntries(COLLECTIVE_NAMES.flatMap((name, op) => (this.collectiveCalls[op]! > 0 ? [[name, this.collectiveCalls[op]!]] : []))),
    }
  }
}
