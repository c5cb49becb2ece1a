// How long a deadlock inside one process of a hybrid MPI job (2 processes × 2 rank threads,
// test/fixtures/mpi/hybridDeadlocks.ts) takes to be reported: from the moment both ranks of the
// cycle said they wait (their stdout line reaches mpirun's parent) until mpirun has exited with
// the report (the watcher's quiet period is --deadlock-after's default, 1 s; the job's
// MPI_Abort and teardown are included). Cases: "local-cycle" (recv vs recv while the other
// process's ranks keep exchanging) and "local-collective" (a barrier of the process's ranks vs
// recv). Then false reports: how often the correct "remote-wait" job (local ranks waiting 3 s on
// a busy remote rank) ends with anything but exit 0. One JSON line per case.
//   flock /tmp/rankflow-bench.lock node --import tsx bench/hybrid_deadlock.ts [--reps 5] [--false-reps 3]
import { spawn } from "node:child_process"

const option = (name: string, fallback: number): number =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback
const reps = option("--reps", 5)
const falseReps = option("--false-reps", 3)
const FIXTURE = "test/fixtures/mpi/hybridDeadlocks.ts"
const env = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }

/** Runs one job: its exit code and the seconds from both cycle ranks' "waits" lines to its exit. */
function job(mode: string): Promise<{ code: number | null; seconds: number; stderr: string }> {
  return new Promise((resolve) => {
    const argv = ["-np", "2", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1", process.execPath, "--import=tsx", FIXTURE, "--ranks-per-process", "2", "--timeout", "60", "--", mode]
    const child = spawn("mpirun", argv, { env })
    let out = ""
    let stderr = ""
    let waiting = 0
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      if (waiting === 0 && /rank 0 waits/.test(out) && /rank 1 waits/.test(out)) waiting = performance.now()
    })
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("exit", (code) => resolve({ code, seconds: waiting === 0 ? NaN : (performance.now() - waiting) / 1000, stderr }))
  })
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
for (const mode of reps > 0 ? ["local-cycle", "local-collective"] : []) {
  const times: number[] = []
  let unreported = 0
  for (let i = 0; i < reps; i++) {
    const run = await job(mode)
    if (run.code === 1 && /deadlock: ranks 0, 1 wait on each other/.test(run.stderr)) times.push(run.seconds)
    else unreported++
  }
  console.log(JSON.stringify({ bench: "hybrid_deadlock", impl: mode, layout: "2x2", reps, median_s: median(times), max_s: Math.max(...times), unreported }))
}
let falseReports = 0
for (let i = 0; i < falseReps; i++) if ((await job("remote-wait")).code !== 0) falseReports++
if (falseReps > 0) console.log(JSON.stringify({ bench: "hybrid_deadlock", impl: "false_reports", case: "remote-wait", runs: falseReps, false_reports: falseReports }))
