/**
 * Deadlock detection, on the supervisor. Ranks publish in shared memory what
 * a blocking call that had to wait is waiting for (call, peer, tag, context,
 * the collective they are in), count completed blocking calls, and count
 * their entries into and exits from the sleep on their doorbell. A deadlock
 * is reported only when it is real and stable: every rank still running is
 * asleep in a published wait with no wake-up pending, nothing has changed —
 * no call completed, no doorbell rung, no ring byte moved — for the quiet
 * period, and every rank has itself woken (the sleep times out every 200 ms),
 * re-checked its condition and gone back to sleep at least twice in that
 * period. Every wake-up comes from another rank's send or receive, so then
 * nothing ever will. The watcher reports who waits for whom, and the wait-for
 * cycle.
 *
 * Why the re-checks: a published state says what a call waits for, not that
 * the rank is idle. A rank rung but not yet scheduled, a rank copying a large
 * frame or running a reduction inside its blocking call, or a whole job
 * descheduled on a loaded machine all look "blocked with nothing moving" for
 * as long as they do not run. Only a rank that runs, finds nothing to do and
 * sleeps again confirms it; wall-clock time alone does not.
 *
 * Layer: runtime (supervisor side). Reads the control block; writes nothing.
 */
import type { BlockedRank, CollectiveCall } from "../errors.ts"
import { DeadlockDetected } from "../errors.ts"
import {
  BLOCKED_CONTEXT,
  BLOCKED_OP,
  BLOCKED_PEER,
  BLOCKED_TAG,
  CALL_OP,
  CALL_ROOT,
  CALL_SEQ,
  PROGRESS,
  RANK_STRIDE,
  RING_CONTROL_BYTES,
  BELL,
  NONBLOCKING,
  WAIT_BELL,
  WAITS,
  type WorldMemory,
} from "../transport/memory.ts"
import { COLLECTIVE_NAMES } from "../comm/collectives.ts"
import { blockedOpName } from "../transport/doorbell.ts"

const POLL_MS = 50

/** What one rank was doing at one sample: what it waits for (if it sleeps in a blocking call), and its count of completed blocking calls. */
export function sample(control: Int32Array, rank: number): { blocked: BlockedRank | undefined; progress: number } {
  const b = (rank + 1) * RANK_STRIDE
  const progress = Atomics.load(control, b + PROGRESS)
  const op = Atomics.load(control, b + BLOCKED_OP)
  if (op === 0) return { blocked: undefined, progress }
  const callOp = Atomics.load(control, b + CALL_OP)
  const inCollective = (control[b + BLOCKED_CONTEXT]! & 1) === 1 && callOp > 0
  const collective: CollectiveCall | undefined = inCollective
    ? { op: COLLECTIVE_NAMES[callOp - 1] ?? "collective", seq: control[b + CALL_SEQ]!, root: control[b + CALL_ROOT]! }
    : undefined
  return {
    blocked: { rank, call: blockedOpName(op), peer: control[b + BLOCKED_PEER]!, tag: control[b + BLOCKED_TAG]!, collective },
    progress,
  }
}

/** Bytes of rings one view covers at most: well under V8's typed-array length limit (2³² elements). */
export const RING_VIEW_BYTES = 2 ** 30

/**
 * Int32 views of the rings' control words, each over a slice of whole rings
 * of at most `maxViewBytes` (a single ring when a ring is larger): the rings of
 * a big job (600 ranks: 22 GiB) are far past what one typed array may view.
 */
export interface RingViews {
  readonly views: ReadonlyArray<Int32Array>
  /** Rings per view (the last view may hold fewer). */
  readonly ringsPerView: number
  /** Int32 words from one ring's control words to the next one's. */
  readonly stride: number
  readonly rings: number
}

/** Views the rings of `memory` in slices (see `RingViews`). */
export function ringViews(memory: WorldMemory, maxViewBytes = RING_VIEW_BYTES): RingViews {
  const ringBytes = RING_CONTROL_BYTES + memory.ringCapacity
  const rings = memory.size * memory.size
  const ringsPerView = Math.max(1, Math.floor(maxViewBytes / ringBytes))
  const views: Int32Array[] = []
  for (let first = 0; first < rings; first += ringsPerView) {
    // A view ends just after its last ring's control words: nothing further is read.
    const count = Math.min(ringsPerView, rings - first)
    views.push(new Int32Array(memory.rings, first * ringBytes, ((count - 1) * ringBytes + RING_CONTROL_BYTES) / 4))
  }
  return { views, ringsPerView, stride: ringBytes / 4, rings }
}

