/**
 * The processes a job's ranks started (`execSync("sleep 60")`, `spawn`, a
 * detached daemon), found and killed when the job ends, as mpirun does. Ranks
 * are threads of the supervisor's process, so their children are the
 * supervisor's; what marks them as this job's is an environment variable every
 * rank's `process.env` carries (`RANKFLOW_JOB`) and that children inherit,
 * plus descendance: a marked process's descendants are the job's too, even
 * when they dropped the variable. A child started with an `env` of its own,
 * which leaves the variable out, is not found.
 *
 * Linux only (`/proc`); elsewhere nothing is found and nothing is killed.
 *
 * Layer: runtime (supervisor side).
 */
import { readdirSync, readFileSync } from "node:fs"

/** The environment variable that marks a job's processes. */
export const JOB_VARIABLE = "RANKFLOW_JOB"

let jobs = 0
/** When each job of this process started, in clock ticks since boot (/proc's unit, USER_HZ = 100). */
const started = new Map<string, number>()
const TICKS_PER_SECOND = 100

/** Now, in clock ticks since boot (0 when /proc/uptime cannot be read). */
function uptimeTicks(): number {
  try {
    return Math.floor(Number(readFileSync("/proc/uptime", "latin1").split(" ")[0]) * TICKS_PER_SECOND)
  } catch {
    return 0
  }
}

/** A token naming one job of this process, the value of `RANKFLOW_JOB` on its ranks. */
export function newJobToken(): string {
  const token = `${process.pid}.${++jobs}`
  // A second of margin: processes older than that cannot have been started by the job.
  started.set(token, Math.max(0, uptimeTicks() - TICKS_PER_SECOND))
  return token
}

/** Forgets a finished job's start time. */
export function forgetJob(token: string): void {
  started.delete(token)
}

interface ProcessInfo {
  readonly pid: number
  readonly ppid: number
  readonly pgid: number
  /** Start time, clock ticks since boot. */
  readonly start: number
}

/** pid, parent, process group and start time from /proc/<pid>/stat (undefined once gone, or a zombie). */
function info(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    // The command name may hold spaces and parentheses: fields follow the last ')' (state is field 3, starttime 22).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (fields[0] === "Z" || fields[0] === "X") return undefined
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), start: Number(fields[19]) }
  } catch {
    return undefined
  }
}

function carries(pid: number, marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(marker)
  } catch {
    return false
  }
}

/** The live processes of job `token`: those carrying its mark, and their descendants. */
export function jobProcesses(token: string): ProcessInfo[] {
  let pids: number[]
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number)
  } catch {
    return []
  }
  const marker = `${JOB_VARIABLE}=${token}`
  const since = started.get(token) ?? 0
  // Only processes started since the job began can be its own: their environment is read, no other's.
  const all = pids.filter((pid) => pid !== process.pid).flatMap((pid) => info(pid) ?? []).filter((p) => p.start >= since)
  const found = new Map(all.filter((p) => carries(p.pid, marker)).map((p) => [p.pid, p]))
  for (let grew = true; grew; ) {
    grew = false
    for (const p of all)
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p)
        grew = true
      }
  }
  return [...found.values()]
}

/**
 * Sends `signal` to every live process of job `token` and to the process
 * groups they lead (a detached child's own children); returns how many
 * processes were signalled.
 */
export function killJobProcesses(token: string, signal: NodeJS.Signals): number {
  const found = jobProcesses(token)
  const ownGroup = info(process.pid)?.pgid
  for (const p of found) {
    try {
      if (p.pgid === p.pid && p.pgid !== ownGroup) process.kill(-p.pgid, signal)
      else process.kill(p.pid, signal)
    } catch {
      // Gone in the meantime.
    }
  }
  return found.length
}
