// bench/mpi_reference.ts: the C-MPI and mpi4py references run over both links
// (shm, and the two namespace hosts) and print well-formed, checked JSON
// lines tagged with their link. Needs Open MPI, mpi4py and root (as CI has):
// without them these tests fail, saying what is missing.
import test from "ava"
import { runProgram } from "../helpers.ts"
import { twoHostsUnavailable } from "./twoHosts.ts"

const KEYS = ["impl", "metrics", "params", "ranks", "result", "wall_s", "workload"]

interface Line {
  workload: string
  impl: string
  ranks: number
  params: Record<string, unknown>
  wall_s: number
  result: Record<string, number>
  metrics: Record<string, number>
}

async function reference(args: string[]): Promise<{ lines: Line[]; stderr: string }> {
  const missing = twoHostsUnavailable()
  if (missing !== undefined) throw new Error(`MPI references unavailable: ${missing}`)
  const run = await runProgram("bench/mpi_reference.ts", ["--quick", ...args], 600_000)
  if (run.code !== 0) throw new Error(`bench/mpi_reference.ts exited ${run.code}: ${run.stderr}`)
  if (/skipped/.test(run.stderr)) throw new Error(`something was skipped: ${run.stderr}`)
  return { lines: run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line), stderr: run.stderr }
}

test.serial("C-MPI pingpong and allreduce run over shm and across the two hosts: one checked line per size and case, tagged with its link", async (t) => {
  const { lines, stderr } = await reference(["--impl", "c-mpi"])
  for (const line of lines) {
    t.deepEqual(Object.keys(line).sort(), KEYS)
    t.is(line.impl, "c-mpi")
    t.is(line.ranks, 2)
    t.true(Object.values(line.metrics).every((v) => Number.isFinite(v) && v > 0), JSON.stringify(line.metrics))
  }
  for (const link of ["shm", "tcp-netns"]) {
    const pingpong = lines.filter((l) => l.workload === "pingpong" && l.params.link === link)
    t.deepEqual(pingpong.map((l) => l.params.bytes), [8, 1024, 1024 * 1024, 8 * 1024 * 1024], link)
    const allreduce = lines.filter((l) => l.workload === "allreduce" && l.params.link === link)
    t.deepEqual(allreduce.map((l) => [l.params.op, l.result.check]), [["allreduce_1_double", 3], ["allreduce_1Mi_doubles", 3], ["bcast_8MiB", 7]], link)
  }
  t.regex(stderr, /8 B one-way tcp-netns c-mpi: [\d.]+ µs/)
})

test.serial("mpi4py's pingpong runs on both links, both paths, tagged with the link", async (t) => {
  const { lines } = await reference(["--impl", "mpi4py", "--only", "pingpong"])
  for (const link of ["shm", "tcp-netns"]) {
    const mine = lines.filter((l) => l.params.link === link)
    t.deepEqual(mine.map((l) => `${l.impl}@${l.params.bytes}`), [8, 1024, 1024 * 1024, 8 * 1024 * 1024].flatMap((b) => [`mpi4py-buffer@${b}`, `mpi4py-serialized@${b}`]), link)
    t.true(mine.every((l) => l.metrics.one_way_us! > 0 && l.params.run === 1))
  }
})

test.serial("--runs repeats every run, interleaved", async (t) => {
  const { lines } = await reference(["--impl", "c-mpi", "--only", "allreduce", "--links", "tcp-netns", "--runs", "2"])
  const single = lines.filter((l) => l.params.op === "allreduce_1_double")
  t.deepEqual(single.map((l) => `${l.params.link}#${l.params.run}`), ["tcp-netns#1", "tcp-netns#2"])
  t.true(single.every((l) => l.result.check === 3))
})

test("bad options exit 2 and name the option", async (t) => {
  for (const [args, pattern] of [
    [["--links", "ethernet"], /--links takes a comma-separated list of shm, tcp-netns; got ethernet/],
    [["--runs", "0"], /--runs takes a positive integer; got 0/],
    [["--impl", "openmpi"], /--impl takes a comma-separated list of c-mpi, rankflow-mpi, mpi4py/],
  ] as const) {
    const run = await runProgram("bench/mpi_reference.ts", [...args])
    t.is(run.code, 2, run.stderr)
    t.regex(run.stderr, pattern)
    t.is(run.stdout, "")
  }
})

test.serial("rankflow's MPI transport runs beside them on both links: 8 B one-way and allreduce of one double, checked, with its ratio to C-MPI in the summary", async (t) => {
  const { lines, stderr } = await reference(["--impl", "c-mpi,rankflow-mpi"])
  for (const link of ["shm", "tcp-netns"]) {
    const mine = lines.filter((l) => l.impl === "rankflow-mpi" && l.params.link === link)
    t.deepEqual(mine.map((l) => [l.workload, l.workload === "pingpong" ? l.params.bytes : l.params.op]), [["pingpong", 8], ["allreduce", "allreduce_1_double"]], link)
    for (const line of mine) {
      t.deepEqual(Object.keys(line).sort(), KEYS)
      t.is(line.ranks, 2)
      t.true(Object.values(line.metrics).every((v) => Number.isFinite(v) && v > 0), JSON.stringify(line.metrics))
    }
    t.is(mine[1]!.result.check, 3, link) // 1 + 2
    t.regex(stderr, new RegExp(`8 B one-way ${link} rankflow-mpi: [\\d.]+ µs \\([\\d.]+× c-mpi\\)`))
    t.regex(stderr, new RegExp(`allreduce 1 double ${link} rankflow-mpi: [\\d.]+ µs \\([\\d.]+× c-mpi\\)`))
  }
})
