// pi_mc, pipeline: the declarative version (as pipelines/pi.ts): a range of
// samples in the same fixed chunks, each counted by the shared kernel with its
// own stream, counts added in chunk order — the same π as serial-js and comm.
import { type Comm, Pipeline, Range } from "rankflow"
import type { Kernel } from "./kernel.ts"
import { insideCounter, type PiParams, type PiResult, piResult } from "./pi_mc.ts"
import { pipelineKernel } from "./pipeline.ts"
import { spmdEntry } from "./rank.ts"

function setup(comm: Comm, p: PiParams, { partitions }: { partitions: number }): Kernel<PiResult> {
  const countInside = insideCounter(p)
  const pi = Pipeline.distribute(Range.of(p.samples, { chunk: p.chunk, seed: p.seed }))
    .mapLocal(({ index }) => countInside(index, index + 1))
    .reduce()
  return pipelineKernel(comm, pi, partitions, (inside) => piResult(p, inside ?? 0), true)
}

export const rank = spmdEntry(setup)
