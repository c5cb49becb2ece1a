// Monte Carlo π: 4 × the fraction of random points of the unit square inside
// the quarter circle. Every chunk of samples draws from its own random stream
// (seed, chunk), so the estimate is the same on any --ranks.
//   tsx pipelines/pi.ts --ranks 8 [--samples 100000000 --seed 2024]
import { Param, Pipeline, Range } from "rankflow"

const xy = new Float64Array(8192) // per-rank scratch: pairs (x, y)

export const pi = Pipeline.program({
  name: "pi",
  params: { samples: Param.int(100_000_000, "random points", { min: 1 }), seed: Param.int(2024, "random seed", { min: 0 }) },
  build: ({ samples, seed }) =>
    Pipeline.distribute(Range.of(samples, { chunk: 1 << 20, seed }))
      .mapLocal(({ start, end, random }) => {
        let inside = 0
        for (let i = start; i < end; i += xy.length / 2) {
          const m = Math.min(xy.length, 2 * (end - i))
          random.fill(xy, 0, m)
          for (let k = 0; k < m; k += 2) inside += +(xy[k]! * xy[k]! + xy[k + 1]! * xy[k + 1]! < 1) // branchless: hits are random
        }
        return inside
      })
      .allreduce()
      .map((inside) => (4 * inside) / samples),
  expected: () => Math.PI,
  report: (estimate, { samples }) => ({ "standard error": 4 * Math.sqrt((estimate / 4) * (1 - estimate / 4) / samples) }),
})

await Pipeline.main(pi)
