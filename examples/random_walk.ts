// Parallel random walks (seed exercise 4): walkers of ±1 steps, simulated in
// chunks that each own a random stream (so the result does not depend on
// --ranks); the final positions are gathered on rank 0 for the statistics.
// For n steps the mean displacement is 0 and the variance n.
//   tsx examples/random_walk.ts --ranks 4 [--walkers 100000 --steps 1000]
import { Param, Pipeline, Range } from "rankflow"

const uniforms = new Float64Array(4096) // per-rank scratch

export const walks = Pipeline.program({
  name: "random walk",
  params: { walkers: Param.int(100_000, "walkers", { min: 1 }), steps: Param.int(1000, "steps per walker", { min: 1 }) },
  build: ({ walkers, steps }) =>
    Pipeline.distribute(Range.of(walkers, { chunk: 1000, seed: 11 }))
      .mapLocal(({ start, end, random }) => {
        const final = new Float64Array(end - start)
        for (let w = 0; w < final.length; w++) {
          let x = 0
          for (let s = 0; s < steps; s += uniforms.length) {
            const m = Math.min(uniforms.length, steps - s)
            random.fill(uniforms, 0, m)
            for (let k = 0; k < m; k++) x += uniforms[k]! < 0.5 ? -1 : 1
          }
          final[w] = x
        }
        return final
      })
      .gather(),
  report: (chunks, { walkers, steps }) => {
    let sum = 0
    let squares = 0
    for (const positions of chunks) for (const x of positions) (sum += x), (squares += x * x)
    const mean = sum / walkers
    return { "mean displacement": mean, variance: squares / walkers - mean * mean, "expected variance": steps, "rms distance / √steps": Math.sqrt(squares / walkers / steps) }
  },
})

await Pipeline.main(walks)
