// heat1d_small (50,000 steps of n = 1004) as a command-line program, to compare a run with
// `--trace=FILE.json` against one without: rank 0 prints each rep's seconds (REPS reps), and the
// process's CPU seconds over all reps and their set-up (every rank's thread: on a loaded machine,
// time waiting for a core counts in wall time but not here).
// IMPL=comm (default): the hand-written exchange per step (messages, waits: the engine's events);
// IMPL=pipeline: the declarative version (its stage spans: an exchange and a stencil span per 8 steps).
//   REPS=5 IMPL=pipeline tsx bench/trace_overhead.ts --ranks 2 [--trace=/tmp/heat1d.json]   (REPS: default 3)
// PARTITIONS=2 with --ranks 1: the pipeline's two partitions on one thread (no messages, no waits:
// the stages' spans alone, and CPU time = the one thread's time).
import { init } from "rankflow"
import { rank as commRank } from "./workloads/heat1d.comm.ts"
import { rank as pipelineRank } from "./workloads/heat1d.pipeline.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"

const impl = process.env.IMPL ?? "comm"
if (impl !== "comm" && impl !== "pipeline") throw new Error(`IMPL must be comm or pipeline, got '${impl}'`)
const comm = await init()
const params = heat1dSmall.params(false)
const rank = impl === "comm" ? commRank : pipelineRank
const cpu = process.cpuUsage()
const outcome = await rank(comm, { params, reps: Number(process.env.REPS ?? 3), partitions: Number(process.env.PARTITIONS ?? comm.size) })
const { user, system } = process.cpuUsage(cpu)
if (comm.rank === 0) console.log(JSON.stringify({ impl, steps: params.steps, cpu_s: (user + system) / 1e6, timings: outcome!.timings }))
