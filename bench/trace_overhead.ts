// heat1d_small (50,000 steps of n = 1004) as a command-line program, to compare a run with
// `--trace=FILE.json` against one without: rank 0 prints each rep's seconds (REPS reps), and the CPU
// seconds each rank's thread ran over all reps and their set-up (Linux: /proc/thread-self/schedstat;
// on a loaded machine, time waiting for a core counts in wall time but not here).
// IMPL=comm (default): the hand-written exchange per step (messages, waits: the engine's events);
// IMPL=pipeline: the declarative version (its stage spans: an exchange and a stencil span per 8 steps).
//   REPS=5 IMPL=pipeline tsx bench/trace_overhead.ts --ranks 2 [--trace=/tmp/heat1d.json]   (REPS: default 3)
// PARTITIONS=2 with --ranks 1: the pipeline's two partitions on one thread (no messages, no waits:
// the stages' spans alone, and CPU time = the one thread's time).
// bench/trace_overhead_compare.ts runs this untraced and traced in turns (and another checkout's untraced
// with --against); on a loaded machine whole runs differ more from run to run than tracing does, so
// bench/trace_alternate.ts compares the two in one job.
import { readFileSync } from "node:fs"
import { init } from "rankflow"
import { rank as commRank } from "./workloads/heat1d.comm.ts"
import { rank as pipelineRank } from "./workloads/heat1d.pipeline.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"

const impl = process.env.IMPL ?? "comm"
if (impl !== "comm" && impl !== "pipeline") throw new Error(`IMPL must be comm or pipeline, got '${impl}'`)
const comm = await init()
const params = heat1dSmall.params(false)
const rank = impl === "comm" ? commRank : pipelineRank
/** Nanoseconds this thread has run on a CPU (NaN where the file does not exist). */
const threadCpuNs = (): number => {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0])
  } catch {
    return Number.NaN
  }
}
const cpu = threadCpuNs()
const outcome = await rank(comm, { params, reps: Number(process.env.REPS ?? 3), partitions: Number(process.env.PARTITIONS ?? comm.size) })
const cpuSeconds = comm.gather((threadCpuNs() - cpu) / 1e9, 0)
if (comm.rank === 0) console.log(JSON.stringify({ impl, steps: params.steps, thread_cpu_s: cpuSeconds, timings: outcome!.timings }))
