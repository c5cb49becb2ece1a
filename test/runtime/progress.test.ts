// --progress: rank 0's loops, farms and streams report to the supervisor, which draws bars on stderr.
import test from "ava"
import { runProgram } from "../helpers.ts"

const bar = (label: string, total: number) => new RegExp(`^${label} \\[█+\\] 100% \\| ${total}/${total} \\|`, "m")

test("a pipeline's loop shows its steps, a farm its tasks, a stream its items; output is unchanged", async (t) => {
  const heat = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--progress"])
  t.is(heat.code, 0, heat.stderr)
  t.regex(heat.stderr, bar("steps", 50000))
  t.regex(heat.stdout, /^max \|u − exact\|: 1\.5\d+e-8$/m)
  const farm = await runProgram("examples/manager_worker.ts", ["--ranks", "3", "--n", "100000", "--tasks", "40", "--progress"])
  t.is(farm.code, 0, farm.stderr)
  t.regex(farm.stderr, bar("tasks", 40))
  const stream = await runProgram("examples/stream_pipeline.ts", ["--ranks", "4", "--signals", "30", "--length", "1024", "--progress"])
  t.is(stream.code, 0, stream.stderr)
  t.regex(stream.stderr, bar("items", 30))
})

test("a range pipeline shows rank 0's chunks; a loop until converged ends full at the step it stopped", async (t) => {
  const pi = await runProgram("pipelines/pi.ts", ["--ranks", "2", "--samples", "10000000", "--progress"])
  t.is(pi.code, 0, pi.stderr)
  t.regex(pi.stderr, bar("chunks of rank 0", 5)) // 10 chunks of 2^20, 5 on each rank
  const laplace = await runProgram("examples/laplace.ts", ["--ranks", "2", "--progress"])
  t.is(laplace.code, 0, laplace.stderr)
  const steps = Number(/, (\d+) steps \(/.exec(laplace.stdout)?.[1])
  t.regex(laplace.stderr, bar("steps \\(until converged\\)", steps))
})

test("a farm over a generator, whose length is unknown, shows the count of tasks done, ending with all of them", async (t) => {
  for (const ranks of ["1", "3"]) {
    const run = await runProgram("test/fixtures/lazyFarm.ts", ["--ranks", ranks, "--progress"])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /^sum 870$/m)
    t.regex(run.stderr, /^tasks 30 done \|/m)
  }
})

test("without --progress nothing is drawn", async (t) => {
  const heat = await runProgram("pipelines/heat.ts", ["--ranks", "2"])
  t.is(heat.code, 0, heat.stderr)
  t.is(heat.stderr, "")
})
