// The 1-D wave equation u_tt = c²·u_xx on a periodic [0, 1), u(x, 0) = sin(2πx), u_t = 0:
// leapfrog with two time levels, u^{n+1} = 2uⁿ − u^{n−1} + C²·(uⁿ_{i−1} − 2uⁿ_i + uⁿ_{i+1}),
// the levels rotated without copying. Its discrete energy is conserved exactly (to rounding).
//   tsx pipelines/wave.ts --ranks 4 [--n 1000 --courant 0.9 --steps 10000]
import { Grid, Param, Pipeline } from "rankflow"

export const wave = Pipeline.program({
  name: "wave",
  description: "the 1-D wave equation by leapfrog (two time levels), with its conserved discrete energy",
  params: { n: Param.int(1000, "grid points", { min: 4 }), courant: Param.number(0.9, "C = c·dt/dx"), steps: Param.int(10_000, "time steps", { min: 1 }) },
  build: ({ n, courant, steps }) => {
    const grid = Grid.line({ n, boundary: Grid.periodic })
    const omega = 2 * Math.PI * courant * grid.spacing[0] // c·k·dt with c·dt = C·dx
    const c2 = courant ** 2
    return Pipeline.distribute(grid, { u: { init: (x) => Math.sin(2 * Math.PI * x), previous: (x) => Math.sin(2 * Math.PI * x) * Math.cos(omega) } })
      .iterate(steps, (s) => s.haloExchange().stencil({ u: (f, i) => 2 * f.u[i]! - f.prev.u[i]! + c2 * (f.u[i - 1]! - 2 * f.u[i]! + f.u[i + 1]!) }, { wave: courant }))
      .gather()
  },
  report: (fields, { n, courant }) => {
    const grid = Grid.line({ n, boundary: Grid.periodic })
    const omega = 2 * Math.PI * courant * grid.spacing[0]
    const u0 = Float64Array.from({ length: n }, (_, i) => Math.sin(2 * Math.PI * Grid.coordinate(grid, 0, i)))
    const before = energy(u0, u0.map((v) => v * Math.cos(omega)), courant)
    return { "energy drift (relative)": Math.abs(energy(fields.u, fields.prev.u, courant) - before) / before }
  },
})

/** The leapfrog energy between levels `u` (newer) and `p`, in units of dx = dt/C = 1: ½Σ(u − p)² + ½C²Σ(u_{i+1} − u_i)(p_{i+1} − p_i). */
export function energy(u: Float64Array, p: Float64Array, courant: number): number {
  let kinetic = 0
  let strain = 0
  for (let i = 0; i < u.length; i++) {
    const j = (i + 1) % u.length
    kinetic += (u[i]! - p[i]!) ** 2
    strain += (u[j]! - u[i]!) * (p[j]! - p[i]!)
  }
  return 0.5 * kinetic + 0.5 * courant ** 2 * strain
}

await Pipeline.main(wave)