/**
 * Sum of every ring's head and tail byte counters: it moves whenever any
 * message data moves, so a long transfer (both ranks inside one call) is not
 * mistaken for a deadlock.
 */
export function ringActivity(rings: RingViews): number {
  const { views, stride } = rings
  let sum = 0
  for (const words of views) {
    for (let at = 0; at < words.length; at += stride) sum = (sum + ringBytes(words, at)) | 0
  }
  return sum
}

/** A ring's head and tail byte counters (the ring whose control words start at `at` of `words`), summed. */
const ringBytes = (words: Int32Array, at: number): number => Atomics.load(words, at) + Atomics.load(words, at + 16)

/** A cycle in the wait-for graph (each rank waits on the next), or empty. */
export function waitForCycle(blocked: ReadonlyArray<BlockedRank>): number[] {
  const next = new Map(blocked.map((b) => [b.rank, b.peer]))
  for (const start of next.keys()) {
    const path: number[] = []
    let r: number | undefined = start
    while (r !== undefined && r >= 0 && !path.includes(r)) {
      path.push(r)
      r = next.get(r)
    }
    if (r !== undefined && r >= 0 && path.includes(r)) return path.slice(path.indexOf(r))
  }
  return []
}

/** One rank's wait as the watcher samples it: the published state, and the counters that tell a real wait from a busy or descheduled rank. */
export interface WaitSample {
  readonly rank: number
  /** What it is published as waiting for; undefined when it is not in a blocking call that had to wait. */
  readonly blocked: BlockedRank | undefined
  /** Completed blocking calls that had to wait. */
  readonly progress: number
  /** Its doorbell: moves whenever a peer wakes it. */
  readonly bell: number
  /** A wake-up is pending: the bell has moved past the one it sleeps on, so it will run (not blocked). */
  readonly rung: boolean
  /** Entries into and exits from its sleep (odd: asleep now). */
  readonly waits: number
}

/** Samples rank `rank`'s wait (see `WaitSample`). */
export function waitSample(control: Int32Array, rank: number): WaitSample {
  const b = (rank + 1) * RANK_STRIDE
  // The counters first: a change after them shows as a changed published state or a changed count next time.
  const waits = Atomics.load(control, b + WAITS)
  const bell = Atomics.load(control, b + BELL)
  const rung = bell !== Atomics.load(control, b + WAIT_BELL)
  const { blocked, progress } = sample(control, rank)
  return { rank, blocked, progress, bell, rung, waits }
}

/** Times each rank must go back to sleep after the state last changed (the first re-check may have begun before). */
export const RECHECKS = 2

/** Sleeps entered from `before` to `now` of a wait counter (odd while asleep; int32, wrapping). */
function sleepsEntered(before: number, now: number): number {
  const moves = (now - before) | 0
  return (before & 1) === 0 ? Math.ceil(moves / 2) : Math.floor(moves / 2)
}

/**
 * Decides from successive samples whether the job is deadlocked: every
 * sampled rank published as blocked with no wake-up pending, the same state
 * (calls completed, bells, what each waits for, bytes moved through the rings)
 * for at least `quietMs`, every rank asleep now and each having gone back to
 * sleep `RECHECKS` times since the state last changed. A rank that is
 * published but busy (copying, reducing) or not scheduled does not re-enter
 * its sleep, so it holds the verdict off for as long as it takes; anything it
 * then changes starts the quiet period over.
 */
export class DeadlockConfirmation {
  private readonly rules: Confirmation<WaitSample>

  constructor(readonly quietMs: number) {
    // Asleep now: on threads a rank waits inside a futex sleep.
    this.rules = new Confirmation(quietMs, stateOf, (s) => (s.waits & 1) === 1)
  }

  /** Feeds the samples of every running rank taken at `now` (ms) and the rings' `activity`; true once the deadlock is confirmed. */
  observe(now: number, activity: number, samples: ReadonlyArray<WaitSample>): boolean {
    return this.rules.observe(now, activity, samples)
  }
}

/** What must stay the same for a rank's wait to count as unchanged: its completed calls, its bell, what it waits for. */
const stateOf = (s: WaitSample): string => `${s.rank}:${s.progress}:${s.bell}:${s.blocked!.call}:${s.blocked!.peer}:${s.blocked!.tag}`

