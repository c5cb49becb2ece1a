// The benchmarks keep running (quick sizes) and keep their one-JSON-line-per-result schema.
import test from "ava"
import { runProgram } from "./helpers.ts"

const KEYS = ["impl", "metrics", "params", "ranks", "result", "wall_s", "workload"]

for (const [script, args, workload] of [
  ["bench/pingpong.ts", ["--quick"], "pingpong"],
  ["bench/allreduce.ts", ["--quick", "--ranks", "2"], "allreduce"],
] as const) {
  test(`${script} --quick prints one well-formed JSON line per result`, async (t) => {
    const run = await runProgram(script, [...args], 180_000)
    t.is(run.code, 0, run.stderr)
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
    t.true(lines.length >= 4)
    for (const line of lines) {
      t.deepEqual(Object.keys(line).sort(), KEYS)
      t.is(line.workload, workload)
      t.true(typeof line.wall_s === "number" && line.wall_s > 0)
      t.true(Object.values(line.metrics as Record<string, number>).every((v) => Number.isFinite(v) && v > 0))
    }
  })
}
