// The 1-D heat equation u_t = α·u_xx on [0, 1], u = 0 at both ends, u(x, 0) = sin(πx):
// the seed's physics section as a pipeline. Exact solution sin(πx)·e^(−απ²t).
//   tsx pipelines/heat.ts --ranks 4 [--n 1000 --alpha 0.01 --dt 1e-5 --t 0.5] [--explain]
import { Grid, Param, Pipeline } from "rankflow"

export const heat = Pipeline.program({
  name: "heat",
  params: { n: Param.int(1000, "grid points", { min: 3 }), alpha: Param.number(0.01, "diffusivity"), dt: Param.number(1e-5, "time step"), t: Param.number(0.5, "end time") },
  build: ({ n, alpha, dt, t }) => {
    const grid = Grid.line({ n, boundary: Grid.dirichlet(0) })
    const r = (alpha * dt) / grid.spacing[0] ** 2
    return Pipeline.distribute(grid, (x) => Math.sin(Math.PI * x))
      .iterate(Math.round(t / dt), (s) => s.haloExchange().stencil((u, i) => u[i]! + r * (u[i - 1]! - 2 * u[i]! + u[i + 1]!), { diffusion: r }))
      .gather()
  },
  exact: ({ alpha, t }) => (x) => Math.sin(Math.PI * x) * Math.exp(-alpha * Math.PI ** 2 * t),
  report: (u, { n, alpha, t }) => ({ "max |u − exact|": Grid.maxError(Grid.line({ n }), u, (x) => Math.sin(Math.PI * x) * Math.exp(-alpha * Math.PI ** 2 * t)) }),
})

await Pipeline.main(heat)
