/**
 * What ranks tell the supervisor, as one rxjs stream: a rank finished (with
 * its result), failed (error and stack), ran out of heap, called
 * `comm.abort`, was aborted because another failed, or its thread exited. The supervisor folds this stream into the run's
 * outcome. Progress reports and field previews (`--dashboard`) travel the same way.
 *
 * Layer: runtime (supervisor side).
 */
import { inspect } from "node:util"
import type { Worker } from "node:worker_threads"
import { fromEvent, map, merge, type Observable } from "rxjs"
import type { TraceSummary } from "../comm/trace.ts"
import type { RankFailure } from "../errors.ts"
import type { ProgressReport } from "./progress.ts"
import type { RankReport } from "./rankEntry.ts"

export type RankEvent =
  | { readonly kind: "done"; readonly rank: number; readonly result: unknown; readonly trace?: TraceSummary }
  | { readonly kind: "failed"; readonly rank: number; readonly failure: RankFailure }
  | { readonly kind: "aborted"; readonly rank: number }
  | { readonly kind: "abort"; readonly rank: number; readonly code: number; readonly reason: string }
  | { readonly kind: "outOfMemory"; readonly rank: number }
  | { readonly kind: "exited"; readonly rank: number; readonly code: number }
  | { readonly kind: "progress"; readonly rank: number; readonly label: string; readonly done: number; readonly total: number }
  | { readonly kind: "observation"; readonly rank: number; readonly label: string; readonly step: number; readonly shape: ReadonlyArray<number>; readonly values: Float64Array }

function fromReport(rank: number, report: RankReport | ProgressReport): RankEvent {
  if (report.type === "progress") return { kind: "progress", rank, label: report.label, done: report.done, total: report.total }
  if (report.type === "observation") return { kind: "observation", rank, label: report.label, step: report.step, shape: report.shape, values: report.values }
  if (report.type === "abort") return { kind: "abort", rank, code: report.code, reason: report.reason }
  if (report.type === "done") return { kind: "done", rank, result: report.result, ...(report.trace === undefined ? {} : { trace: report.trace }) }
  if (report.tag === "RankAborted") return { kind: "aborted", rank }
  return { kind: "failed", rank, failure: { rank, name: report.name, message: report.message, stack: report.stack } }
}

/** A worker's own `error` event: out of memory, or a thrown value the rank could not report itself. */
function fromError(rank: number, error: unknown): RankEvent {
  if ((error as { code?: unknown } | null)?.code === "ERR_WORKER_OUT_OF_MEMORY") return { kind: "outOfMemory", rank }
  if (error instanceof Error) return { kind: "failed", rank, failure: { rank, name: error.name, message: error.message, stack: error.stack ?? String(error) } }
  const shown = inspect(error, { depth: 4, breakLength: Infinity })
  return { kind: "failed", rank, failure: { rank, name: `thrown ${error === null ? "null" : typeof error}`, message: shown, stack: "" } }
}

/** One rank's events, in the order they happen. */
export function rankEvents(worker: Worker, rank: number): Observable<RankEvent> {
  return merge(
    fromEvent(worker, "message").pipe(map((report) => fromReport(rank, report as RankReport | ProgressReport))),
    fromEvent(worker, "error").pipe(map((error): RankEvent => fromError(rank, error))),
    fromEvent(worker, "exit").pipe(map((code): RankEvent => ({ kind: "exited", rank, code: code as number }))),
  )
}
