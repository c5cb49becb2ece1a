// heat1d, pipeline: the declarative version (as pipelines/heat.ts) on N
// partitions, with the shared initial field and the same point update —
// declared as Stencil.heat(r), so it runs the WebAssembly SIMD sweep with the
// bits of the JavaScript point function — so the field is bit-identical to
// serial-js and comm. Only the stages are timed
// (Pipeline.prepare: set up once, compute, reset); the field is gathered for
// the result.
import { type Comm, Grid, Pipeline, Stencil } from "rankflow"
import { FieldStats, type FieldResult } from "./field.ts"
import type { Kernel } from "./kernel.ts"
import { pipelineKernel } from "./pipeline.ts"
import { spmdEntry } from "./rank.ts"
import { decay, type Heat1dParams, initialValue, ratio } from "./heat1d.ts"

function setup(comm: Comm, p: Heat1dParams, { partitions }: { partitions: number }): Kernel<FieldResult> {
  const r = ratio(p)
  const grid = Grid.line({ n: p.n, boundary: Grid.dirichlet(0) })
  const heat = Pipeline.distribute(grid, (x) => initialValue(p, Math.round(x * (p.n - 1))))
    .iterate(p.steps, (s) => s.haloExchange().stencil(Stencil.heat(r)))
    .gather()
  // Ranks other than 0 collect nothing and report a zero field (the harness reports rank 0's result).
  return pipelineKernel(comm, heat, partitions, (u) => new FieldStats().add(u ?? new Float64Array(p.n), 0, p.n, 0, (k) => decay(p) * initialValue(p, k)).result())
}

export const rank = spmdEntry(setup)
