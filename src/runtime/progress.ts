/**
 * Progress of a run, reported from rank 0 to the supervisor, which draws it
 * (`--progress`). A report is a message on the rank's control port, sent at
 * most every 100 ms, so a loop may call its reporter every step.
 *
 * Layer: runtime (rank side). Loads no Effect.
 */
import { parentPort } from "node:worker_threads"
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
 * watches: the run has no `--progress`, or this thread is not world rank 0
 * — so a loop can leave the call out altogether.
 */
export function progressReporter(label: string, total: number): ((done: number) => void) | undefined {
  const start = rankState()?.start
  const port = parentPort
  if (start?.progress !== true || start.rank !== 0 || port === null) return undefined
  let last = -Infinity
  const report = { type: "progress" as const, label, done: 0, total }
  return (done) => {
    const now = performance.now()
    if (now - last < INTERVAL_MS && done !== total) return
    last = now
    report.done = done
    port.postMessage(report satisfies ProgressReport)
  }
}
