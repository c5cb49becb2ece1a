// Every program of pipelines/ gives the same result on MPI processes as on worker threads for
// the same rank count — fields to the last bit (fingerprints), numbers to the last digit — since
// the pipeline layer, the planner and the collectives are the same code over either transport.
// Compared: the whole `--json` record of the run (result, summary, report), minus the time taken.
import test from "ava"
import { runProgram } from "../helpers.ts"
import { comparable, mpirun, requireMpirun } from "./mpirun.ts"

/** Each pipeline at a small size (the parameters test/pipelines*.test.ts use, or smaller). */
const PIPELINES: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["heat", ["--t", "0.01"]],
  ["heat2d", ["--n", "99", "--steps", "50"]],
  ["pi", ["--samples", "1000000"]],
  ["trapezoid", ["--intervals", "1000000"]],
  ["dot", ["--n", "100000"]],
  ["matvec", ["--n", "300"]],
  ["mandelbrot", ["--width", "120", "--height", "90", "--distribution", "dynamic"]],
  ["mandelbrot", ["--width", "120", "--height", "90", "--distribution", "block"]],
  ["wave", ["--n", "500", "--steps", "400"]],
  ["grayScott", ["--n", "48", "--steps", "100"]],
  ["life", ["--n", "48", "--gap", "12", "--steps", "30"]],
]


for (const [name, args] of PIPELINES) {
  test(`${name} ${args.join(" ")}: the same --json record on 2 and 3 MPI processes as on 2 and 3 threads`, async (t) => {
    if (!requireMpirun(t)) return
    for (const ranks of [2, 3]) {
      const script = `pipelines/${name}.ts`
      const threads = await runProgram(script, ["--ranks", String(ranks), "--threads", String(ranks), "--json", ...args])
      t.is(threads.code, 0, threads.stderr)
      const mpi = await mpirun(ranks, script, ["--json", ...args])
      t.is(mpi.code, 0, mpi.stderr)
      const onThreads = comparable(threads.stdout, `${name} on ${ranks} threads`)
      t.deepEqual(comparable(mpi.stdout, `${name} on ${ranks} MPI processes`), onThreads, `${name} on ${ranks} ranks`)
      t.like(onThreads, { ok: true, ranks })
    }
  })
}

test("hybrid: heat and a dynamic mandelbrot on 2 MPI processes × 2 threads give the --json record of 4 threads", async (t) => {
  if (!requireMpirun(t)) return
  for (const [name, args] of [PIPELINES[0]!, PIPELINES[6]!]) {
    const script = `pipelines/${name}.ts`
    const threads = await runProgram(script, ["--ranks", "4", "--threads", "4", "--json", ...args])
    t.is(threads.code, 0, threads.stderr)
    const hybrid = await mpirun(2, script, ["--ranks-per-process", "2", "--json", ...args])
    t.is(hybrid.code, 0, hybrid.stderr)
    const onThreads = comparable(threads.stdout, `${name} on 4 threads`)
    t.deepEqual(comparable(hybrid.stdout, `${name} on 2 × 2`), onThreads, name)
    t.like(onThreads, { ok: true, ranks: 4 })
  }
})
