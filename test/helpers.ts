// Shared test helpers: run rank functions from a fixture, run a program as a child process.
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Grid, runRanks } from "rankflow"

export const ROOT = fileURLToPath(new URL("..", import.meta.url))
export const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

/**
 * At most this many jobs run at once per test file (runProgram, onRanks and the
 * fault harness share it): ava starts every test of a
 * file together, and dozens of rank pools on 2 cores would only time out.
 */
const MAX_JOBS = 2
let running = 0
const waiting: Array<() => void> = []

export async function limited<T>(job: () => Promise<T>): Promise<T> {
  if (running >= MAX_JOBS) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await job()
  } finally {
    running--
    waiting.shift()?.()
  }
}

/**
 * A bound against hangs, never a speed limit: a job blocked in communication
 * is reported by the deadlock watcher within a second; this only ends a rank
 * stuck computing. A loaded machine (two CPU hogs on 2 cores) makes jobs
 * several times slower, so it is far above any job's normal time.
 */
const HANG_SECONDS = 300

/** Runs `fixtures/<file>`'s `exportName` on `ranks` ranks; resolves with the per-rank results. */
export function onRanks<R>(ranks: number, file: string, exportName: string, args?: unknown): Promise<R[]> {
  return limited(() => runRanks<R>({ ranks, module: fixture(file), export: exportName, args, timeoutSeconds: HANG_SECONDS }))
}

export interface ProgramRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly seconds: number
}

/**
 * Runs `tsx <script> ...args` from the repository root (or `node` for .js);
 * killed after `timeoutMs` (a bound against hangs). `env` adds to the
 * environment (ava's config sets RANKFLOW_OVERSUBSCRIBE=1 for every test:
 * they start more ranks than cores on purpose).
 */
export function runProgram(script: string, args: string[], timeoutMs = HANG_SECONDS * 1000, env: NodeJS.ProcessEnv = {}): Promise<ProgramRun> {
  return limited(() => runProgramNow(script, args, timeoutMs, env))
}

function runProgramNow(script: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv): Promise<ProgramRun> {
  const t0 = performance.now()
  const command = script.endsWith(".js") ? [process.execPath, script] : [process.execPath, "--import=tsx", script]
  return new Promise((resolve) => {
    execFile(command[0]!, [...command.slice(1), ...args], { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
      resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 })
    })
  })
}

/** A program running in the background (see `startProgram`). */
export interface StartedProgram {
  readonly child: ChildProcess
  /** What it wrote to stderr so far. */
  readonly stderr: () => string
  /** Resolves with the first match of `pattern` in its stderr; rejects when it ends (or `timeoutMs` passes) first. */
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  /** Its end, as `runProgram` reports it. */
  readonly done: Promise<ProgramRun>
}

/**
 * Starts `tsx <script> ...args` from the repository root like `runProgram`,
 * but returns at once: for a test that talks to the program while it runs
 * (e.g. its dashboard). Killed after `timeoutMs` (a bound against hangs).
 */
export function startProgram(script: string, args: string[], timeoutMs = HANG_SECONDS * 1000, env: NodeJS.ProcessEnv = {}): StartedProgram {
  const t0 = performance.now()
  const child = spawn(process.execPath, ["--import=tsx", script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const listeners = new Set<() => void>()
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const listener of listeners) listener()
  })
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const done = new Promise<ProgramRun>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer)
      for (const listener of listeners) listener()
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr, seconds: (performance.now() - t0) / 1000 })
    })
  })
  let ended = false
  void done.then(() => (ended = true))
  const waitFor = (pattern: RegExp, waitMs = timeoutMs): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`no ${pattern} in the program's stderr within ${waitMs} ms:\n${stderr}`)), waitMs)
      const check = (): void => {
        const match = stderr.match(pattern)
        if (match !== null) finish(undefined, match)
        else if (ended || child.exitCode !== null) finish(new Error(`the program ended without ${pattern} in its stderr:\n${stderr}`))
      }
      const finish = (error: Error | undefined, match?: RegExpMatchArray): void => {
        clearTimeout(timer)
        listeners.delete(check)
        if (error === undefined) resolve(match!)
        else reject(error)
      }
      listeners.add(check)
      check()
    })
  return { child, stderr: () => stderr, waitFor, done }
}

/** A 1-, 2- or 3-D grid from the first `dims` entries of per-dimension sizes and boundary specs (for property tests). */
export function gridOf(dims: 1 | 2 | 3, n: ReadonlyArray<number>, boundary: ReadonlyArray<Grid.BoundarySpec>): Grid.Grid {
  if (dims === 1) return Grid.line({ n: n[0]!, boundary: boundary[0]! })
  if (dims === 2) return Grid.plane({ n: [n[0]!, n[1]!], boundary: [boundary[0]!, boundary[1]!] })
  return Grid.box({ n: [n[0]!, n[1]!, n[2]!], boundary: [boundary[0]!, boundary[1]!, boundary[2]!] })
}
