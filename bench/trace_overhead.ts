// heat1d_small (comm, 50,000 steps of n = 1004) as a command-line program, to compare a run with
// `--trace=FILE.json` against one without: rank 0 prints each rep's seconds (REPS reps).
//   REPS=5 tsx bench/trace_overhead.ts --ranks 2 [--trace=/tmp/heat1d.json]   (REPS: default 3)
import { init } from "rankflow"
import { rank } from "./workloads/heat1d.comm.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"

const comm = await init()
const params = heat1dSmall.params(false)
const outcome = await rank(comm, { params, reps: Number(process.env.REPS ?? 3), partitions: comm.size })
if (comm.rank === 0) console.log(JSON.stringify({ steps: params.steps, timings: outcome!.timings }))
