// Per-step time of an example pipeline here against the same program in another checkout (e.g. a
// worktree of main), runs alternating between the two trees so that machine noise hits both alike.
// Times are the program's own timed region (--json summary: first stage to result, set-up excluded);
// medians over --reps runs per tree, and the ratio here / there. One JSON line per tree and size.
//   tsx bench/against_tree.ts --baseline ../main [--program pipelines/heat2d.ts] [--ranks 2] [--sizes 256:2000,1024:300] [--reps 5]
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"

const argv = process.argv.slice(2)
const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined)
const here = fileURLToPath(new URL("..", import.meta.url))
const baseline = value("--baseline")
const program = value("--program") ?? "pipelines/heat2d.ts"
const ranks = Number(value("--ranks") ?? 2)
const reps = Number(value("--reps") ?? 5)
const sizes = (value("--sizes") ?? "256:2000,1024:300").split(",").map((s) => s.split(":").map(Number) as [number, number])
if (baseline === undefined || !existsSync(resolve(baseline, program)) || !(reps >= 1) || !(ranks >= 1) || !sizes.every(([n, steps]) => n >= 3 && steps >= 1)) {
  console.error(`bench/against_tree.ts: --baseline DIR must be a checkout holding ${program}; --ranks, --reps ≥ 1; --sizes n:steps,…`)
  process.exit(2)
}
const trees = [
  ["here", here],
  ["baseline", resolve(baseline)],
] as const

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** The program's timed seconds per step in `dir`. */
function perStep(dir: string, n: number, steps: number): number {
  const out = execFileSync(process.execPath, ["--import=tsx", program, "--ranks", String(ranks), "--n", String(n), "--steps", String(steps), "--json"], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 30 })
  const { summary } = JSON.parse(out) as { summary: { seconds: number; steps: number } }
  return summary.seconds / summary.steps
}

for (const [n, steps] of sizes) {
  const times = trees.map(() => [] as number[])
  // Alternate which tree goes first, so neither always runs right after the other.
  for (let rep = 0; rep < reps; rep++) for (const k of rep % 2 === 0 ? [0, 1] : [1, 0]) times[k]!.push(perStep(trees[k]![1], n, steps))
  const base = median(times[1]!)
  trees.forEach(([name], i) =>
    console.log(
      JSON.stringify({
        workload: "against_tree",
        impl: "pipeline",
        ranks,
        params: { program, tree: name, n, steps, reps },
        wall_s: median(times[i]!) * steps,
        result: { steps },
        metrics: { us_per_step: median(times[i]!) * 1e6, min_us_per_step: Math.min(...times[i]!) * 1e6, ratio_to_baseline: median(times[i]!) / base },
      }),
    ),
  )
}
