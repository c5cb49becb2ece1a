// A distributed dot product x·y of two vectors defined by their entries,
// x_i = i and y_i = n − 1 − i, whose exact value is n(n − 1)(n − 2)/6.
//   tsx pipelines/dot.ts --ranks 4 [--n 10000000]
import { Param, Pipeline, Range } from "rankflow"

export const dot = Pipeline.program({
  name: "dot",
  description: "a distributed dot product of x_i = i and y_i = n − 1 − i (exact: n(n − 1)(n − 2)/6)",
  params: { n: Param.int(10_000_000, "vector length", { min: 1 }) },
  build: ({ n }) =>
    Pipeline.distribute(Range.of(n))
      .mapLocal(({ start, end }) => {
        let sum = 0
        for (let i = start; i < end; i++) sum += i * (n - 1 - i)
        return sum
      })
      .allreduce(),
  expected: ({ n }) => (n * (n - 1) * (n - 2)) / 6,
})

await Pipeline.main(dot)
