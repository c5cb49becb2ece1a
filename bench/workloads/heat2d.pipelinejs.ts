// pipeline-js: the same pipeline with today's hand-written JavaScript point
// function (the JavaScript sweep), to compare with the SIMD sweep in one run.
// heat2d, pipeline: the declarative version (as pipelines/heat2d.ts) on N
// partitions — rows along dimension 0, columns along dimension 1 — with the
// shared initial field and the same point update, so the field is
// bit-identical to serial-js and comm. Only the stages are timed.
import { type Comm, Grid, Pipeline } from "rankflow"
import type { FieldResult } from "./field.ts"
import type { Kernel } from "./kernel.ts"
import { pipelineKernel } from "./pipeline.ts"
import { spmdEntry } from "./rank.ts"
import { blockStats, type Heat2dParams, initialValue } from "./heat2d.ts"

function setup(comm: Comm, p: Heat2dParams, { partitions }: { partitions: number }): Kernel<FieldResult> {
  const r = p.r
  const h = 1 / (p.nx - 1)
  const grid = Grid.plane({ n: [p.ny, p.nx], length: [(p.ny - 1) * h, 1], boundary: Grid.dirichlet(0) })
  const heat = Pipeline.distribute(grid, (y, x) => initialValue(p, Math.round(y / h), Math.round(x / h)))
    .iterate(p.steps, (s) => s.haloExchange().stencil((u, k, row) => u[k]! + r * (u[k - row]! + u[k + row]! + u[k - 1]! + u[k + 1]! - 4 * u[k]!)))
    .gather()
  return pipelineKernel(comm, heat, partitions, (u) => blockStats(p, u ?? new Float64Array(p.nx * p.ny), p.nx, 0, p.ny, p.nx, 0, 0).result())
}

export const rank = spmdEntry(setup)
