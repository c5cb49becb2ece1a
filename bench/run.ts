// Runs every benchmark of bench/ and prints their JSON lines (one per result).
//   npm run bench [-- --quick] [-- --only heat2d,pi_mc] [-- --ranks 1,2,4,8]
//   npm run bench -- --transport mpi [--quick]   (bench/mpi.ts: MPI processes beside threads)
// The workloads (pi_mc … matvec) also take --impl serial-js,comm and --reps N;
// `--only mpi_reference` runs the C-MPI and mpi4py references (bench/mpi_reference.ts);
// `tsx bench/report.ts results.jsonl` turns the lines into Markdown tables.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const BENCHMARKS = ["pi_mc", "trapezoid", "heat1d_small", "heat1d_large", "heat2d", "matvec", "matmul", "pingpong", "allreduce", "patterns", "startup", "fields"] as const
// Run only when named in --only: the MPI references need Open MPI (and root for their tcp-netns link).
const OPT_IN = ["mpi_reference"] as const
const root = fileURLToPath(new URL("..", import.meta.url))
const args = process.argv.slice(2)
// --transport mpi: the MPI transport beside threads (bench/mpi.ts).
if (args.includes("--transport")) {
  const transport = args[args.indexOf("--transport") + 1]
  if (transport !== "mpi") {
    console.error(`bench: --transport takes mpi (threads is what every other benchmark measures), got ${transport}`)
    process.exit(2)
  }
  const rest = args.filter((a, i) => a !== "--transport" && args[i - 1] !== "--transport")
  process.exit(spawnSync(process.execPath, ["--import=tsx", "bench/mpi.ts", ...rest], { cwd: root, stdio: "inherit" }).status ?? 1)
}
const onlyAt = args.indexOf("--only")
const only = onlyAt >= 0 ? args[onlyAt + 1]!.split(",") : [...BENCHMARKS]
const unknown = only.filter((name) => !([...BENCHMARKS, ...OPT_IN] as ReadonlyArray<string>).includes(name))
if (unknown.length > 0) {
  console.error(`bench: unknown workload(s) ${unknown.join(", ")}; known: ${[...BENCHMARKS, ...OPT_IN].join(", ")}`)
  process.exit(2)
}
const forwarded = onlyAt >= 0 ? args.filter((_, i) => i !== onlyAt && i !== onlyAt + 1) : args
let failed = false
for (const name of only) {
  // pingpong always runs on 2 ranks; it takes no --ranks.
  const own = name === "pingpong" ? forwarded.filter((a, i) => a !== "--ranks" && forwarded[i - 1] !== "--ranks") : forwarded
  const run = spawnSync(process.execPath, ["--import=tsx", `bench/${name}.ts`, ...own], { cwd: root, stdio: "inherit" })
  if (run.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
