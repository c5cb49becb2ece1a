/**
 * What ranks publish for the live dashboard (`--dashboard`), rank side. One
 * SharedArrayBuffer per job, written by the ranks and read by the
 * supervisor a few times a second: each rank's row of messages and bytes
 * sent to every rank (the comm trace's own counters, placed in shared memory
 * instead of private memory: the same increments per message, nothing more),
 * and each rank's heap in use, published at most every 250 ms from points
 * the rank passes anyway (its progress reporter's clock check, an idle event
 * loop). Rank 0 also sends a small preview of a field its pipeline observes
 * (`every`), through the same control port as progress reports.
 *
 * Without `--dashboard` none of this exists: ranks get no buffer and every
 * function here returns undefined or does nothing.
 *
 * Layer: runtime (rank side). Loads no Effect.
 */
import { getHeapStatistics } from "node:v8"
import { parentPort } from "node:worker_threads"
import { heapFigures } from "./dashboardBuffer.ts"
import { rankState } from "./rankContext.ts"

/** How often a rank refreshes its heap figure at most. */
const HEAP_INTERVAL_MS = 250

let heapView: Float64Array | undefined
let heapSlot = 0
let heapAt = -Infinity

/**
 * Publishes this rank's heap in use when the last figure is older than
 * 250 ms. Cheap to call often: a clock read; does nothing without `--dashboard`.
 */
export function publishHeap(now = performance.now()): void {
  if (heapView === undefined || now - heapAt < HEAP_INTERVAL_MS) return
  heapAt = now
  heapView[heapSlot] = getHeapStatistics().used_heap_size
}

/**
 * Called once on each rank at start: finds the job's dashboard buffer (if
 * any), publishes the heap at once, and keeps it fresh while the rank's
 * event loop is idle (an unref'd timer: it never keeps a rank alive).
 */
export function enterDashboard(): void {
  const start = rankState()?.start
  if (start?.dashboard === undefined) return
  heapView = heapFigures(start.dashboard, start.size)
  heapSlot = start.rank
  publishHeap()
  setInterval(publishHeap, HEAP_INTERVAL_MS).unref()
}

/** Whether this rank publishes for a dashboard. */
export function dashboardOn(): boolean {
  return rankState()?.start.dashboard !== undefined
}

/** A field preview sent from rank 0 to the supervisor (downsampled). */
export interface ObservationReport {
  readonly type: "observation"
  readonly label: string
  readonly step: number
  /** [n] for a line, [rows, columns] for a plane (a box's middle slice). */
  readonly shape: ReadonlyArray<number>
  readonly values: Float64Array
}

/** Points of a line preview, and of each side of a plane preview, at most. */
const LINE_POINTS = 512
const PLANE_SIDE = 128
/** Previews are sent at most this often (observations in between are skipped). */
const PREVIEW_INTERVAL_MS = 200

/**
 * A function that sends a downsampled preview of an observed field to the
 * dashboard, or undefined when there is none (no `--dashboard`, or this is
 * not world rank 0). `values` is the global field in row-major order of
 * `shape` (1, 2 or 3 dimensions; a box is previewed by its middle slice).
 * Sends at most 5 previews a second; the rest return at once.
 */
export function observationReporter(label: string): ((step: number, values: ArrayLike<number>, shape: ReadonlyArray<number>) => void) | undefined {
  const start = rankState()?.start
  const port = parentPort
  if (start?.dashboard === undefined || start.rank !== 0 || port === null) return undefined
  let sent = -Infinity
  return (step, values, shape) => {
    const now = performance.now()
    if (now - sent < PREVIEW_INTERVAL_MS) return
    sent = now
    const preview = downsample(values, shape)
    if (preview === undefined) return
    port.postMessage({ type: "observation", label, step, shape: preview.shape, values: preview.values } satisfies ObservationReport)
  }
}

/** A small picture of a field: at most 512 points of a line, 128 × 128 of a plane (a box's middle slice). */
export function downsample(values: ArrayLike<number>, shape: ReadonlyArray<number>): { shape: number[]; values: Float64Array } | undefined {
  if (shape.length === 1) {
    const n = shape[0]!
    const m = Math.min(n, LINE_POINTS)
    const out = new Float64Array(m)
    for (let i = 0; i < m; i++) out[i] = Number(values[Math.floor(((i + 0.5) * n) / m)])
    return { shape: [m], values: out }
  }
  if (shape.length !== 2 && shape.length !== 3) return undefined
  const [rows, columns] = shape.length === 2 ? [shape[0]!, shape[1]!] : [shape[1]!, shape[2]!]
  const offset = shape.length === 3 ? Math.floor(shape[0]! / 2) * rows * columns : 0
  const r = Math.min(rows, PLANE_SIDE)
  const c = Math.min(columns, PLANE_SIDE)
  const out = new Float64Array(r * c)
  for (let i = 0; i < r; i++) {
    const row = offset + Math.floor(((i + 0.5) * rows) / r) * columns
    for (let j = 0; j < c; j++) out[i * c + j] = Number(values[row + Math.floor(((j + 0.5) * columns) / c)])
  }
  return { shape: [r, c], values: out }
}
