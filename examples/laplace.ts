// Laplace's equation on the unit square by Jacobi iteration, until converged:
// u = 1 on the top edge, 0 on the others. By symmetry the exact value at the
// centre is 1/4 (four rotated copies of the problem add up to u ≡ 1).
//   tsx examples/laplace.ts --ranks 4 [--n 65 --tol 1e-10]
import { Grid, MAX, Param, Pipeline, type Block } from "rankflow"

/** The largest change of the last sweep (after a stencil, `next` holds the previous values). */
function largestChange(b: Block<2>): number {
  let worst = 0
  for (let a = b.lo[0]; a < b.hi[0]; a++)
    for (let k = a * b.strides[0] + b.lo[1]; k < a * b.strides[0] + b.hi[1]; k++) worst = Math.max(worst, Math.abs(b.u[k]! - b.next[k]!))
  return worst
}

export const laplace = Pipeline.program({
  name: "laplace",
  params: { n: Param.int(65, "points per side (odd: the centre is a point)", { min: 3 }), tol: Param.number(1e-10, "stop when no point changes more") },
  build: ({ n, tol }) =>
    Pipeline.distribute(Grid.plane({ n, boundary: [Grid.dirichlet(0), [Grid.dirichlet(0), Grid.dirichlet(1)]] }), () => 0)
      .until(
        {
          maxSteps: 200_000,
          measure: largestChange,
          op: MAX,
          stop: (change) => change < tol,
          check: 100, // one allreduce every 100 sweeps
          every: { k: 5000, observe: (u, step) => console.log(`step ${step}: u(½, ½) = ${u[(n * n - 1) / 2]!.toFixed(6)}`) },
        },
        (s) => s.haloExchange().stencil((u, i, row) => (u[i - 1]! + u[i + 1]! + u[i - row]! + u[i + row]!) / 4),
      )
      .gather(),
  report: (u, { n }) => ({ "u(½, ½)": u[(n * n - 1) / 2]!, "|u(½, ½) − 1/4|": Math.abs(u[(n * n - 1) / 2]! - 0.25) }),
})

await Pipeline.main(laplace)
