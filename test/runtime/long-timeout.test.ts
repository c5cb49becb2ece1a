// --timeout beyond setTimeout's 2³¹ − 1 ms (~24.8 days) must not fire at once:
// the timer is a chain of shorter ones, checked here without waiting 30 days.
import test from "ava"
import { longTimeout, MAX_TIMER_MS, type TimerApi } from "../../src/runtime/teardown.ts"
import { runRanks } from "rankflow"
import { fixture } from "../helpers.ts"

/** Timers that fire in order of arming, on demand, recording each delay. */
function fakeTimers(): TimerApi & { delays: number[]; fireNext: () => boolean; cleared: unknown[] } {
  const queue: Array<{ id: number; fn: () => void }> = []
  const delays: number[] = []
  const cleared: unknown[] = []
  let id = 0
  return {
    delays,
    cleared,
    set: (fn, ms) => {
      delays.push(ms)
      queue.push({ id: ++id, fn })
      return id
    },
    clear: (handle) => {
      cleared.push(handle)
      const i = queue.findIndex((q) => q.id === handle)
      if (i >= 0) queue.splice(i, 1)
    },
    fireNext: () => {
      const next = queue.shift()
      next?.fn()
      return next !== undefined
    },
  }
}

test("30 days is a chain of timers each within setTimeout's range, summing to 30 days, firing once at the end", (t) => {
  const timers = fakeTimers()
  let fired = 0
  longTimeout(() => fired++, 2_592_000 * 1000, timers)
  t.true(timers.fireNext())
  t.is(fired, 0) // the first link only re-arms
  t.true(timers.fireNext())
  t.is(fired, 1)
  t.false(timers.fireNext())
  t.true(timers.delays.every((d) => d >= 0 && d <= MAX_TIMER_MS), String(timers.delays))
  t.is(timers.delays.reduce((a, b) => a + b, 0), 2_592_000_000)
  t.is(timers.delays.length, 2)
})

test("a short delay is one timer; cancelling stops the chain wherever it is", (t) => {
  const short = fakeTimers()
  longTimeout(() => undefined, 1500, short)
  t.deepEqual(short.delays, [1500])
  const long = fakeTimers()
  let fired = 0
  const cancel = longTimeout(() => fired++, 3 * MAX_TIMER_MS, long)
  long.fireNext()
  cancel()
  while (long.fireNext());
  t.is(fired, 0)
  t.is(long.delays.length, 2)
})

test("runRanks with timeoutSeconds of 30 days finishes normally instead of timing out at once", async (t) => {
  t.deepEqual(await runRanks({ ranks: 2, module: fixture("ranks.ts"), export: "whoAmI", timeoutSeconds: 2_592_000 }), [
    [0, 2],
    [1, 2],
  ])
})
