/**
 * Bringing per-partition values together: on rank 0 in partition order
 * (numbers as one Float64Array per thread, anything else serialized), and
 * folded with a reduction op in that order — so results never depend on how
 * partitions are spread over threads.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { combine, type ReduceOp } from "../comm/ops.ts"
import type { NumberOp } from "../plan/description.ts"

/**
 * Every thread's values concatenated in thread order on rank 0: numbers
 * travel as one Float64Array per thread (buffer), anything else serialized.
 */
export function collect(values: unknown[], comm: Comm): unknown[] | undefined {
  const allNumbers = comm.allreduce(values.every((v) => typeof v === "number") ? 1 : 0, MIN_OF)
  if (allNumbers === 1) {
    const flat = comm.gatherv(Float64Array.from(values as number[]), 0)
    return flat === undefined ? undefined : Array.from(flat)
  }
  return comm.gather(values, 0)?.flat()
}

const MIN_OF = { concat: (a: number, b: number) => Math.min(a, b) }

/** Typed arrays are combined in place: never into a chunk's own value. */
export const copyOf = (v: unknown): unknown => (ArrayBuffer.isView(v) ? (v as unknown as { slice(): unknown }).slice() : v)

/**
 * Folds one value per partition with `op` in partition order — on rank 0, or
 * on every rank with `all`. The fold never depends on how partitions are
 * spread over threads, so neither does the result.
 */
export function combineAcross(values: unknown[], op: ReduceOp<unknown> | NumberOp, comm: Comm, all: boolean): unknown {
  const every = collect(values, comm)
  let result: unknown
  if (every !== undefined) {
    result = copyOf(every[0])
    for (let i = 1; i < every.length; i++) result = combine(op as ReduceOp<unknown>, result, every[i])
  }
  return all ? comm.bcast(result, 0) : result
}
