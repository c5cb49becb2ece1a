/**
 * Deadlock detection, on the supervisor. Ranks publish in shared memory what
 * a blocking call that had to sleep is waiting for (call, peer, tag, context,
 * the collective they are in) and count completed blocking calls. When every
 * rank still running has been blocked, with no call completing anywhere, for
 * a quiet period, nothing can ever wake them: every wake-up comes from
 * another rank's send or receive. The watcher then reports who waits for
 * whom, and the wait-for cycle.
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
    for (let at = 0; at < words.length; at += stride) sum = (sum + Atomics.load(words, at) + Atomics.load(words, at + 16)) | 0
  }
  return sum
}

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

/**
 * Watches the job; calls `onDeadlock` once if every running rank stays
 * blocked with no progress for `quietSeconds`. Returns a function that stops
 * watching.
 */
export function watchForDeadlock(
  memory: WorldMemory,
  running: (rank: number) => boolean,
  quietSeconds: number,
  onDeadlock: (error: DeadlockDetected) => void,
): () => void {
  const control = new Int32Array(memory.control)
  const rings = ringViews(memory)
  let signature = ""
  let since = 0
  const timer = setInterval(() => {
    const live = Array.from({ length: memory.size }, (_, r) => r).filter(running)
    const samples = live.map((r) => sample(control, r))
    if (live.length === 0 || samples.some((s) => s.blocked === undefined)) {
      signature = ""
      return
    }
    const now = performance.now()
    const current = `${ringActivity(rings)};${samples.map((s) => `${s.progress}:${s.blocked!.peer}:${s.blocked!.tag}`).join(",")}`
    if (current !== signature) {
      signature = current
      since = now
      return
    }
    if (now - since < quietSeconds * 1000) return
    clearInterval(timer)
    const blocked = samples.map((s) => s.blocked!)
    const finished = Array.from({ length: memory.size }, (_, r) => r).filter((r) => !running(r))
    onDeadlock(new DeadlockDetected(blocked, waitForCycle(blocked), finished))
  }, POLL_MS)
  timer.unref()
  return () => clearInterval(timer)
}
