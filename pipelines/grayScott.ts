// Gray–Scott reaction–diffusion of two species on a periodic square (Pearson's
// scheme, grid units): u_t = Du·∇²u − uv² + F(1 − u), v_t = Dv·∇²v + uv² − (F + k)v.
// One stencil updates both species from the same current values; one halo
// message per neighbour carries both. --out writes v as a grayscale PNG.
//   tsx pipelines/grayScott.ts --ranks 4 [--n 256 --steps 5000 --F 0.04 --k 0.06] [--out pattern.png]
import { writeFileSync } from "node:fs"
import { encode } from "fast-png"
import { Grid, Param, Pipeline } from "rankflow"

export const grayScott = Pipeline.program({
  name: "grayScott",
  description: "Gray–Scott reaction–diffusion, two species on a periodic square",
  params: {
    n: Param.int(256, "points per side", { min: 16 }),
    steps: Param.int(5000, "time steps", { min: 1 }),
    F: Param.number(0.04, "feed rate"),
    k: Param.number(0.06, "kill rate"),
    out: Param.string("", "write v as a grayscale PNG to this file"),
  },
  build: ({ n, steps, F, k }) => {
    const [Du, Dv] = [0.16, 0.08]
    const seeded = (x: number, y: number) => Math.abs(x - n / 2) < n / 16 && Math.abs(y - n / 2) < n / 16
    const lap = (a: Float64Array, i: number, row: number) => a[i - 1]! + a[i + 1]! + a[i - row]! + a[i + row]! - 4 * a[i]!
    return Pipeline.distribute(Grid.plane({ n, length: n, boundary: Grid.periodic }), {
      u: (x, y) => (seeded(x, y) ? 0.5 : 1),
      v: (x, y) => (seeded(x, y) ? 0.25 + 0.01 * Math.sin(x * y) : 0),
    })
      .iterate(steps, (s) =>
        s.haloExchange().stencil(
          {
            u: (f, i, row) => f.u[i]! + Du * lap(f.u, i, row) - f.u[i]! * f.v[i]! ** 2 + F * (1 - f.u[i]!),
            v: (f, i, row) => f.v[i]! + Dv * lap(f.v, i, row) + f.u[i]! * f.v[i]! ** 2 - (F + k) * f.v[i]!,
          },
          { diffusion: Du },
        ),
      )
      .gather()
  },
  report: ({ u, v }, { n, out }) => {
    if (out !== "") writeFileSync(out, encode({ width: n, height: n, channels: 1, data: Uint8Array.from(v, (x) => Math.round(255 * Math.min(1, x / 0.5))) }))
    let mass = 0
    for (let i = 0; i < v.length; i++) mass += v[i]!
    return { "mean u": u.reduce((a, b) => a + b, 0) / u.length, "mean v": mass / v.length, ...(out === "" ? {} : { picture: out }) }
  },
})

await Pipeline.main(grayScott)
