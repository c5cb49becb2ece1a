// One workload on the world communicator of whatever transport runs it — worker threads
// (`--ranks 2`) or Open MPI processes (`mpirun -np 2`) — printing the suite's JSON lines from
// rank 0 with `impl` naming the transport. bench/mpi.ts runs it both ways in one run.
//   tsx bench/transport.ts --ranks 2 -- <pingpong|allreduce|heat1d_small|heat2d> <quick|full> <impl>
//   mpirun -np 2 tsx bench/transport.ts -- heat2d full comm-mpi
// pingpong_8B and allreduce_1_double are the two latency targets of issue 14 alone (8 B one-way on
// the buffer path; allreduce of one double with SUM), short enough to interleave with C-MPI's
// runs in bench/mpi_reference.ts; their lines have the same workload/params as pingpong/allreduce.
import { type Comm, init, positionals, SUM } from "rankflow"
import { measure as allreduce, timeCalls } from "./allreduce.ts"
import { measure as pingpong, pingpong as pingpongOf } from "./pingpong.ts"
import { type ResultLine, resultLine, type Workload } from "./workloads/harness.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"
import { rank as heat1dRank } from "./workloads/heat1d.comm.ts"
import { heat2d } from "./workloads/heat2d.ts"
import { rank as heat2dRank } from "./workloads/heat2d.comm.ts"
import type { RankFunction } from "./workloads/rank.ts"

const comm = await init()
const [workload = "", mode = "quick", impl = "comm"] = positionals()
const quick = mode === "quick"
const print = (line: object): void => {
  if (comm.rank === 0) console.log(JSON.stringify(line))
}

async function field<P extends object, R extends object>(w: Workload<P, R>, rank: RankFunction<P, R>): Promise<void> {
  const params = w.params(quick)
  const reps = quick ? 1 : 3
  const outcome = await rank(comm as Comm, { params, reps, partitions: comm.size })
  if (outcome !== undefined) {
    const line: ResultLine = resultLine(w, impl, comm.size, params, reps, outcome)
    const problems = w.check(params, outcome.result)
    if (problems.length > 0) throw new Error(`${w.name}: ${problems.join("; ")}`)
    print(line)
  }
}

if (workload === "pingpong") {
  for (const t of pingpong(comm, quick)) {
    print({ workload: "pingpong", impl: `${impl}-${t.path}`, ranks: comm.size, params: { bytes: t.bytes, trips: t.trips }, wall_s: t.seconds * 2 * t.trips, result: { bytes: t.bytes }, metrics: { one_way_us: t.seconds * 1e6, bandwidth_GBps: t.bytes / t.seconds / 1e9 } })
  }
} else if (workload === "allreduce") {
  for (const r of allreduce(comm, quick)) {
    print({ workload: "allreduce", impl, ranks: comm.size, params: { op: r.name, bytes: r.bytes, reps: r.reps }, wall_s: r.seconds * r.reps, result: { check: r.check }, metrics: { us_per_call: r.seconds * 1e6 } })
  }
} else if (workload === "pingpong_8B") {
  const trips = quick ? 20_000 : 200_000
  const seconds = pingpongOf(comm, 8, trips, false)
  print({ workload: "pingpong", impl, ranks: comm.size, params: { bytes: 8, trips }, wall_s: seconds * 2 * trips, result: { bytes: 8 }, metrics: { one_way_us: seconds * 1e6 } })
} else if (workload === "allreduce_1_double") {
  const reps = quick ? 20_000 : 200_000
  let sum = 0
  const seconds = timeCalls(comm, reps, () => (sum = comm.allreduce(comm.rank + 1, SUM)), Math.max(reps, 10_000))
  if (sum !== (comm.size * (comm.size + 1)) / 2) throw new Error(`allreduce_1_double: sum ${sum}, expected ${(comm.size * (comm.size + 1)) / 2}`)
  print({ workload: "allreduce", impl, ranks: comm.size, params: { op: "allreduce_1_double", bytes: 8, reps }, wall_s: seconds * reps, result: { check: sum }, metrics: { us_per_call: seconds * 1e6 } })
} else if (workload === "heat1d_small") await field(heat1dSmall, heat1dRank)
else if (workload === "heat2d") await field(heat2d, heat2dRank)
else throw new Error(`bench/transport.ts: unknown workload '${workload}' (pingpong, allreduce, pingpong_8B, allreduce_1_double, heat1d_small, heat2d)`)