/**
 * The confirmation rules both watchers apply to the ranks they judge: each
 * published as blocked with no wake-up pending, the same state (`state`)
 * and ring `activity` for at least `quietMs`, each having gone back to its
 * wait `RECHECKS` times since the state last changed and `waiting` still
 * (given its wait count at the previous sample).
 */
class Confirmation<S extends WaitSample> {
  private signature = ""
  private since = 0
  private baseline: number[] = []
  private last: number[] = []

  constructor(
    private readonly quietMs: number,
    private readonly state: (s: S) => string,
    private readonly waiting: (s: S, previousWaits: number | undefined) => boolean,
  ) {}

  observe(now: number, activity: number, samples: ReadonlyArray<S>): boolean {
    if (samples.length === 0 || samples.some((s) => s.blocked === undefined || s.rung)) {
      this.signature = ""
      return false
    }
    const current = `${activity};${samples.map(this.state).join(",")}`
    const previous = this.last
    this.last = samples.map((s) => s.waits)
    if (current !== this.signature) {
      this.signature = current
      this.since = now
      this.baseline = this.last
      return false
    }
    if (now - this.since < this.quietMs) return false
    return samples.every((s, i) => sleepsEntered(this.baseline[i]!, s.waits) >= RECHECKS && this.waiting(s, previous[i]))
  }
}

/**
 * Watches the job; calls `onDeadlock` once when `DeadlockConfirmation`
 * confirms that every running rank is blocked for good (quiet for at least
 * `quietSeconds`). Returns a function that stops watching.
 */
export function watchForDeadlock(
  memory: WorldMemory,
  running: (rank: number) => boolean,
  quietSeconds: number,
  onDeadlock: (error: DeadlockDetected) => void,
): () => void {
  const control = new Int32Array(memory.control)
  const rings = ringViews(memory)
  const confirmation = new DeadlockConfirmation(quietSeconds * 1000)
  const timer = setInterval(() => {
    const live = Array.from({ length: memory.size }, (_, r) => r).filter(running)
    const samples = live.map((r) => waitSample(control, r))
    if (!confirmation.observe(performance.now(), ringActivity(rings), samples)) return
    clearInterval(timer)
    const blocked = samples.map((s) => s.blocked!)
    const finished = Array.from({ length: memory.size }, (_, r) => r).filter((r) => !running(r))
    onDeadlock(new DeadlockDetected(blocked, waitForCycle(blocked), finished))
  }, POLL_MS)
  timer.unref()
  return () => clearInterval(timer)
}

// ---- hybrid MPI runs: wait-for cycles among one process's rank threads ----

/** One rank thread's wait as the hybrid watcher samples it: `WaitSample` in global rank numbers, and what decides whether its edge can be broken from outside. */
export interface CycleSample extends WaitSample {
  /** The context it waits on: even for point-to-point, odd for a collective's messages. */
  readonly context: number
  /** Its nonblocking collectives in flight (they advance while it is blocked, and may then send). */
  readonly nonblocking: number
}

/** Samples thread `thread` of process `process` (K = `perProcess` threads each): ranks as global numbers (process · K + thread). */
export function cycleSample(control: Int32Array, thread: number, process: number, perProcess: number): CycleSample {
  const s = waitSample(control, thread)
  const b = (thread + 1) * RANK_STRIDE
  const rank = process * perProcess + thread
  return {
    ...s,
    rank,
    blocked: s.blocked === undefined ? undefined : { ...s.blocked, rank },
    context: control[b + BLOCKED_CONTEXT]!,
    nonblocking: Atomics.load(control, b + NONBLOCKING),
  }
}

/**
 * A wait-for cycle among the sampled ranks that no rank outside it can
 * break, or empty. An edge X → Y counts only when X is asleep in a published
 * wait with no wake-up pending, on one specific peer Y that is a rank of this
 * process (`isLocal`) and sampled here — never ANY_SOURCE, never a rank of
 * another process — and only a message or an action of Y can end X's wait:
 * a point-to-point wait always (only Y's own sends carry Y's messages on that
 * context, and Y is blocked), a collective's wait only while Y has no
 * nonblocking collective in flight (which could receive from outside and
 * then send to X).
 */
