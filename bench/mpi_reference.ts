// The MPI references of issue 14's benchmarks: C-MPI (bench/c/mpi_pingpong.c,
// bench/c/mpi_allreduce.c) and mpi4py (bench/mpi4py/pingpong.py,
// allreduce.py), beside rankflow's own MPI transport on the two latency
// targets (bench/transport.ts pingpong_8B, allreduce_1_double), each under mpirun on 2 processes over two links:
//   shm        one machine, Open MPI's shared-memory BTL (--mca btl self,vader);
//   tcp-netns  the two namespace hosts of test/mpi/two-hosts.sh: TCP over a
//              veth pair, one process per host (root only).
// One JSON line per result on stdout, as the programs print them, with
// params.link ("shm" | "tcp-netns") and params.run (1..--runs) added; impl is
// "c-mpi", "rankflow-mpi", or the mpi4py programs' own ("mpi4py-buffer"/"mpi4py-serialized"
// for pingpong, "mpi4py" for allreduce). Runs are interleaved (run 1 of every
// impl and link, then run 2, ...) so that all see the same load. A summary of
// 8 B one-way and allreduce of one double (min over runs, and the ratio to
// C-MPI on the same link) goes to stderr.
//
//   tsx bench/mpi_reference.ts [--quick] [--runs N] [--links shm,tcp-netns] [--only pingpong,allreduce] [--impl c-mpi,rankflow-mpi,mpi4py]
//   npm run bench -- --only mpi_reference [--quick]
//
// The C programs are built here with mpicc -O2 into a cache directory under
// the OS temp dir (keyed by source, flags and `mpicc --showme`; never
// committed). Skipped with a note on stderr (not a failure): C-MPI without
// mpicc, mpi4py without mpi4py and numpy for MPI_PYTHON (default
// /usr/bin/python3, Debian's), everything without mpirun, tcp-netns when not
// root or when the machine refuses network namespaces.
// Environment: MPIRUN (default mpirun), MPICC (default mpicc), MPI_PYTHON,
// MPIRUN_FLAGS (extra mpirun options, on both links).
//
// Main side only.
import { execFileSync, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const TWO_HOSTS = join(root, "test/mpi/two-hosts.sh")
const C_FLAGS = ["-O2"] as const
const LINKS = ["shm", "tcp-netns"] as const
const WORKLOADS = ["pingpong", "allreduce"] as const
type Link = (typeof LINKS)[number]
type Workload = (typeof WORKLOADS)[number]

/** A command to run under mpirun on every rank, or why it cannot run here. */
type Command = { readonly argv: ReadonlyArray<string> } | { readonly skipped: string }

/** One implementation of one workload. */
interface Reference {
  readonly impl: string
  readonly workload: Workload
  readonly command: (quick: boolean) => Command
}

let builds: Map<string, Command> | undefined
/** bench/c/<name>.c built with mpicc (once per source, flags and wrapper), or why not. */
function mpiProgram(name: string): Command {
  builds ??= new Map()
  const known = builds.get(name)
  if (known !== undefined) return known
  const mpicc = process.env.MPICC ?? "mpicc"
  let wrapper: string
  try {
    wrapper = execFileSync(mpicc, ["--showme"], { encoding: "utf8" }).trim()
  } catch {
    const skipped = { skipped: `${mpicc} not found (Debian: apt-get install libopenmpi-dev gcc; or set MPICC)` }
    builds.set(name, skipped)
    return skipped
  }
  const source = join(root, "bench/c", `${name}.c`)
  const key = createHash("sha256").update(readFileSync(source)).update(C_FLAGS.join(" ")).update(wrapper).digest("hex").slice(0, 16)
  const dir = join(tmpdir(), "rankflow-bench-c")
  const binary = join(dir, `${name}-${key}`)
  let built: Command = { argv: [binary] }
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true })
    const partial = `${binary}.${process.pid}`
    const run = spawnSync(mpicc, [...C_FLAGS, "-o", partial, source], { encoding: "utf8" })
    if (run.status === 0) renameSync(partial, binary)
    else built = { skipped: `${mpicc} failed on bench/c/${name}.c: ${(run.stderr || String(run.error)).trim().split("\n")[0]}` }
  }
  builds.set(name, built)
  return built
}

