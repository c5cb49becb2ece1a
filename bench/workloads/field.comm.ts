// The comm side of field.ts: a heat field's statistics reduced across ranks.
import { type Comm, MAX, SUM } from "rankflow"
import { type FieldResult, fieldResult, type FieldStats } from "./field.ts"

/** Reduces every rank's statistics; the whole field's result on rank 0 (each other rank gets its own block's). Collective. */
export function reduceFieldStats(comm: Comm, stats: FieldStats): FieldResult {
  const { sums, maxima } = stats.partials()
  const totalSums = comm.reduce(sums, SUM, 0)
  const totalMaxima = comm.reduce(maxima, MAX, 0)
  return totalSums !== undefined && totalMaxima !== undefined ? fieldResult(totalSums, totalMaxima) : stats.result()
}
