// Whole-process start-up: `tsx examples/hello.ts --ranks N` from spawn to exit,
// for N = 1, 2, 4, 8 (3 runs each; min and median). One JSON line per N.
//   tsx bench/startup.ts [--quick] [--ranks 1,2,4,8]
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const quick = process.argv.includes("--quick")
const ranksArg = process.argv.indexOf("--ranks")
const rankCounts = ranksArg > 0 ? process.argv[ranksArg + 1]!.split(",").map(Number) : quick ? [1, 2] : [1, 2, 4, 8]
const reps = quick ? 1 : 3

for (const ranks of rankCounts) {
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    execFileSync(process.execPath, ["--import=tsx", "examples/hello.ts", "--ranks", String(ranks)], { cwd: root, stdio: "ignore" })
    times.push((performance.now() - t0) / 1000)
  }
  times.sort((a, b) => a - b)
  console.log(
    JSON.stringify({
      workload: "startup",
      impl: "comm",
      ranks,
      params: { program: "examples/hello.ts", reps },
      wall_s: times[0],
      result: { ok: 1 },
      metrics: { min_s: times[0], median_s: times[Math.floor(times.length / 2)] },
    }),
  )
}
