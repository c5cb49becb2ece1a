/**
 * The bell of a rank thread on the MPI transport that also publishes its
 * waits in its own process's control block, as a `Doorbell` does on
 * threads: what a blocking call waits for (call, global peer, tag, context),
 * its completed blocking calls, the collective it is in, its nonblocking
 * collectives in flight, and each re-check of a wait (WAITS counts the entry
 * into and exit from every "sleep", odd while inside one). Waiting itself is
 * the MPI bell's: poll, give the core away, re-check — nobody rings it, so
 * nothing changes on the hot path (the sleeping flag stays clear and local
 * senders' `ring` costs what it cost).
 *
 * Each process's supervisor reads these slots to find wait-for cycles among
 * its own rank threads (`deadlock.ts`, `watchForLocalCycle`).
 *
 * Layer: transport. Imports nothing above transport/.
 */
import type { Bell } from "./channel.ts"
import { Doorbell } from "./doorbell.ts"
import { NONBLOCKING, RANK_STRIDE, type WorldMemory } from "./memory.ts"

export class PublishedBell implements Bell {
  private readonly local: Doorbell
  private readonly control: Int32Array
  private readonly base: number

  constructor(
    /** The transport's own bell: how the rank waits, wakes and aborts. */
    private readonly inner: Bell,
    /** This process's shared memory (its rank threads' control block). */
    memory: WorldMemory,
    /** This rank's thread index in its process. */
    thread: number,
  ) {
    this.local = new Doorbell(memory, thread)
    this.control = this.local.control
    this.base = (thread + 1) * RANK_STRIDE
  }

  abortWord(): number {
    return this.inner.abortWord()
  }

  prepareSleep(op: number, peer: number, tag: number, context: number): number {
    // Published without the sleeping flag: nobody needs to ring a rank that polls.
    this.local.publishBlocked(op, peer, tag, context)
    return this.inner.prepareSleep(op, peer, tag, context)
  }

  publishBlocked(op: number, peer: number, tag: number, context: number): void {
    this.local.publishBlocked(op, peer, tag, context)
    this.inner.publishBlocked(op, peer, tag, context)
  }

  /** One re-check of the wait, counted on entry and exit as a doorbell sleep is (`Doorbell.enterWait`). */
  sleep(bell: number): boolean {
    // Nobody rings the local doorbell here but an abort: the wait "sleeps on" its current value.
    this.local.enterWait(this.local.bell())
    const woken = this.inner.sleep(bell)
    this.local.exitWait()
    return woken
  }

  wakeUp(): void {
    this.local.wakeUp()
    this.inner.wakeUp()
  }

  unblocked(): void {
    this.local.unblocked()
    this.inner.unblocked()
  }

  enterCollective(op: number, seq: number, root: number): void {
    this.local.enterCollective(op, seq, root)
    this.inner.enterCollective(op, seq, root)
  }

  ring(rank: number): void {
    this.inner.ring(rank)
  }

  nonblocking(count: number): void {
    Atomics.store(this.control, this.base + NONBLOCKING, count)
    this.inner.nonblocking?.(count)
  }
}
