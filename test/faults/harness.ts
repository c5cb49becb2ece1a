// The fault harness: runs a real program as a child process (`node --import=tsx
// <script> ...args` from the repository root, as a user would), injects a
// fault — a signal (once, or twice 100 ms apart as npx relays Ctrl-C), or one
// the program raises itself (a throw, a native block, an allocation, bad
// options) — and records what the user sees: the exit code, stderr's first
// line, how long the exit took after the fault, and whether anything the run
// started is still alive afterwards.
//
// Leftovers are found by a mark: every run gets a unique `sleep` argument
// (FAULT_SLEEP = "300.<digits>", a valid duration for GNU sleep) and a unique
// environment variable (FAULT_RUN), which every descendant inherits; after the
// exit, /proc is scanned for processes carrying either. Any found are killed
// (they are this run's) and reported, so the test fails without leaking them.
import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { limited, ROOT } from "../helpers.ts"

/** A signal sent to the program after it printed its ready line. */
export interface SignalFault {
  readonly name: "SIGINT" | "SIGTERM"
  /** Send it a second time this long after the first (npx and tsx relay Ctrl-C like this). */
  readonly againAfterMs?: number
  /** A line of stdout to wait for before signalling (default /^ready$/m). */
  readonly after?: RegExp
  /** Wait until `after` has matched this many times (default 1). */
  readonly afterCount?: number
  /** Wait this long after that line (default 100 ms: a rank is inside its blocking call). */
  readonly delayMs?: number
}

export interface FaultRun {
  readonly script: string
  readonly args: ReadonlyArray<string>
  /** Exit code, or null when the process died of a signal (see `signal`). */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** stderr's first line: where the cause and the rank must be. */
  readonly firstLine: string
  /** Seconds from the fault to the exit (signal sent, or the program's `fault at <ms>` mark, or `faultAt`). */
  readonly secondsAfterFault: number
  /** Seconds from spawn to exit. */
  readonly seconds: number
  /** Whether the harness had to SIGKILL the program (it outlived `killAfterSeconds`). */
  readonly killed: boolean
  /** Processes this run started that outlived it: `pid cmdline` each (already killed by the harness). */
  readonly leftovers: ReadonlyArray<string>
  /** One line describing the run, for assertion messages. */
  readonly summary: string
}

export interface FaultOptions {
  readonly args?: ReadonlyArray<string>
  /** Environment added to the child's (FAULT selects a fixture's fault). */
  readonly env?: Readonly<Record<string, string>>
  /** Node options before `--import=tsx` (e.g. a heap limit). */
  readonly nodeArgs?: ReadonlyArray<string>
  readonly signal?: SignalFault
  /**
   * When the fault happened, in epoch ms, from what the run printed (e.g.
   * ready time + the --timeout); default: the signal's time, else a
   * `fault at <epoch ms>` line on stdout, else the spawn.
   */
  readonly faultAt?: (marks: { readonly readyAt: number | undefined; readonly spawnedAt: number }) => number
  /** A hard bound: the program is SIGKILLed this long after spawn (default 30 s). */
  readonly killAfterSeconds?: number
}

const FAULT_MARK = /^fault at (\d+)$/m

/** Runs `script` with `options`, at most two runs at once per test file (helpers.ts's limiter). */
export function runFault(script: string, options: FaultOptions = {}): Promise<FaultRun> {
  return limited(() => runFaultNow(script, options))
}

async function runFaultNow(script: string, options: FaultOptions): Promise<FaultRun> {
  const mark = `${Date.now() % 1e6}${Math.floor(Math.random() * 1e6)}`.padStart(12, "0")
  const sleepArgument = `300.${mark}`
  const runId = `fault-${mark}`
  const args = options.args ?? []
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import=tsx", script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env, FAULT_SLEEP: sleepArgument, FAULT_RUN: runId },
    stdio: ["ignore", "pipe", "pipe"],
  })
  const spawnedAt = Date.now()
  let stdout = ""
  let stderr = ""
  let readyAt: number | undefined
  let signalledAt: number | undefined
  const timers: NodeJS.Timeout[] = []
  const ready = new RegExp((options.signal?.after ?? /^ready$/m).source, "gm")
  const readyCount = options.signal?.afterCount ?? 1
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
    if (readyAt === undefined && (stdout.match(ready)?.length ?? 0) >= readyCount) {
      readyAt = Date.now()
      const signal = options.signal
      if (signal !== undefined) {
        timers.push(
          setTimeout(() => {
            signalledAt = Date.now()
            child.kill(signal.name)
            if (signal.againAfterMs !== undefined) timers.push(setTimeout(() => child.kill(signal.name), signal.againAfterMs))
          }, signal.delayMs ?? 100),
        )
      }
    }
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  let killed = false
  timers.push(
    setTimeout(() => {
      killed = true
      child.kill("SIGKILL")
    }, (options.killAfterSeconds ?? 30) * 1000),
  )
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])))
  const exitedAt = Date.now()
  for (const t of timers) clearTimeout(t)
  const markedAt = Number(FAULT_MARK.exec(stdout)?.[1] ?? Number.NaN)
  const faultAt =
    options.faultAt?.({ readyAt, spawnedAt }) ?? signalledAt ?? (Number.isFinite(markedAt) ? markedAt : spawnedAt)
  const leftovers = await leftoversOf([sleepArgument, runId])
  const firstLine = stderr.split("\n")[0] ?? ""
  const secondsAfterFault = (exitedAt - faultAt) / 1000
  const seconds = (exitedAt - spawnedAt) / 1000
  const summary =
    `${script} ${args.join(" ")}${options.env?.FAULT === undefined ? "" : ` (FAULT=${options.env.FAULT})`}: ` +
    `exit ${code ?? signal}${killed ? " (killed by the harness)" : ""} after ${seconds.toFixed(1)} s, ` +
    `${secondsAfterFault.toFixed(2)} s after the fault; stderr: ${JSON.stringify(stderr.slice(0, 400))}`
  return { script, args, code, signal, stdout, stderr, firstLine, secondsAfterFault, seconds, killed, leftovers, summary }
}

/**
 * Processes carrying one of `marks` in their command line or environment,
 * after a grace of up to 1 s for them to go; any still there are SIGKILLed
 * and returned as `pid cmdline`.
 */
async function leftoversOf(marks: ReadonlyArray<string>): Promise<string[]> {
  let found = marked(marks)
  for (let waited = 0; found.length > 0 && waited < 1000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100))
    found = marked(marks)
  }
  for (const { pid } of found) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // gone meanwhile
    }
  }
  return found.map(({ pid, cmdline }) => `${pid} ${cmdline}`)
}

function marked(marks: ReadonlyArray<string>): Array<{ pid: number; cmdline: string }> {
  const found = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const read = (file: string): string => {
      try {
        return readFileSync(`/proc/${entry}/${file}`, "latin1")
      } catch {
        return "" // exited meanwhile, or not ours to read
      }
    }
    const cmdline = read("cmdline")
    if (marks.some((m) => cmdline.includes(m) || read("environ").includes(m))) found.push({ pid: Number(entry), cmdline: cmdline.replaceAll("\0", " ").trim() })
  }
  return found
}
