/**
 * The layout of a job's dashboard buffer (`--dashboard`): one
 * SharedArrayBuffer of float64s holding the traffic matrix (messages and
 * bytes each rank sent to each rank) and each rank's heap in use. Ranks
 * write it (dashboardFeed.ts), the supervisor reads it (dashboard.ts).
 *
 * Layer: runtime (both sides). Imports nothing.
 */

/** Float64 slots per rank pair: messages, bytes. */
const PAIR = 2

/** The bytes of a job's dashboard buffer: the traffic matrix, then one heap figure per rank. */
export function dashboardBytes(size: number): number {
  return (size * size * PAIR + size) * 8
}

/** Allocates the buffer ranks publish into (the supervisor, once per job). */
export function allocateDashboard(size: number): SharedArrayBuffer {
  return new SharedArrayBuffer(dashboardBytes(size))
}

/** Rank `rank`'s row of the traffic matrix: [messages, bytes] sent to each rank, in rank order. */
export function trafficRow(buffer: SharedArrayBuffer, size: number, rank: number): Float64Array {
  return new Float64Array(buffer, rank * size * PAIR * 8, size * PAIR)
}

/** The whole traffic matrix: entry (src, dst) at (src * size + dst) * 2 (messages), + 1 (bytes). */
export function trafficMatrix(buffer: SharedArrayBuffer, size: number): Float64Array {
  return new Float64Array(buffer, 0, size * size * PAIR)
}

/** Each rank's heap in use, in bytes (0 until the rank published it). */
export function heapFigures(buffer: SharedArrayBuffer, size: number): Float64Array {
  return new Float64Array(buffer, size * size * PAIR * 8, size)
}
