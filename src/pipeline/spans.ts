/**
 * Spans of a pipeline's stages in the `--trace=FILE.json` timeline: a
 * compiled stage is wrapped once, at set-up, only when the run writes a
 * timeline; otherwise the stage is returned as it is and a step costs
 * nothing more. Loops sample their steps (`LoopSpans`) so that tracing tiny
 * steps costs about 1% of them.
 *
 * Layer: pipeline (rank side).
 */
import { SpanKind, type Timeline, threadTimeline } from "../comm/timeline.ts"

/**
 * `work` recording a span of `kind` (a SpanKind) on this thread's timeline
 * each time it runs, with `index()` (a step, a chunk; -1: none) read after it
 * ran; `work` itself when the run writes no timeline.
 */
export function spanned<R>(work: () => R, kind: number, index: () => number): () => R {
  const timeline = threadTimeline()
  if (timeline === null) return work
  return () => {
    const start = performance.now()
    const value = work()
    timeline.span(kind, start, performance.now(), index(), 1)
    return value
  }
}

/** Clock read and event record, ms: what tracing one stage of a step costs (measured ~0.1 µs here). */
const SPAN_MS = 1e-4
/** At most this share of a loop's time goes to its stage spans. */
const SHARE = 0.01

/**
 * Which steps of a loop record a span per stage. While a step is long, every
 * one; when steps are so short that spans would cost more than 1% of them,
 * one step in k (k from the measured time per step), and the steps in between
 * are one `steps` span each run (first step, count) read with no clock read
 * per step. A loop asks `detail()` as each step (or exchange cycle) begins.
 */
export class LoopSpans {
  private every = 1
  private skip = 0
  private lastEnd = 0
  private batchFrom = 0
  private batchFirst = 0
  private batchSteps = 0

  /** `stages`: spans a detailed step records (its clock reads: one more). */
  constructor(
    private readonly timeline: Timeline,
    stages: number,
  ) {
    this.detailMs = (stages + 1) * SPAN_MS
  }

  private readonly detailMs: number

  /** Whether the step beginning now records its stages; if not, it must `join`. */
  detail(): boolean {
    if (this.skip === 0) return true
    this.skip--
    return false
  }

  /** `steps` steps from `first` on run undetailed (they follow a detailed step or other undetailed ones). */
  join(first: number, steps: number): void {
    if (this.batchSteps === 0) {
      this.batchFrom = this.lastEnd
      this.batchFirst = first
    }
    this.batchSteps += steps
  }

  /** Closes the undetailed steps at `now` (a clock reading) as one span, and sets k from their time per step. */
  close(now: number): void {
    if (this.batchSteps === 0) return
    this.timeline.span(SpanKind.steps, this.batchFrom, now, this.batchFirst, this.batchSteps)
    this.adapt((now - this.batchFrom) / this.batchSteps)
    this.batchSteps = 0
  }

  /** The loop ended at `now` (a clock reading): closes its undetailed steps; a next run of the loop begins in detail. */
  end(now: number): void {
    this.close(now)
    this.skip = 0
  }

  /** A detailed step (or cycle) ended at `now`, having taken `msPerStep` per step. */
  ended(now: number, msPerStep: number): void {
    if (this.every === 1) this.adapt(msPerStep) // every step detailed: no undetailed steps to learn from (the first steps are slow: JIT)
    this.lastEnd = now
    this.skip = this.every - 1
  }

  private adapt(msPerStep: number): void {
    this.every = Math.max(1, Math.min(1 << 16, Math.ceil(this.detailMs / (SHARE * Math.max(msPerStep, 1e-9)))))
  }
}
