// The benchmark suite keeps running (`npm run bench -- --quick`, under a minute)
// and keeps its one-JSON-line-per-result schema.
import test from "ava"
import { runProgram } from "./helpers.ts"

const KEYS = ["impl", "metrics", "params", "ranks", "result", "wall_s", "workload"]

test("bench/run.ts --quick runs every workload and prints one well-formed JSON line per result", async (t) => {
  const run = await runProgram("bench/run.ts", ["--quick"], 180_000)
  t.is(run.code, 0, run.stderr)
  const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)
  t.deepEqual([...new Set(lines.map((l) => l.workload))].sort(), ["allreduce", "pingpong", "startup"])
  for (const line of lines) {
    t.deepEqual(Object.keys(line).sort(), KEYS)
    t.true(Number.isInteger(line.ranks) && (line.ranks as number) >= 1)
    t.true(typeof line.wall_s === "number" && line.wall_s > 0)
    t.true(Object.values(line.metrics as Record<string, number>).every((v) => Number.isFinite(v) && v > 0))
  }
})

test("bench/run.ts rejects an unknown workload", async (t) => {
  const run = await runProgram("bench/run.ts", ["--only", "nope"])
  t.is(run.code, 2)
  t.regex(run.stderr, /unknown workload\(s\) nope; known: pingpong, allreduce, startup/)
})
