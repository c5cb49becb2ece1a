// The trapezoid rule for ∫₀¹ √(1 − x²) dx = π/4 (× 4 to estimate π) over n
// intervals: nodes are a range, each chunk sums its share, chunk sums add up
// in chunk order — the same result on any --ranks.
//   tsx pipelines/trapezoid.ts --ranks 4 [--intervals 100000000]
import { Param, Pipeline, Range } from "rankflow"

const f = (x: number): number => Math.sqrt(1 - x * x)

export const trapezoid = Pipeline.program({
  name: "trapezoid",
  description: "the trapezoid rule for 4·∫₀¹ √(1 − x²) dx = π, the same result on any --ranks",
  params: { intervals: Param.int(100_000_000, "intervals", { min: 1 }) },
  build: ({ intervals }) => {
    const h = 1 / intervals
    return Pipeline.distribute(Range.of(intervals + 1, { chunk: 1 << 20 }))
      .mapLocal(({ start, end }) => {
        let sum = 0
        for (let i = start; i < end; i++) sum += i === 0 || i === intervals ? f(i * h) / 2 : f(i * h)
        return sum
      })
      .allreduce()
      .map((sum) => 4 * h * sum)
  },
  expected: () => Math.PI,
})

await Pipeline.main(trapezoid)
