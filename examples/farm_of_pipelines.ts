// Composing the patterns: a parameter sweep of the heat pipeline. Each task —
// one diffusivity — is a whole pipeline run, computed by a group of ranks on
// the group's own communicator; the manager deals the tasks to the groups.
// Every result is checked against sin(πx)·e^(−απ²t).
//   tsx examples/farm_of_pipelines.ts --ranks 5 [--group 2]
import { Grid, initWithParams, managerWorker, Param, Pipeline } from "rankflow"

const { comm, params } = await initWithParams({ group: Param.int(2, "ranks per pipeline run", { min: 1 }) })

const grid = Grid.line({ n: 201, length: 1, boundary: Grid.dirichlet(0) })
const dt = 1e-6
const steps = 5000

const heat = (alpha: number) => {
  const r = (alpha * dt) / grid.spacing[0] ** 2
  return Pipeline.distribute(grid, (x) => Math.sin(Math.PI * x))
    .iterate(steps, (s) => s.haloExchange().stencil((u, i) => u[i]! + r * (u[i - 1]! - 2 * u[i]! + u[i + 1]!), { diffusion: r }))
    .gather()
}

const alphas = [0.25, 0.5, 1, 2, 4, 8]
const farm = managerWorker(comm, {
  tasks: comm.rank === 0 ? alphas : undefined,
  group: comm.size === 1 ? 1 : params.group,
  work: (alpha, task) => {
    const field = Pipeline.run(heat(alpha), task.comm) // collective over the group
    const t = steps * dt
    return field && Grid.maxError(grid, field, (x) => Math.sin(Math.PI * x) * Math.exp(-alpha * Math.PI ** 2 * t))
  },
})
if (farm) for (const [i, alpha] of alphas.entries()) console.log(`alpha ${alpha}: max error ${farm.results[i]!.toExponential(2)}`)
