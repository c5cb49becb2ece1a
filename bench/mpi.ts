// The MPI transport beside the threads transport, in one run: each workload runs on 2 worker
// threads and then on 2 Open MPI processes (mpirun -np 2, shared memory), the same program
// (bench/transport.ts) both times; one JSON line per result, `impl` naming the transport
// (comm-threads, comm-mpi), then one line per workload with the MPI/threads ratios.
//   npm run bench -- --transport mpi [--quick] [--only pingpong,heat2d]
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const WORKLOADS = ["pingpong", "allreduce", "heat1d_small", "heat2d"]
const root = fileURLToPath(new URL("..", import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes("--quick")
const onlyAt = args.indexOf("--only")
const only = onlyAt >= 0 ? args[onlyAt + 1]!.split(",").filter((w) => WORKLOADS.includes(w)) : WORKLOADS
const env = {
  ...process.env,
  OMPI_ALLOW_RUN_AS_ROOT: "1",
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1",
}
const program = [process.execPath, "--import=tsx", "bench/transport.ts"]

function run(command: string, argv: string[]): Array<Record<string, unknown>> {
  const done = spawnSync(command, argv, { cwd: root, env, encoding: "utf8", maxBuffer: 64 << 20 })
  if (done.status !== 0) {
    process.stderr.write(done.stderr)
    throw new Error(`${command} ${argv.join(" ")} exited ${done.status}`)
  }
  const lines = done.stdout.split("\n").filter((l) => l.startsWith("{"))
  for (const l of lines) console.log(l)
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
}

const key = (l: Record<string, unknown>): string => JSON.stringify([l.workload, String(l.impl).replace(/^comm-(threads|mpi)/, ""), (l.params as Record<string, unknown>).op ?? (l.params as Record<string, unknown>).bytes ?? ""])
const headline = (l: Record<string, unknown>): number => {
  const m = l.metrics as Record<string, number>
  return m.one_way_us ?? m.us_per_call ?? m.us_per_step ?? (l.wall_s as number)
}

let failed = false
for (const workload of only) {
  try {
    const threads = run(program[0]!, [...program.slice(1), "--ranks", "2", "--", workload, quick ? "quick" : "full", "comm-threads"])
    const mpi = run("mpirun", ["-np", "2", "--mca", "mpi_yield_when_idle", "1", ...program, "--", workload, quick ? "quick" : "full", "comm-mpi"])
    const byKey = new Map(threads.map((l) => [key(l), l]))
    for (const l of mpi) {
      const other = byKey.get(key(l))
      if (other === undefined) continue
      const same = l.workload === "heat1d_small" || l.workload === "heat2d" ? JSON.stringify(l.result) === JSON.stringify(other.result) : undefined
      console.log(JSON.stringify({ workload: l.workload, impl: "mpi/threads", ranks: 2, params: l.params, ratio: headline(l) / headline(other), ...(same === undefined ? {} : { identical_result: same }) }))
    }
  } catch (error) {
    console.error(`bench mpi: ${(error as Error).message}`)
    failed = true
  }
}
process.exit(failed ? 1 : 0)
