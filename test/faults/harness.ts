// The fault harness: runs a real program as a child process (`node --import=tsx
// <script> ...args` from the repository root, as a user would), injects a
// fault — a signal (once, or twice 100 ms apart as npx relays Ctrl-C), or one
// the program raises itself (a throw, a native block, an allocation, bad
// options) — and records what the user sees: the exit code, stderr's first
// line, how long the exit took after the fault, and whether anything the run
// started is still alive afterwards.
//
// Time is judged as the observer saw it run: this process keeps a clock of
// its own stalls (a 100 ms tick that came more than 0.5 s late means this
// process was not running — the machine was frozen, e.g. its VM paused for a
// snapshot), and a run reports how much of its time fell in one. A child
// cannot be blamed for seconds in which its observer could not run either:
// on 2026-11-30 a clean-clone suite run saw two quick cases "take" 158 s
// because the VM was paused for ~160 s (the kernel log: drop_caches at
// 23:03:26, "crng reseeded due to virtual machine fork" at 23:05:29; no file
// on the machine was written from 23:02:53 to 23:05:33). The harness's
// own kill timer is stall-aware for the same reason: a pause must not turn
// into a SIGKILL of a child that did nothing wrong.
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
  /**
   * Seconds between the fault and the exit during which this process itself
   * did not run (see the stall clock below): time no child can be blamed for.
   */
  readonly stalledSeconds: number
  /** Seconds the run waited for a free slot (helpers.ts's limiter) before it was spawned. */
  readonly queuedSeconds: number
  /** The run's times in one line (spawn to exit, fault to exit, stalls, wait for a slot), for `t.log`. */
  readonly timing: string
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

/**
 * Runs `script` with `options`, at most two runs at once per test file
 * (helpers.ts's limiter: ava starts every test of a file at once, so a test's
 * duration as ava prints it includes its wait for a slot — see `queuedSeconds`).
 */
export function runFault(script: string, options: FaultOptions = {}): Promise<FaultRun> {
  const calledAt = Date.now()
  return limited(async () => {
    const stopWatching = watchStalls()
    try {
      return await runFaultNow(script, options, (Date.now() - calledAt) / 1000)
    } finally {
      stopWatching()
    }
  })
}

async function runFaultNow(script: string, options: FaultOptions, queuedSeconds: number): Promise<FaultRun> {
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
  // Killed once it has had killAfterSeconds of time in which this process ran: after a stall the timer
  // fires late, and the stalled time is granted again instead of counting against the child.
  const killAfterMs = (options.killAfterSeconds ?? 30) * 1000
  const armKill = (ms: number): void => {
    timers.push(
      setTimeout(() => {
        const left = killAfterMs - (Date.now() - spawnedAt - stalledBetween(spawnedAt, Date.now()))
        if (left > 0) return armKill(left)
        killed = true
        child.kill("SIGKILL")
      }, ms),
    )
  }
  armKill(killAfterMs)
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
  const stalledSeconds = stalledBetween(Math.max(faultAt, spawnedAt), exitedAt) / 1000
  const stalledInRun = stalledBetween(spawnedAt, exitedAt) / 1000
  const timing =
    `spawn to exit ${seconds.toFixed(2)} s, fault to exit ${secondsAfterFault.toFixed(2)} s` +
    `${stalledInRun > 0 ? `, this process stalled ${stalledInRun.toFixed(2)} s of it (${stalledSeconds.toFixed(2)} s after the fault)` : ""}` +
    `, waited ${queuedSeconds.toFixed(1)} s for a slot`
  const summary =
    `${script} ${args.join(" ")}${options.env?.FAULT === undefined ? "" : ` (FAULT=${options.env.FAULT})`}: ` +
    `exit ${code ?? signal}${killed ? " (killed by the harness)" : ""}; ${timing}; stderr: ${JSON.stringify(stderr.slice(0, 400))}`
  return { script, args, code, signal, stdout, stderr, firstLine, secondsAfterFault, seconds, stalledSeconds, queuedSeconds, timing, killed, leftovers, summary }
}

// ── The stall clock ─────────────────────────────────────────────────────────

/** The clock ticks this often while a run is in flight. */
const TICK_MS = 100
/** A tick this late (or later) means this process was not running in between: the excess is a stall. */
const STALL_GAP_MS = 500

/** Stalls seen so far, as [from, to] in epoch ms (from = the last tick + STALL_GAP_MS). */
const stalls: Array<readonly [number, number]> = []
let ticker: NodeJS.Timeout | undefined
let watchers = 0
let lastTick = 0

/** Keeps the stall clock ticking until the returned function is called (one call per run in flight). */
function watchStalls(): () => void {
  if (watchers++ === 0) {
    lastTick = Date.now()
    ticker = setInterval(() => {
      const now = Date.now()
      if (now - lastTick > STALL_GAP_MS) stalls.push([lastTick + STALL_GAP_MS, now])
      lastTick = now
    }, TICK_MS)
  }
  return () => {
    if (--watchers === 0) clearInterval(ticker)
  }
}

/**
 * Milliseconds of [from, to] in which this process was stalled, counting a
 * stall still open now (a late timer or I/O callback may run before the tick does).
 */
function stalledBetween(from: number, to: number): number {
  const now = Date.now()
  const open: ReadonlyArray<readonly [number, number]> = watchers > 0 && now - lastTick > STALL_GAP_MS ? [[lastTick + STALL_GAP_MS, now]] : []
  let total = 0
  for (const [start, end] of [...stalls, ...open]) total += Math.max(0, Math.min(end, to) - Math.max(start, from))
  return total
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
