// Runs bench/trace_overhead.ts untraced and with --trace=FILE.json in alternation, ROUNDS rounds, and
// prints one JSON line per run and a summary: µs per step (min and median over each run's reps but the
// first, which warms up), thread CPU seconds, and the traced/untraced ratios of the medians over rounds
// of both. With --against DIR, a third run per round: DIR's own bench/trace_overhead.ts untraced (another
// checkout, e.g. main), to see that tracing off costs nothing against it.
//   node --import tsx bench/trace_overhead_compare.ts [--rounds 5] [--impl comm|pipeline] [--ranks 2] [--against ../main]
// REPS (default 5) is passed on. On a shared machine run it under a lock: flock /tmp/rankflow-bench.lock node ...
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    impl: { type: "string", default: "comm" },
    ranks: { type: "string", default: "2" },
    against: { type: "string" },
  },
})
const here = dirname(dirname(fileURLToPath(import.meta.url)))
const tmp = mkdtempSync(join(tmpdir(), "rankflow-trace-overhead-"))
const traceFile = join(tmp, "trace.json")

interface Run {
  readonly variant: string
  readonly minUs: number
  readonly medianUs: number
  readonly cpu: number
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

function run(variant: string, root: string, traced: boolean): Run {
  const args = ["--import", "tsx", join(root, "bench", "trace_overhead.ts"), "--ranks", values.ranks!, ...(traced ? [`--trace=${traceFile}`] : [])]
  const out = execFileSync(process.execPath, args, { cwd: root, env: { ...process.env, IMPL: values.impl, REPS: process.env.REPS ?? "5" }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
  const line = JSON.parse(out.trim().split("\n").at(-1)!) as { steps: number; thread_cpu_s: number[]; timings: { wall: number[] } }
  const perStep = line.timings.wall.slice(1).map((s) => (s * 1e6) / line.steps)
  const result = { variant, minUs: Math.min(...perStep), medianUs: median(perStep), cpu: line.thread_cpu_s.reduce((a, b) => a + b, 0) }
  console.log(JSON.stringify({ ...result, reps_us: perStep.map((u) => Number(u.toFixed(3))) }))
  return result
}

const variants: Array<[string, string, boolean]> = [
  ["off", here, false],
  ["on", here, true],
  ...(values.against === undefined ? [] : [["against-off", resolve(values.against), false] as [string, string, boolean]]),
]
const runs: Run[] = []
try {
  for (let round = 0; round < Number(values.rounds); round++) for (const [name, root, traced] of variants) runs.push(run(name, root, traced))
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
const of = (name: string) => runs.filter((r) => r.variant === name)
const summary: Record<string, number> = {}
for (const [name] of variants) {
  summary[`${name}_min_us`] = Number(Math.min(...of(name).map((r) => r.minUs)).toFixed(3))
  summary[`${name}_median_us`] = Number(median(of(name).map((r) => r.medianUs)).toFixed(3))
  summary[`${name}_cpu_s`] = Number(median(of(name).map((r) => r.cpu)).toFixed(3))
}
summary.on_over_off_min = Number((summary.on_min_us! / summary.off_min_us!).toFixed(3))
summary.on_over_off_median = Number((summary.on_median_us! / summary.off_median_us!).toFixed(3))
summary.on_over_off_cpu = Number((summary.on_cpu_s! / summary.off_cpu_s!).toFixed(3))
if (values.against !== undefined) summary.off_over_against_median = Number((summary.off_median_us! / summary["against-off_median_us"]!).toFixed(3))
console.log(JSON.stringify({ summary: { impl: values.impl, ranks: Number(values.ranks), rounds: Number(values.rounds), ...summary } }))
