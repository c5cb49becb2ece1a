/**
 * Spans of a pipeline's stages in the `--trace=FILE.json` timeline: a
 * compiled stage is wrapped once, at set-up, only when the run writes a
 * timeline; otherwise the stage is returned as it is and a step costs
 * nothing more.
 *
 * Layer: pipeline (rank side).
 */
import { threadTimeline } from "../comm/timeline.ts"

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
