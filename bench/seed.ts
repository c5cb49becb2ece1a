// The lecture's programs against rankflow's, end to end: each program of
// bench/seed/ (mpi4py, as the lecture wrote it) and its rankflow counterparts
// run as a user runs them — `mpiexec -n N python3 prog.py` and
// `tsx prog.ts --ranks N` — timed from process start to exit (start-up
// included), the min of --reps runs; plus each program's lines of code
// (without blank and comment lines). One JSON line per result; rankflow's carry
// their ratio to the mpi4py program measured in the same run.
//   tsx bench/seed.ts [--ranks 2,4] [--reps 3] [--only pi_monte_carlo,heat]
// Needs Open MPI and mpi4py + numpy (Debian: openmpi-bin python3-mpi4py
// python3-numpy). $RANKFLOW_PYTHON picks the Python that has them (default
// python3); running as root needs OMPI_ALLOW_RUN_AS_ROOT=1 and
// OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

interface Program {
  /** bench/seed/<seed>.py */
  readonly seed: string
  /** rankflow programs doing the same, with the arguments that give them the seed's sizes. */
  readonly rankflow: ReadonlyArray<{ readonly file: string; readonly args?: ReadonlyArray<string> }>
}

const PROGRAMS: Readonly<Record<string, Program>> = {
  hello: { seed: "mpi_hello_example", rankflow: [{ file: "examples/hello.ts" }] },
  send_recv: { seed: "mpi_send_recv", rankflow: [{ file: "examples/send_recv.ts" }] },
  collective: { seed: "mpi_collective", rankflow: [{ file: "examples/collective.ts" }] },
  pi_monte_carlo: { seed: "mpi_pi_monte_carlo", rankflow: [{ file: "examples/pi_monte_carlo.ts" }, { file: "pipelines/pi.ts" }] },
  trapezoid: { seed: "mpi_trapezoid", rankflow: [{ file: "examples/trapezoid.ts" }, { file: "pipelines/trapezoid.ts", args: ["--intervals", "10000000"] }] },
  matvec: { seed: "mpi_matvec", rankflow: [{ file: "examples/matvec.ts" }, { file: "pipelines/matvec.ts" }] },
  nonblocking: { seed: "mpi_nonblocking", rankflow: [{ file: "examples/nonblocking.ts" }] },
  heat: { seed: "mpi_heat_equation", rankflow: [{ file: "examples/halo.ts" }, { file: "pipelines/heat.ts" }] },
  scaling_benchmark: { seed: "mpi_benchmark", rankflow: [{ file: "examples/scaling_benchmark.ts" }] },
}

const root = fileURLToPath(new URL("..", import.meta.url))
const argument = (flag: string, fallback: string): string => {
  const at = process.argv.indexOf(flag)
  return at >= 0 ? process.argv[at + 1]! : fallback
}
const rankCounts = argument("--ranks", "2,4").split(",").map(Number)
const reps = Number(argument("--reps", "3"))
const only = argument("--only", Object.keys(PROGRAMS).join(",")).split(",")
const python = process.env.RANKFLOW_PYTHON ?? "python3"

/** Lines of code: not blank, not a comment (# or //, and TSDoc lines). */
export function codeLines(text: string): number {
  return text.split("\n").filter((line) => {
    const t = line.trim()
    return t !== "" && !t.startsWith("#") && !t.startsWith("//") && !t.startsWith("/*") && !t.startsWith("*")
  }).length
}

/** Min and median wall seconds of `reps` runs of a command; fails the benchmark on a non-zero exit. */
function time(command: string, args: ReadonlyArray<string>): { min: number; median: number } {
  const runs: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const run = spawnSync(command, args, { cwd: root, encoding: "utf8", timeout: 600_000 })
    const seconds = (performance.now() - t0) / 1000
    if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${run.status}:\n${run.stderr}`)
    runs.push(seconds)
  }
  runs.sort((a, b) => a - b)
  return { min: runs[0]!, median: runs[Math.floor(runs.length / 2)]! }
}

function line(program: string, impl: string, file: string, ranks: number, t: { min: number; median: number }, extra: Record<string, number>): void {
  const lines = codeLines(readFileSync(`${root}/${file}`, "utf8"))
  const result = { workload: "seed", impl, ranks, params: { program, file, reps }, wall_s: t.min, result: {}, metrics: { lines, min_s: t.min, median_s: t.median, ...extra } }
  console.log(JSON.stringify(result))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of only) {
    const program = PROGRAMS[name]
    if (program === undefined) throw new Error(`bench/seed.ts: unknown program ${name}; known: ${Object.keys(PROGRAMS).join(", ")}`)
    for (const ranks of rankCounts) {
      const seedFile = `bench/seed/${program.seed}.py`
      const mpi = time("mpiexec", ["--oversubscribe", "-n", String(ranks), python, seedFile])
      line(name, "mpi4py", seedFile, ranks, mpi, {})
      for (const { file, args = [] } of program.rankflow) {
        const t = time(process.execPath, ["--import=tsx", file, "--ranks", String(ranks), ...args])
        line(name, file.startsWith("pipelines/") ? "rankflow pipeline" : "rankflow", file, ranks, t, { ratio_to_mpi4py: t.min / mpi.min })
      }
    }
  }
}
