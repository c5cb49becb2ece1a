/**
 * Ending a job on time, whatever its ranks are doing. A worker blocked in
 * JavaScript or in `Atomics.wait` stops when terminated; one inside native
 * code (`crypto.pbkdf2Sync`, a long addon call, `execSync` until its child
 * dies) does not notice until that code returns, which may take minutes. So
 * teardown never waits for a thread without a deadline: it kills the job's
 * child processes (which releases an `execSync`), terminates every worker,
 * waits a bounded time, and leaves the stragglers behind. A process that must
 * exit with threads still stuck exits without joining them (`process.exit`
 * joins every worker thread, and would wait as long as they take).
 *
 * Also: timers longer than `setTimeout` allows (2³¹ − 1 ms, ~24.8 days).
 *
 * Layer: runtime (supervisor side).
 */
import type { Worker } from "node:worker_threads"
import { native } from "../transport/native.ts"
import { forgetJob, jobProcesses, killJobProcesses } from "./childProcesses.ts"

/** How long teardown waits for terminated workers to stop before leaving them behind. */
export const TERMINATE_DEADLINE_MS = 250

/** Worker threads of this process that have not exited yet, whichever job started them. */
const live = new Set<Worker>()

/** Counts `worker` among this process's live threads until it exits. */
export function track(worker: Worker): void {
  live.add(worker)
  worker.once("exit", () => live.delete(worker))
}

/** How many worker threads rankflow started in this process are still running. */
export function liveThreads(): number {
  return live.size
}

/**
 * Stops a job: kills its child processes (politely, then for good),
 * terminates its workers and waits for them at most `deadlineMs`. Resolves
 * with the number of workers still running (stuck in native code).
 */
export async function stopJob(token: string, workers: ReadonlyArray<Worker>, deadlineMs = TERMINATE_DEADLINE_MS): Promise<number> {
  const running = workers.filter((w) => live.has(w))
  const exits = running.map((w) => new Promise<void>((resolve) => (live.has(w) ? w.once("exit", () => resolve()) : resolve())))
  // Threads first: stopping them frees the cores the rest of the teardown needs.
  for (const w of running) w.terminate().catch(() => undefined)
  const signalled = killJobProcesses(token, "SIGTERM")
  let timer: NodeJS.Timeout | undefined
  await Promise.race([Promise.all(exits), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))])
  clearTimeout(timer)
  // Whatever ignored SIGTERM, or was started while the ranks stopped; a killed process is gone only once
  // the kernel has run its exit, so wait (briefly) until none is left: the job ends with nothing running.
  if ((signalled > 0 || running.length > 0) && killJobProcesses(token, "SIGKILL") > 0) await processesGone(token, deadlineMs)
  forgetJob(token)
  const stuck = running.filter((w) => live.has(w))
  // A stuck thread must not keep the process alive once it has nothing else to do.
  for (const w of stuck) w.unref()
  return stuck.length
}

/** How long a process without the addon waits for its last threads before it exits (see `threadsSettled`). */
export const EXIT_GRACE_MS = 2_000

/**
 * Without the addon a thread still running at exit costs the exit code
 * (`exitProcess` must SIGKILL the process: 137), so wait up to `deadlineMs`
 * for the last threads to stop first: a rank that ran out of heap can take
 * a second or more to stop on a loaded machine, past `stopJob`'s short
 * deadline; a thread stuck in native code costs the job these 2 s.
 * With the addon (`_exit` keeps the code), or with no thread left, no wait.
 */
export async function threadsSettled(deadlineMs = EXIT_GRACE_MS): Promise<void> {
  if (native?.exitNow === undefined) await pollUntil(() => live.size === 0, deadlineMs, 10)
}

/**
 * Exits the process with `code` at once. With every worker thread gone that
 * is `process.exit`; with one still stuck in native code, `process.exit`
 * would join it, so the process ends without joining (`_exit` through the
 * addon; without the addon, SIGKILL — the exit code is then lost, 137).
 * Output written before is not lost: stdout and stderr are synchronous for
 * files, pipes and terminals on Linux.
 */
export function exitProcess(code: number): never {
  if (live.size === 0) process.exit(code)
  native?.exitNow?.(code)
  process.kill(process.pid, "SIGKILL")
  // SIGKILL is not delivered asynchronously to ourselves in practice; this keeps the type honest.
  return process.exit(code)
}

/** The longest delay `setTimeout` takes; beyond it Node fires after 1 ms (with a warning). */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** The timer functions `longTimeout` uses (replaceable for tests). */
export interface TimerApi {
  readonly set: (callback: () => void, ms: number) => unknown
  readonly clear: (handle: unknown) => void
}

const realTimers: TimerApi = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/**
 * `setTimeout` for any delay: one above 2³¹ − 1 ms is a chain of shorter
 * timers. Returns a function that cancels it.
 */
export function longTimeout(callback: () => void, ms: number, timers: TimerApi = realTimers): () => void {
  let handle: unknown
  let left = Math.max(0, ms)
  const arm = (): void => {
    const step = Math.min(left, MAX_TIMER_MS)
    left -= step
    handle = timers.set(left > 0 ? arm : callback, step)
  }
  arm()
  return () => timers.clear(handle)
}

/** Resolves once job `token` has no live process left (zombies count as gone), or after `deadlineMs`. */
const processesGone = (token: string, deadlineMs: number): Promise<void> => pollUntil(() => jobProcesses(token).length === 0, deadlineMs, 5)

/** Resolves once `done()` holds (checked at once, then every `everyMs`), or after `deadlineMs`. */
async function pollUntil(done: () => boolean, deadlineMs: number, everyMs: number): Promise<void> {
  const until = performance.now() + deadlineMs
  while (!done() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, everyMs))
}
