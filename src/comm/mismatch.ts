/**
 * Spreading a collective mismatch to every rank of the communicator. The rank
 * that catches one (a message of another call in its collective) tells every
 * other rank before it throws: an empty message whose tag says "mismatch
 * found" — empty, so that any receive, into any buffer, takes it — followed
 * by a report naming the two calls and their ranks. (Clashes of sizes or
 * types within one call are told only by the ranks that meet them.) A rank that meets it in
 * its own collective throws a `CollectiveMismatch` naming its call and the
 * one that differs from it, and spreads it in turn, so ranks blocked behind
 * the ones that failed learn why instead of waiting to be aborted.
 *
 * Layer: comm.
 */
import { CollectiveMismatch, type CollectiveCall } from "../errors.ts"

/** Opcodes (the tag's low 5 bits) of the two messages; real collectives use 0–17. */
export const MISMATCH_FOUND = 30
export const MISMATCH_REPORT = 31

/** What the rank that caught a mismatch saw; structured-cloneable. */
export interface MismatchReport {
  readonly rank: number
  readonly call: CollectiveCall
  readonly peer: number
  readonly peerCall: CollectiveCall
}

/** The signal message: nothing to copy, so it fits every receive. */
export const MISMATCH_SIGNAL = new Uint8Array(0)

/** True for a tag of the "mismatch found" signal. */
export const isMismatchSignal = (tag: number): boolean => tag >= 0 && (tag & 0x1f) === MISMATCH_FOUND

const same = (a: CollectiveCall, b: CollectiveCall): boolean => a.op === b.op && a.root === b.root && a.seq === b.seq

/**
 * The error for rank `rank`, in call `mine`, told of a mismatch by `report`:
 * its own call against the reported call that differs from it.
 */
export function mismatchFromReport(rank: number, mine: CollectiveCall, report: MismatchReport): CollectiveMismatch {
  const [other, otherCall] = same(mine, report.call) ? [report.peer, report.peerCall] : [report.rank, report.call]
  return new CollectiveMismatch(rank, other, mine, otherCall, "different calls")
}