let python: Command | undefined
/** The python with mpi4py and numpy (MPI_PYTHON, default Debian's /usr/bin/python3), or why there is none. */
function mpiPython(): Command {
  if (python !== undefined) return python
  const interpreter = process.env.MPI_PYTHON ?? "/usr/bin/python3"
  const probe = spawnSync(interpreter, ["-c", "from mpi4py import MPI; import numpy"], { encoding: "utf8" })
  python =
    probe.status === 0
      ? { argv: [interpreter] }
      : { skipped: `${interpreter} has no mpi4py and numpy (Debian: apt-get install python3-mpi4py python3-numpy; or set MPI_PYTHON)` }
  return python
}

const withArgs = (command: Command, ...args: string[]): Command => ("skipped" in command ? command : { argv: [...command.argv, ...args] })
const quickFlag = (quick: boolean): string[] => (quick ? ["--quick"] : [])

/** rankflow on its MPI transport: bench/transport.ts's latency workload `workload` (8 B one-way, or allreduce of one double). */
const rankflowMpi = (workload: string) => (quick: boolean): Command => ({
  argv: [process.execPath, "--import=tsx", "bench/transport.ts", "--", workload, quick ? "quick" : "full", "rankflow-mpi"],
})

/** What runs, in order (interleaved per run, so every impl sees the same load). */
export const REFERENCES: ReadonlyArray<Reference> = [
  { impl: "c-mpi", workload: "pingpong", command: (quick) => withArgs(mpiProgram("mpi_pingpong"), ...quickFlag(quick)) },
  { impl: "rankflow-mpi", workload: "pingpong", command: rankflowMpi("pingpong_8B") },
  { impl: "mpi4py", workload: "pingpong", command: (quick) => withArgs(mpiPython(), "bench/mpi4py/pingpong.py", ...quickFlag(quick)) },
  { impl: "c-mpi", workload: "allreduce", command: (quick) => withArgs(mpiProgram("mpi_allreduce"), ...quickFlag(quick)) },
  { impl: "rankflow-mpi", workload: "allreduce", command: rankflowMpi("allreduce_1_double") },
  { impl: "mpi4py", workload: "allreduce", command: (quick) => withArgs(mpiPython(), "bench/mpi4py/allreduce.py", ...quickFlag(quick)) },
]

const ROOT_OK = { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }

/** The launcher for `link`: a command prefix that runs the rest on 2 processes, or why it cannot. */
function launcher(link: Link): Command {
  const mpirun = process.env.MPIRUN ?? "mpirun"
  if (spawnSync(mpirun, ["--version"]).status !== 0) return { skipped: `${mpirun} not found (Debian: apt-get install openmpi-bin)` }
  // MPIRUN_FLAGS: extra mpirun options for both links (two-hosts.sh reads it too), e.g. "--mca mpi_yield_when_idle 1".
  if (link === "shm") return { argv: [mpirun, "-np", "2", "--mca", "btl", "self,vader", ...(process.env.MPIRUN_FLAGS ?? "").split(/\s+/).filter((w) => w !== "")] }
  if (process.getuid?.() !== 0) return { skipped: "tcp-netns needs root (network namespaces; test/mpi/two-hosts.sh)" }
  return { argv: [TWO_HOSTS, "-np", "2", "--"] }
}

/** Runs one reference on one link; returns its result lines with params.link and params.run, or a note. */
function runOne(reference: Reference, link: Link, run: number, quick: boolean): { lines: Line[] } | { skipped: string } | { failed: string } {
  const start = launcher(link)
  if ("skipped" in start) return start
  const command = reference.command(quick)
  if ("skipped" in command) return command
  const [program, ...args] = [...start.argv, ...command.argv]
  const child = spawnSync(program!, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...ROOT_OK, PYTHONDONTWRITEBYTECODE: "1" }, maxBuffer: 16 << 20 })
  if (link === "tcp-netns" && child.status === 3) return { skipped: `tcp-netns: ${child.stderr.trim().split("\n").at(-1)}` }
  const lines: Line[] = []
  for (const text of child.stdout.split("\n")) {
    if (!text.startsWith("{")) {
      if (text.trim() !== "") process.stderr.write(`${text}\n`)
      continue
    }
    const line = JSON.parse(text) as Line
    lines.push({ ...line, params: { ...line.params, link, run } })
  }
  if (child.status !== 0) return { failed: `exit ${child.status ?? child.signal}: ${child.stderr.trim()}` }
  return { lines }
}

