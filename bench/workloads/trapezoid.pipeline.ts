// trapezoid, pipeline: the declarative version (as pipelines/trapezoid.ts): a
// range of intervals in fixed chunks, each summed by the shared kernel, the
// chunk sums added in chunk order (so the result is the same on any rank count).
import { type Comm, Pipeline, Range } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { pipelineKernel } from "./pipeline.ts"
import { spmdEntry } from "./rank.ts"
import { type TrapezoidParams, type TrapezoidResult, trapezoidResult, trapezoidSum } from "./trapezoid.ts"

function setup(comm: Comm, p: TrapezoidParams, { partitions }: { partitions: number }): Kernel<TrapezoidResult> {
  const integral = Pipeline.distribute(Range.of(p.intervals, { chunk: 1 << 20 }))
    .mapLocal(({ start, end }) => trapezoidSum(p, start, end))
    .reduce()
  return pipelineKernel(comm, integral, partitions, (value) => trapezoidResult(value ?? 0), true)
}

export const rank = spmdEntry(setup)
