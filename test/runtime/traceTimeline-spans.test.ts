// Spans above the engine (pipeline stages, farm tasks, stream items) cost nothing without a timeline: the
// stage is returned as it is; with one, each run is a span with its kind and index, written as an "X" event.
import test from "ava"
import { SpanKind, threadTimeline, Timeline, TIMELINE_STRIDE, TimelineEvent } from "../../src/comm/timeline.ts"
import { spanned } from "../../src/pipeline/spans.ts"
import { timelineJson } from "../../src/runtime/traceTimeline.ts"

test.serial("without a timeline a stage is not wrapped; with one, each run records a span that the writer names", (t) => {
  // No Timeline was made in this process: nothing to record into, and the stage is the very same function.
  t.is(threadTimeline(), null)
  let runs = 0
  const stage = (): number => ++runs
  t.is(spanned(stage, SpanKind.stencil, () => 7), stage)

  const timeline = new Timeline(2)
  t.is(threadTimeline(), timeline)
  let step = 3
  const traced = spanned(stage, SpanKind.stencil, () => step)
  t.not(traced, stage)
  t.is(traced(), 1, "the stage's own result comes back")
  step = 4
  t.is(traced(), 2)
  timeline.span(SpanKind.task, 10, 12.5, 5, 1)
  timeline.span(SpanKind.stencil, 20, 21, 9, 8)
  timeline.span(SpanKind.chunk, 30, 31, 11, 1)
  const data = timeline.data()
  t.is(data.count, 5)
  const event = (i: number) => Array.from(data.events.subarray(i * TIMELINE_STRIDE, (i + 1) * TIMELINE_STRIDE))
  t.deepEqual([event(0)[0], event(0)[4], event(0)[5]], [TimelineEvent.span, 3, SpanKind.stencil])
  t.true(event(0)[2]! >= event(0)[1]!, "a span ends after it starts")
  t.deepEqual([event(1)[4], event(1)[5]], [4, SpanKind.stencil])

  let json = ""
  timelineJson([{ ...data, rank: 0 }], 1, "test", (text) => (json += text))
  const spans = (JSON.parse(json) as { traceEvents: Array<{ name: string; cat?: string; ph: string; ts: number; dur?: number; args?: Record<string, number> }> }).traceEvents.filter((e) => e.ph === "X")
  t.deepEqual(
    spans.map((e) => [e.name, e.cat, e.args]),
    [
      ["stencil", "stage", { step: 3 }],
      ["stencil", "stage", { step: 4 }],
      ["task", "farm", { task: 5 }],
      ["stencil", "stage", { step: 9, steps: 8 }],
      ["map", "stage", { chunk: 11 }],
    ],
  )
  const task = spans[2]!
  t.is(task.dur, 2500, "µs")
  t.is(spans[3]!.ts - task.ts, 10_000)
})