/** The comma-separated values after `flag`, checked against `known`. */
function listOption<T extends string>(flag: string, known: ReadonlyArray<T>, fallback: ReadonlyArray<T>): ReadonlyArray<T> {
  const at = process.argv.indexOf(flag)
  if (at < 0) return fallback
  const values = (process.argv[at + 1] ?? "").split(",")
  const unknown = values.filter((v) => !known.includes(v as T))
  if (unknown.length > 0 || values.length === 0) {
    console.error(`mpi_reference: ${flag} takes a comma-separated list of ${known.join(", ")}; got ${process.argv[at + 1] ?? "nothing"}`)
    process.exit(2)
  }
  return values as T[]
}

/** A result line as the programs print it (bench/workloads/harness.ts's schema), with params.link and params.run. */
interface Line {
  readonly workload: string
  readonly impl: string
  readonly params: Record<string, unknown>
  readonly metrics: Record<string, number>
}

/** 8 B one-way and allreduce of one double: min over runs per link and impl, and the ratio to C-MPI on the same link. */
function summarize(lines: ReadonlyArray<Line>): string[] {
  const pick = (label: string, match: (l: Line) => boolean, metric: string): string[] => {
    const best = new Map<string, number>()
    for (const l of lines.filter(match)) {
      const key = `${String(l.params.link)} ${l.impl}`
      best.set(key, Math.min(best.get(key) ?? Infinity, l.metrics[metric]!))
    }
    return [...best].map(([key, value]) => {
      const c = best.get(`${key.split(" ")[0]} c-mpi`)
      return `${label} ${key}: ${value.toFixed(3)} µs${c === undefined ? "" : ` (${(value / c).toFixed(2)}× c-mpi)`}`
    })
  }
  // mpi4py's buffer allreduce (Allreduce of a 1-element array) is the counterpart of C's; its pickled one has a line of its own in the JSON.
  const oneDouble = (l: Line): boolean => l.workload === "allreduce" && l.params.op === (l.impl === "mpi4py" ? "allreduce_1_double_buffer" : "allreduce_1_double")
  return [
    ...pick("8 B one-way", (l) => l.workload === "pingpong" && l.params.bytes === 8, "one_way_us"),
    ...pick("allreduce 1 double", oneDouble, "us_per_call"),
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick")
  const runsAt = process.argv.indexOf("--runs")
  const runs = runsAt < 0 ? 1 : Number(process.argv[runsAt + 1])
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`mpi_reference: --runs takes a positive integer; got ${process.argv[runsAt + 1] ?? "nothing"}`)
    process.exit(2)
  }
  const links = listOption("--links", LINKS, LINKS)
  const workloads = listOption("--only", WORKLOADS, WORKLOADS)
  const impls = listOption("--impl", ["c-mpi", "rankflow-mpi", "mpi4py"], ["c-mpi", "rankflow-mpi", "mpi4py"])
  const chosen = REFERENCES.filter((r) => workloads.includes(r.workload) && (impls as ReadonlyArray<string>).includes(r.impl))
  const notes = new Set<string>()
  const all: Line[] = []
  let failed = false
  for (let run = 1; run <= runs; run++) {
    for (const link of links) {
      for (const reference of chosen) {
        const outcome = runOne(reference, link, run, quick)
        if ("lines" in outcome) {
          for (const line of outcome.lines) console.log(JSON.stringify(line))
          all.push(...outcome.lines)
        } else if ("skipped" in outcome) {
          notes.add(`mpi_reference: ${reference.impl} ${reference.workload} on ${link} skipped: ${outcome.skipped}`)
        } else {
          console.error(`mpi_reference: ${reference.impl} ${reference.workload} on ${link} (run ${run}) failed: ${outcome.failed}`)
          failed = true
        }
      }
    }
  }
  for (const note of notes) console.error(note)
  for (const line of summarize(all)) console.error(`mpi_reference: ${line}`)
  process.exit(failed ? 1 : 0)
}
