// Runs programs under Open MPI's mpirun for the MPI suite (test/mpi/*.test.ts). Nothing is
// skipped silently: without mpirun every MPI test fails, saying what to install. Jobs run one
// at a time (at most 4 processes: the machine has 2 cores shared with others).
import { execFile, execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deserialize, serialize } from "node:v8"
import type { ExecutionContext } from "ava"
import { ROOT, runProgram } from "../helpers.ts"

/** The environment mpirun needs here: as root it refuses to run without the first two. */
export const MPI_ENV = { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }

/** Why mpirun cannot run, or undefined when it can. */
export function mpirunMissing(): string | undefined {
  try {
    execFileSync("mpirun", ["--version"], { stdio: "pipe", env: { ...process.env, ...MPI_ENV } })
    return undefined
  } catch (error) {
    return `mpirun does not run (${(error as Error).message.split("\n")[0]}): install Open MPI with \`apt-get install openmpi-bin libopenmpi-dev\`, then \`node native/mpi/build.mjs\``
  }
}

/** Fails the test (never skips it) when mpirun is missing; true when the test can go on. */
export function requireMpirun(t: ExecutionContext): boolean {
  const missing = mpirunMissing()
  if (missing === undefined) return true
  t.fail(missing)
  return false
}

export interface MpiRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly seconds: number
}

let queue: Promise<unknown> = Promise.resolve()

/** mpirun's own flags: oversubscribed on 2 cores, waiting ranks yield their core. */
export const MPIRUN_FLAGS = ["--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]

/**
 * `mpirun -np <np> --oversubscribe node --import=tsx <script> ...args` from the repository
 * root, one job at a time; killed after `timeoutMs` (a bound against hangs, never a speed limit).
 */
export function mpirun(np: number, script: string, args: ReadonlyArray<string>, timeoutMs = 240_000, env: NodeJS.ProcessEnv = {}): Promise<MpiRun> {
  const job = queue.then(
    () =>
      new Promise<MpiRun>((resolve) => {
        const t0 = performance.now()
        const command = script.endsWith(".js") ? [process.execPath, script] : [process.execPath, "--import=tsx", script]
        const argv = ["-np", String(np), ...MPIRUN_FLAGS, ...command, ...args]
        execFile("mpirun", argv, { cwd: ROOT, timeout: timeoutMs, killSignal: "SIGKILL", env: { ...process.env, ...MPI_ENV, ...env }, maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
          const why = error !== null && code === -1 ? `\n(mpirun: ${error.message.split("\n")[0]})` : ""
          resolve({ code, stdout, stderr: `${stderr}${why}`, seconds: (performance.now() - t0) / 1000 })
        })
      }),
  )
  queue = job.catch(() => undefined)
  return job
}

const RUNNER = "test/fixtures/mpi/runExport.ts"

/** A call of a fixture's rank-side function: file under test/fixtures, export, argument. */
export type FixtureCall = readonly [fixture: string, name: string, args?: unknown]

/** Runs the runner with a fresh results file; every call's per-rank results, as rank 0 saved them. */
async function resultsOf(what: string, start: (env: NodeJS.ProcessEnv) => Promise<MpiRun>): Promise<unknown[][]> {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-mpi-"))
  const file = join(dir, "results.bin")
  try {
    const run = await start({ RANKFLOW_TEST_RESULTS: file })
    if (run.code !== 0 || !existsSync(file)) throw new Error(`${what} failed (exit ${run.code}):\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-1000)}`)
    return deserialize(readFileSync(file)) as unknown[][]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const encode = (calls: ReadonlyArray<FixtureCall>): string => serialize(calls).toString("base64")

/** Each call's per-rank results (in call order) on `processes` MPI processes (× `perProcess` rank threads each: hybrid), in one job. */
export function onMpiRanks(processes: number, calls: ReadonlyArray<FixtureCall>, perProcess = 1): Promise<unknown[][]> {
  const hybrid = perProcess === 1 ? [] : ["--ranks-per-process", String(perProcess)]
  return resultsOf(`mpirun -np ${processes} ${hybrid.join(" ")}`, (env) => mpirun(processes, RUNNER, [...hybrid, "--", encode(calls)], undefined, env))
}

/** The same on `ranks` worker threads (the same runner program, the threads transport). */
export function onThreadRanks(ranks: number, calls: ReadonlyArray<FixtureCall>): Promise<unknown[][]> {
  return resultsOf(`--ranks ${ranks}`, (env) => runProgram(RUNNER, ["--ranks", String(ranks), "--", encode(calls)], undefined, env))
}

/** The run's record without what differs between any two runs (seconds). */
export function comparable(stdout: string, what: string): unknown {
  let record: { ok?: boolean; result?: unknown; summary?: Record<string, unknown>; report?: unknown; ranks?: number }
  try {
    record = JSON.parse(stdout) as typeof record
  } catch {
    throw new Error(`${what}: no single JSON document on stdout:\n${stdout.slice(0, 2000)}`)
  }
  const { seconds: _, ...summary } = record.summary ?? {}
  return { ok: record.ok, ranks: record.ranks, result: record.result, summary, report: record.report }
}
