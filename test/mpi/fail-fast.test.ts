// Never a silent hang on MPI either: a throwing rank ends the whole mpirun job with its rank,
// error and stack and a non-zero exit; comm.abort(code) ends it with that code; --timeout ends
// a hung job with 124; Ctrl-C on mpirun stops every process; no process is left behind.
// Bad command lines are refused with exit 2 before any rank starts — also when the MPI addon
// is missing, naming the Debian packages that provide Open MPI.
import { execFileSync, spawn } from "node:child_process"
import { serialize } from "node:v8"
import test from "ava"
import { ROOT, runProgram } from "../helpers.ts"
import { MPI_ENV, MPIRUN_FLAGS, mpirun, requireMpirun } from "./mpirun.ts"

const PROGRAM = "test/fixtures/mpi/faults.ts"

/** The processes of this fixture still alive (none must be, once mpirun has returned). */
function leftovers(pattern = PROGRAM): string[] {
  try {
    return execFileSync("pgrep", ["-af", pattern], { encoding: "utf8" }).split("\n").filter((l) => l.includes("node") && !l.includes("pgrep"))
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

/** Processes may take a moment to be reaped after mpirun returns: poll briefly. */
async function noLeftovers(pattern = PROGRAM): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const left = leftovers(pattern)
    if (left.length === 0) return left
    await new Promise((r) => setTimeout(r, 100))
  }
  return leftovers(pattern)
}

test.serial("a clean run on 3 MPI processes: every rank computes the same allreduce and the job exits 0", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(3, PROGRAM, ["--", "ok"])
  t.is(run.code, 0, run.stderr)
  for (const r of [0, 1, 2]) t.regex(run.stdout, new RegExp(`^rank ${r} of 3: sum 6$`, "m"))
})

test.serial("a rank that throws ends the MPI job at once: its rank, error and stack on stderr, exit 1, no process left", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(3, PROGRAM, ["--", "throw"])
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /^rankflow: rank 1 failed: Error: boom on purpose$/m)
  t.regex(run.stderr, /at .*faults\.ts:\d+/, "the stack names the program's line")
  // Not asserted: mpirun's own "MPI_ABORT was invoked" banner, which a loaded machine sometimes ends the job before printing.
  t.deepEqual(await noLeftovers(), [])
})

test.serial("comm.abort(3) on rank 2 ends every MPI process with exit code 3", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(3, PROGRAM, ["--", "abort"])
  t.is(run.code, 3, run.stderr)
  t.regex(run.stderr, /rank 2 called comm\.abort\(3\): bad input on purpose/)
  t.deepEqual(await noLeftovers(), [])
})

test.serial("--timeout ends a hung MPI job with exit 124 on every process", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, ["--timeout", "4", "--", "hang"])
  t.is(run.code, 124, run.stderr)
  t.regex(run.stderr, /timed out|time limit/i)
  t.deepEqual(await noLeftovers(), [])
})

test.serial("Ctrl-C on mpirun stops every process of a hung job", async (t) => {
  if (!requireMpirun(t)) return
  const child = spawn("mpirun", ["-np", "2", ...MPIRUN_FLAGS, process.execPath, "--import=tsx", PROGRAM, "--", "hang"], { cwd: ROOT, env: { ...process.env, ...MPI_ENV } })
  let out = ""
  child.stdout.on("data", (d: Buffer) => (out += d.toString()))
  const ended = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  // Both ranks are blocked in their receive once they said so.
  for (let i = 0; i < 1200 && (out.match(/waits/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 100))
  t.is((out.match(/waits/g) ?? []).length, 2, out)
  child.kill("SIGINT")
  const bound = setTimeout(() => child.kill("SIGKILL"), 60_000) // a bound against hangs only
  const code = await ended
  clearTimeout(bound)
  t.not(code, 0)
  t.not(code, null, "mpirun ended by itself, not by the bound")
  t.deepEqual(await noLeftovers(), [])
})

test.serial("under mpirun, a --ranks that differs from the number of processes is refused with exit 2", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, ["--ranks", "5", "--", "ok"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /--ranks: 5 does not match the 2 ranks of 2 MPI processes/)
  t.notRegex(run.stdout, /sum/, "no rank ran")
})

