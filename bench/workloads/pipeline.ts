// The pipeline side of the harness: a pipeline set up on this rank's
// partitions becomes a kernel whose timed phase is the stages alone
// (Pipeline.prepare: allocation and the initial field stay outside).
import { type Comm, Pipeline } from "rankflow"
import type { Kernel } from "./kernel.ts"

/**
 * A kernel timing `pipeline`'s stages — and its collection too when
 * `timeCollect` (a reduction that the hand-written version also times); `result` gets
 * what it collects on rank 0 (undefined elsewhere).
 */
export function pipelineKernel<T, R>(comm: Comm, pipeline: Pipeline<T>, partitions: number, result: (value: T | undefined) => R, timeCollect = false): Kernel<R> {
  const prepared = Pipeline.prepare(pipeline, comm, { partitions })
  let collected: T | undefined
  let fresh = false
  return {
    reset: () => prepared.reset(),
    phases: {
      run: () => {
        prepared.compute()
        fresh = timeCollect
        if (timeCollect) collected = prepared.collect() as T | undefined
      },
    },
    result() {
      if (!fresh) collected = prepared.collect() as T | undefined
      fresh = true
      return result(collected)
    },
  }
}
