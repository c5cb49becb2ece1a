// Runs test/fixtures/faults.ts as a child process and times what matters in a
// fault: when "ready" appeared, when the first stderr line appeared, when the
// process exited; optionally sends a signal once every rank is ready.
import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { ROOT } from "../helpers.ts"

export interface FaultRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly firstLine: string
  readonly pid: number
  /** ms timestamps (performance.now) */
  readonly readyAt: number | undefined
  readonly signalledAt: number | undefined
  readonly reportedAt: number | undefined
  readonly exitAt: number
}

export interface FaultOptions {
  readonly ranks?: number
  readonly args?: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>>
  /** Send this signal once `readyCount` ranks said "ready". */
  readonly signal?: NodeJS.Signals
  readonly readyCount?: number
  /** Kill the child after this long (a bound against hangs, far above any goal). */
  readonly killAfterMs?: number
}

/** At most two fault programs at once: ava starts a file's tests together, on 2 busy cores. */
let running = 0
const waiting: Array<() => void> = []

export async function runFault(fault: string, options: FaultOptions = {}): Promise<FaultRun> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await runNow(fault, options)
  } finally {
    running--
    waiting.shift()?.()
  }
}

function runNow(fault: string, options: FaultOptions): Promise<FaultRun> {
  const args = ["--import=tsx", "test/fixtures/faults.ts", "--ranks", String(options.ranks ?? 3), "--fault", fault, ...(options.args ?? [])]
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env } })
  let stdout = ""
  let stderr = ""
  let readyAt: number | undefined
  let signalledAt: number | undefined
  let reportedAt: number | undefined
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 60_000)
  child.stdout.on("data", (d: Buffer) => {
    stdout += d
    if (readyAt === undefined && (stdout.match(/^ready/gm)?.length ?? 0) >= (options.readyCount ?? 1)) {
      readyAt = performance.now()
      if (options.signal !== undefined) {
        signalledAt = performance.now()
        child.kill(options.signal)
      }
    }
  })
  child.stderr.on("data", (d: Buffer) => {
    reportedAt ??= performance.now()
    stderr += d
  })
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer)
      resolve({
        code,
        signal,
        stdout,
        stderr,
        firstLine: stderr.split("\n")[0]!,
        pid: child.pid!,
        readyAt,
        signalledAt,
        reportedAt,
        exitAt: performance.now(),
      })
    })
  })
}

/** Live (not zombie) processes still marked as started by the jobs of supervisor `pid`. */
export function leftBehind(pid: number): string[] {
  const left: string[] = []
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1")
      if (/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))) continue
      const environ = readFileSync(`/proc/${name}/environ`, "latin1").split("\0")
      if (environ.some((v) => v.startsWith(`RANKFLOW_JOB=${pid}.`)))
        left.push(`${name} ${readFileSync(`/proc/${name}/cmdline`, "latin1").replaceAll("\0", " ")}`)
    } catch {
      // gone
    }
  }
  return left
}

/** Whether process `pid` is alive (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2))
  } catch {
    return false
  }
}
