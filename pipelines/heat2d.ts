// The 2-D heat equation on the unit square, u = 0 on the edges,
// u(x, y, 0) = sin(πx)·sin(πy): the 5-point explicit scheme with r = α·dt/h².
// Exact solution sin(πx)·sin(πy)·e^(−2απ²t).
//   tsx pipelines/heat2d.ts --ranks 4 [--n 1024 --steps 100 --r 0.2]
import { Grid, Param, Pipeline, Stencil } from "rankflow"

/**
 * u[i] + r·(u[i−1] + u[i+1] + u[i−row] + u[i+row] − 4u[i]), declared by its
 * weights (terms added in this order): the WebAssembly SIMD sweep runs it,
 * with the bits of that point function.
 */
const fivePoint = (r: number) =>
  Stencil.linear({
    family: "heat",
    offsets: [
      [[0, -1], 1],
      [[0, 1], 1],
      [[-1, 0], 1],
      [[1, 0], 1],
      [[0, 0], -4],
    ],
    increment: r,
  })

export const heat2d = Pipeline.program({
  name: "heat2d",
  description: "the 2-D heat equation on the unit square, 5-point explicit scheme, against its exact solution",
  params: { n: Param.int(1024, "points per side", { min: 3 }), steps: Param.int(100, "time steps", { min: 1 }), r: Param.number(0.2, "α·dt/h²") },
  build: ({ n, steps, r }) =>
    Pipeline.distribute(Grid.plane({ n, boundary: Grid.dirichlet(0) }), (x, y) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y))
      .iterate(steps, (s) => s.haloExchange().stencil(fivePoint(r), { diffusion: r }))
      .gather(),
  report: (u, { n, steps, r }) => {
    const grid = Grid.plane({ n })
    const decay = Math.exp(-2 * Math.PI ** 2 * r * grid.spacing[0] ** 2 * steps) // α·t = r·h²·steps
    return { "max |u − exact|": Grid.maxError(grid, u, (x, y) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y) * decay) }
  },
})

await Pipeline.main(heat2d)
