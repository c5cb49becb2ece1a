/**
 * Blocking without burning a core: each rank has a doorbell word and a
 * sleeping flag. A rank that has spun long enough publishes `sleeping`,
 * re-checks its condition and `Atomics.wait`s on its doorbell; whoever changes
 * state that may unblock it rings the doorbell, but only when the flag says it
 * sleeps, so the hot path costs one atomic load. Sequentially consistent
 * atomics on both sides (store flag / load state vs store state / load flag)
 * make a lost wake-up impossible.
 *
 * The abort word (slot 0) releases every sleeper at once when a rank fails.
 *
 * Layer: transport.
 */
import {
  BELL,
  BLOCKED_CONTEXT,
  BLOCKED_OP,
  BLOCKED_PEER,
  BLOCKED_TAG,
  CALL_OP,
  CALL_ROOT,
  CALL_SEQ,
  PROGRESS,
  RANK_STRIDE,
  SLEEPING,
  WAIT_BELL,
  WAITS,
  type WorldMemory,
} from "./memory.ts"

/** Spins before a blocked rank goes to sleep (~1 µs): a futex wake-up costs ~20 µs here. */
export const SPIN_LIMIT = 1000
/** Spins before sleeping while a large message streams (the peer is mid-copy): ~50–500 µs. */
export const STREAM_SPIN_LIMIT = 20_000
/** Upper bound of one sleep; sleepers re-check the abort word at least this often. */
const SLEEP_MS = 200

/** Codes of the blocking operation a sleeping rank is in (published for diagnostics). */
export const BlockedOp = { none: 0, recv: 1, send: 2, probe: 3, wait: 4 } as const

/** The name of a `BlockedOp` code, for reports. */
export function blockedOpName(op: number): string {
  return (Object.keys(BlockedOp) as Array<keyof typeof BlockedOp>).find((k) => BlockedOp[k] === op) ?? "call"
}

export class Doorbell {
  readonly control: Int32Array
  private readonly base: number

  constructor(
    memory: WorldMemory,
    readonly rank: number,
  ) {
    this.control = new Int32Array(memory.control)
    this.base = (rank + 1) * RANK_STRIDE
  }

  /** 0 while the job runs; otherwise an abort code, decoded by `failedRankOf`. */
  abortWord(): number {
    return Atomics.load(this.control, 0)
  }

  /** The bell value to pass to `sleep`, read *before* the final re-check of the condition. */
  prepareSleep(op: number, peer: number, tag: number, context: number): number {
    this.publishBlocked(op, peer, tag, context)
    const bell = this.bell()
    Atomics.store(this.control, this.base + SLEEPING, 1)
    return bell
  }

  /** The current value of this rank's doorbell (moves on every ring and on an abort). */
  bell(): number {
    return Atomics.load(this.control, this.base + BELL)
  }

  /**
   * Publishes what a blocking call waits for without going to sleep (a rank
   * that gives its core away first, when ranks outnumber cores): the deadlock
   * watcher and the dashboard see it waiting; nobody rings it.
   */
  publishBlocked(op: number, peer: number, tag: number, context: number): void {
    const c = this.control
    const b = this.base
    c[b + BLOCKED_PEER] = peer
    c[b + BLOCKED_TAG] = tag
    c[b + BLOCKED_CONTEXT] = context
    Atomics.store(c, b + BLOCKED_OP, op)
  }

  /**
   * Sleeps until the doorbell moves from `bell` (or a timeout); the caller
   * re-checks its condition. True when woken (the rank is awake again); false
   * on a timeout, when the rank stays published as asleep and blocked: it
   * re-checks and sleeps again at once, so the deadlock watcher sees it
   * blocked the whole time even when other processes hog the cores. Each
   * entry and exit is counted (WAITS, odd while asleep, with the bell slept
   * on in WAIT_BELL): the watcher believes a published wait only from a rank
   * that is asleep with no wake-up pending and keeps going back to sleep.
   */
  sleep(bell: number): boolean {
    // Off the hot path: a futex wait costs tens of microseconds, the counting atomics next to nothing.
    this.enterWait(bell)
    const result = Atomics.wait(this.control, this.base + BELL, bell, SLEEP_MS)
    this.exitWait()
    if (result === "timed-out") return false
    this.wakeUp()
    return true
  }

  /**
   * Counts the entry into one re-check of a wait (WAITS, odd until
   * `exitWait`) and records the bell it sleeps on (WAIT_BELL): a bell that
   * moves past it is a wake-up not yet taken. `sleep` calls it around its
   * `Atomics.wait`; a bell that waits another way (`PublishedBell`, polling
   * MPI) calls it around its own wait, so the deadlock watcher reads both alike.
   */
  enterWait(bell: number): void {
    Atomics.store(this.control, this.base + WAIT_BELL, bell)
    Atomics.add(this.control, this.base + WAITS, 1)
  }

  /** Counts the exit from the re-check `enterWait` began (WAITS even again). */
  exitWait(): void {
    Atomics.add(this.control, this.base + WAITS, 1)
  }

  /**
   * Clears the sleeping flag and the blocked-on state: once awake the rank
   * may be copying or deserializing for a while, which is not being blocked.
   */
  wakeUp(): void {
    Atomics.store(this.control, this.base + SLEEPING, 0)
    Atomics.store(this.control, this.base + BLOCKED_OP, 0)
  }

  /** A blocking call that had to sleep has completed: count it as progress. */
  unblocked(): void {
    Atomics.add(this.control, this.base + PROGRESS, 1)
  }

  /**
   * Publishes the collective this rank is in (or leaves, with op = -1), for
   * deadlock reports. Plain stores, twice per collective call: an
   * Atomics.store costs ~16-30 ns here (an allreduce of one double on MPI
   * paid ~60 ns for its enter and leave). The deadlock watcher reads the
   * call only for a rank it sees blocked, and the rank publishes that with
   * an Atomics.store (`publishBlocked`) after these, so it sees them; the
   * dashboard's "in <collective>" of a computing rank may lag a moment.
   */
  enterCollective(op: number, seq: number, root: number): void {
    const c = this.control
    c[this.base + CALL_SEQ] = seq
    c[this.base + CALL_ROOT] = root
    c[this.base + CALL_OP] = op + 1
  }

  /** Rings `rank`'s doorbell if it sleeps. One atomic load when it does not. */
  ring(rank: number): void {
    const slot = (rank + 1) * RANK_STRIDE
    if (Atomics.load(this.control, slot + SLEEPING) !== 0) {
      Atomics.add(this.control, slot + BELL, 1)
      Atomics.notify(this.control, slot + BELL)
    }
  }
}

/**
 * Marks the job aborted (first failure wins) and wakes every rank.
 * `failedRank` is the rank that failed, or -1 for an abort by the supervisor.
 */
export function abortAll(memory: WorldMemory, failedRank: number): void {
  const control = new Int32Array(memory.control)
  Atomics.compareExchange(control, 0, 0, failedRank + 2)
  for (let r = 0; r < memory.size; r++) {
    const slot = (r + 1) * RANK_STRIDE + BELL
    Atomics.add(control, slot, 1)
    Atomics.notify(control, slot)
  }
}

/** Decodes the abort word: -2 while running, -1 for a supervisor abort, else the failed rank. */
export function failedRankOf(abortWord: number): number {
  return abortWord - 2
}
