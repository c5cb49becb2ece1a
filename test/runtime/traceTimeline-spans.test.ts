// Spans above the engine (pipeline stages, farm tasks, stream items) cost nothing without a timeline: the
// stage is returned as it is; with one, each run is a span with its kind and index, written as an "X" event.
import test from "ava"
import { SpanKind, threadTimeline, Timeline, timelineEvent, TimelineEvent } from "../../src/comm/timeline.ts"
import { LoopSpans, spanned } from "../../src/pipeline/spans.ts"
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
  const event = (i: number) => timelineEvent(data, i)
  t.deepEqual([event(0).code, event(0).tag, event(0).c], [TimelineEvent.span, 3, SpanKind.stencil])
  t.true(event(0).end >= event(0).start, "a span ends after it starts")
  t.deepEqual([event(1).tag, event(1).c], [4, SpanKind.stencil])

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

test.serial("a loop of tiny steps records one step in k in detail, the others as one steps span, covering every step once", (t) => {
  const timeline = new Timeline(0)
  const spans = new LoopSpans(timeline, 2) // two stages: three clock reads per detailed step
  // Step 1 in detail took 1 µs: spans (~0.3 µs) would cost far over 1%, so the next steps run undetailed.
  t.true(spans.detail())
  spans.ended(100.001, 0.001)
  let step = 2
  let detailedAt = -1
  for (; step <= 5000; step++) {
    if (spans.detail()) {
      detailedAt = step
      break
    }
    spans.join(step, 1)
  }
  t.true(detailedAt > 2, `the next detailed step is ${detailedAt}`)
  t.is(detailedAt, 1 + Math.ceil((3 * 1e-4) / (0.01 * 0.001)), "k keeps the spans' cost near 1% of the steps' time")
  spans.close(100.001 + (detailedAt - 2) * 0.001)
  const data = timeline.data()
  t.is(data.count, 1)
  const e = timelineEvent(data, 0)
  t.deepEqual([e.code, e.start, e.end, e.peer, e.tag, e.c].map((v) => Math.round(v * 1e6) / 1e6), [TimelineEvent.span, 100.001, Math.round((100.001 + (detailedAt - 2) * 0.001) * 1e6) / 1e6, detailedAt - 2, 2, SpanKind.steps])
  // Undetailed steps that turn out long (1 ms each) bring every step back in detail.
  spans.ended(200, 0.001)
  let undetailed = 0
  while (!spans.detail()) {
    spans.join(detailedAt + 1 + undetailed, 1)
    undetailed++
  }
  t.true(Math.abs(undetailed - (detailedAt - 2)) <= 1, `${undetailed} undetailed steps`) // k from these steps (to rounding)
  spans.close(200 + undetailed)
  spans.ended(201 + undetailed, 1)
  t.true(spans.detail())
  spans.ended(202 + undetailed, 1)
  t.true(spans.detail())
  spans.end(203 + undetailed)
  t.is(timeline.data().count, 2, "the undetailed steps, then nothing left to close")
})
