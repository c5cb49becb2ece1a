/**
 * Progress of a run, reported from rank 0 to the supervisor, which draws it
 * (`--progress`). A report is a message on the rank's control port, sent at
 * most every 100 ms, so a loop may call its reporter every step.
 *
 * Layer: runtime (rank side). Loads no Effect.
 */
import { parentPort } from "node:worker_threads"
import { publishHeap } from "./dashboardFeed.ts"
import { rankState } from "./rankContext.ts"

/** What a rank tells the supervisor's progress display. */
export interface ProgressReport {
  readonly type: "progress"
  readonly label: string
  readonly done: number
  /** 0 when the total is not known (a lazy task list). */
  readonly total: number
}

const INTERVAL_MS = 100

/**
 * A function to call with the work done so far, or undefined when nobody
 * watches: the run has no `--progress` (or `--dashboard`), or this thread is
 * not world rank 0 — so a loop can leave the call out altogether. Under
 * `--dashboard` every rank gets one: its clock checks also refresh the rank's
 * heap figure (only rank 0's reports are sent). Reaching `total` is always
 * reported, and so is a `final` call: work that ends early (a loop that
 * converged) or whose total was unknown (a lazy task list), shown complete.
 */
export function progressReporter(label: string, total: number): ((done: number, final?: boolean) => void) | undefined {
  const start = rankState()?.start
  const port = parentPort
  const reports = start?.progress === true && start.rank === 0 && port !== null
  // With --dashboard every rank's loop also refreshes its heap figure (at its clock checks, ≤ 4 Hz).
  if (!reports && start?.dashboard === undefined) return undefined
  let sent = -Infinity
  // The clock is read every `stride` calls, the stride adapting so that reads are 0.5–5 ms apart:
  // a loop of 1 µs steps pays a counter, a farm of slow tasks still reports each one.
  let calls = 0
  let stride = 1
  let checked = performance.now()
  const report = { type: "progress" as const, label, done: 0, total }
  return (done, final = done === total) => {
    if (++calls < stride && !final) return
    calls = 0
    const now = performance.now()
    if (now - checked < 0.5) stride = Math.min(stride * 2, 1 << 16)
    else if (now - checked > 5) stride = Math.max(1, stride >> 1)
    checked = now
    publishHeap(now)
    if (!reports || (now - sent < INTERVAL_MS && !final)) return
    sent = now
    report.done = done
    if (final) report.total = done // done early (converged) or at last (an unknown total): complete
    port!.postMessage(report satisfies ProgressReport)
  }
}