export function localWaitCycle(samples: ReadonlyArray<CycleSample>, isLocal: (rank: number) => boolean): number[] {
  const byRank = new Map(samples.map((s) => [s.rank, s]))
  const edges: BlockedRank[] = []
  for (const s of samples) {
    const b = s.blocked
    if (b === undefined || s.rung || b.peer < 0 || !isLocal(b.peer)) continue
    const peer = byRank.get(b.peer)
    if (peer === undefined || peer.blocked === undefined) continue
    if ((s.context & 1) === 1 && peer.nonblocking !== 0) continue
    edges.push(b)
  }
  return waitForCycle(edges)
}

/**
 * Ring bytes moved to and from `members` (thread indices of a process of
 * `size` threads): messages among the cycle's ranks, or reaching them,
 * restart its quiet period; traffic among other ranks does not.
 */
export function ringActivityOf(rings: RingViews, size: number, members: ReadonlyArray<number>): number {
  const { views, ringsPerView, stride } = rings
  let sum = 0
  const add = (ring: number): void => {
    sum = (sum + ringBytes(views[Math.floor(ring / ringsPerView)]!, (ring % ringsPerView) * stride)) | 0
  }
  for (const m of members) {
    for (let other = 0; other < size; other++) {
      add(m * size + other)
      if (!members.includes(other)) add(other * size + m)
    }
  }
  return sum
}

/**
 * Decides from successive samples whether a wait-for cycle among one
 * process's ranks (`localWaitCycle`) is a deadlock: the same cycle, each of
 * its ranks in the same published state (calls completed, bells, what it
 * waits for, its nonblocking collectives) with the same ring bytes moved to
 * and from them for at least `quietMs`, and each of them having itself
 * re-checked its wait and gone back to it `RECHECKS` times since the state
 * last changed, and waiting still (inside a wait now, or re-checked since the
 * last sample). The confirmation rules of `DeadlockConfirmation`, applied to
 * the cycle's ranks only: other ranks may keep running.
 */
export class CycleConfirmation {
  private readonly rules: Confirmation<CycleSample>

  constructor(readonly quietMs: number) {
    // Waiting still: inside a wait now, or re-checked since the last sample (an MPI rank's "sleep" is a yield, rarely caught inside).
    this.rules = new Confirmation(
      quietMs,
      (s) => `${stateOf(s)}:${s.context}:${s.nonblocking}`,
      (s, previous) => (s.waits & 1) === 1 || s.waits !== previous,
    )
  }

  /** Feeds the cycle found at `now` (ms), its ranks' samples (in cycle order) and their ring `activity`; true once the deadlock is confirmed. */
  observe(now: number, activity: number, cycle: ReadonlyArray<CycleSample>): boolean {
    return this.rules.observe(now, activity, cycle)
  }
}

/**
 * Watches the rank threads of process `processIndex` of a hybrid MPI job
 * (`perProcess` threads each, `memory` this process's control block and
 * rings) for a wait-for cycle among them that nobody can break
 * (`localWaitCycle`, confirmed by `CycleConfirmation` over `quietSeconds`);
 * calls `onDeadlock` once with the cycle's ranks, in global numbers. Ranks
 * waiting on other processes are never reported. Returns a function that
 * stops watching.
 */
export function watchForLocalCycle(
  memory: WorldMemory,
  processIndex: number,
  running: (thread: number) => boolean,
  quietSeconds: number,
  onDeadlock: (error: DeadlockDetected) => void,
): () => void {
  const perProcess = memory.size
  const control = new Int32Array(memory.control)
  const rings = ringViews(memory)
  const confirmation = new CycleConfirmation(quietSeconds * 1000)
  const first = processIndex * perProcess
  const isLocal = (rank: number): boolean => rank >= first && rank < first + perProcess
  const timer = setInterval(() => {
    const samples = Array.from({ length: perProcess }, (_, t) => t)
      .filter(running)
      .map((t) => cycleSample(control, t, processIndex, perProcess))
    const cycle = localWaitCycle(samples, isLocal)
    const members = cycle.map((rank) => samples.find((s) => s.rank === rank)!)
    const activity = ringActivityOf(rings, perProcess, cycle.map((rank) => rank - first))
    if (!confirmation.observe(performance.now(), activity, members)) return
    clearInterval(timer)
    onDeadlock(new DeadlockDetected(members.map((s) => s.blocked!), cycle, [], "cycle"))
  }, POLL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