test("--transport mpi outside mpirun with several ranks says to start it with mpirun (exit 2)", async (t) => {
  const run = await runProgram(PROGRAM, ["--transport", "mpi", "--ranks", "3", "--", "ok"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /mpirun -np 3/)
})

test("without the MPI addon, --transport mpi is refused before any rank starts, naming the packages to install", async (t) => {
  const run = await runProgram(PROGRAM, ["--transport", "mpi", "--ranks", "1", "--", "ok"], undefined, { RANKFLOW_MPI: "0" })
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /MPI transport is unavailable/)
  t.regex(run.stderr, /openmpi-bin libopenmpi-dev/)
  t.notRegex(run.stdout, /sum/)
})

test("--transport accepts threads or mpi only (exit 2 naming the value)", async (t) => {
  const run = await runProgram(PROGRAM, ["--transport", "tcp", "--", "ok"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /--transport: expected threads or mpi, got 'tcp'/)
})

test.serial("a collective mismatch across MPI processes is reported with both calls and ends the job (exit 1)", async (t) => {
  if (!requireMpirun(t)) return
  const calls = serialize([["collectives.ts", "mismatchedCalls", "op"]]).toString("base64")
  const run = await mpirun(2, "test/fixtures/mpi/runExport.ts", ["--timeout", "120", "--", calls])
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /rankflow: rank \d failed: CollectiveMismatch: .*called (bcast|reduce) .* but rank \d called (reduce|bcast)/)
  t.deepEqual(await noLeftovers(calls.slice(0, 40).replace(/[^A-Za-z0-9]/g, ".")), []) // this job's own command line
})

test.serial("collectives called in a different order across MPI processes (ibarrier then allreduce against allreduce then ibarrier) fail with CollectiveMismatch, not a silent pairing of two different allreduce calls", async (t) => {
  if (!requireMpirun(t)) return
  const calls = serialize([["collectives.ts", "mismatchedCalls", "order"]]).toString("base64")
  const run = await mpirun(2, "test/fixtures/mpi/runExport.ts", ["--timeout", "120", "--", calls])
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /rankflow: rank \d failed: CollectiveMismatch: /)
  t.notRegex(run.stderr, /timed out|JobTimeout/)
})

test.serial("allreduces called on two communicators in a different order across MPI processes fail with CollectiveMismatch naming the other communicator, not a hang", async (t) => {
  if (!requireMpirun(t)) return
  const calls = serialize([["collectives.ts", "mismatchedCalls", "communicators"]]).toString("base64")
  const run = await mpirun(3, "test/fixtures/mpi/runExport.ts", ["--timeout", "120", "--", calls])
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /rankflow: rank \d failed: CollectiveMismatch: rank \d: collective mismatch: this rank called allreduce \(root 0, collective #\d+\) but rank \d called a collective on another communicator/)
  t.notRegex(run.stderr, /timed out|JobTimeout/)
})

test.serial("--dashboard is refused on the MPI transport with exit 2 (it watches threads only), before any rank starts", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, ["--dashboard=0", "--", "ok"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /--dashboard: the dashboard watches ranks on threads only/)
  t.notRegex(run.stderr, /dashboard at http/)
})

test("--ranks-per-process needs the MPI transport (exit 2 on threads)", async (t) => {
  const run = await runProgram(PROGRAM, ["--ranks-per-process", "2", "--", "ok"])
  t.is(run.code, 2, run.stderr)
  t.regex(run.stderr, /--ranks-per-process: needs the MPI transport/)
})

test.serial("hybrid: a rank thread that throws in one of 2 processes × 2 threads ends the whole job, naming its global rank", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, ["--ranks-per-process", "2", "--", "throw"])
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /^rankflow: rank 1 failed: Error: boom on purpose$/m)
  t.deepEqual(await noLeftovers(), [])
})
