// The deadlock watcher reports a deadlock only when it is real and stable. Ranks are simulated
// here by writing their published states into a world memory (no threads), one scripted step
// every few milliseconds: a rank rung but not yet scheduled, a rank busy inside a blocking call,
// a whole job descheduled — each looked "blocked with nothing moving" to the watcher before, and
// a correct job was killed with DeadlockDetected on a loaded machine.
import test from "ava"
import type { DeadlockDetected } from "rankflow"
import { DeadlockConfirmation, RECHECKS, watchForDeadlock, type WaitSample } from "../../src/runtime/deadlock.ts"
import { BlockedOp } from "../../src/transport/doorbell.ts"
import {
  allocateWorldMemory,
  BELL,
  BLOCKED_OP,
  BLOCKED_PEER,
  BLOCKED_TAG,
  PROGRESS,
  RANK_STRIDE,
  WAIT_BELL,
  WAITS,
  type WorldMemory,
} from "../../src/transport/memory.ts"

/** A simulated rank's control words. */
class SimulatedRank {
  private readonly base: number
  constructor(
    private readonly control: Int32Array,
    rank: number,
  ) {
    this.base = (rank + 1) * RANK_STRIDE
  }
  /** Publishes a blocked recv on `peer` and falls asleep on its current bell (as prepareSleep + sleep do). */
  blockOn(peer: number, tag = 0): void {
    this.control[this.base + BLOCKED_PEER] = peer
    this.control[this.base + BLOCKED_TAG] = tag
    this.control[this.base + BLOCKED_OP] = BlockedOp.recv
    this.control[this.base + WAIT_BELL] = this.control[this.base + BELL]!
    if ((this.control[this.base + WAITS]! & 1) === 0) this.control[this.base + WAITS]! += 1
  }
  /** Its sleep timed out: it re-checks, finds nothing, and sleeps again. */
  recheck(): void {
    this.control[this.base + WAITS]! += 2
  }
  /** Awake (sleep returned), still published: copying or reducing inside its blocking call. */
  busy(): void {
    if ((this.control[this.base + WAITS]! & 1) === 1) this.control[this.base + WAITS]! += 1
  }
  /** A peer rings its doorbell (the rank has not run yet). */
  ring(): void {
    this.control[this.base + BELL]! += 1
  }
  /** Its call completes: unpublished, one more completed call. */
  complete(): void {
    this.busy()
    this.control[this.base + BLOCKED_OP] = 0
    this.control[this.base + PROGRESS]! += 1
  }
}

function world(size: number): { memory: WorldMemory; ranks: SimulatedRank[] } {
  const memory = allocateWorldMemory(size, 1024, 0)
  const control = new Int32Array(memory.control)
  return { memory, ranks: Array.from({ length: size }, (_, r) => new SimulatedRank(control, r)) }
}

/**
 * Runs the watcher (quiet period `quietSeconds`) while `script(elapsedMs)` moves the simulated
 * ranks every 10 ms, for `forMs`: the deadlock reported and when (ms), or undefined.
 */
async function watch(
  memory: WorldMemory,
  quietSeconds: number,
  forMs: number,
  script: (elapsedMs: number) => void,
): Promise<{ error: DeadlockDetected; atMs: number } | undefined> {
  const started = performance.now()
  return new Promise((resolve) => {
    let stepper: NodeJS.Timeout | undefined = undefined
    const stop = watchForDeadlock(memory, () => true, quietSeconds, (error) => {
      clearInterval(stepper)
      resolve({ error, atMs: performance.now() - started })
    })
    stepper = setInterval(() => {
      const elapsed = performance.now() - started
      if (elapsed >= forMs) {
        clearInterval(stepper)
        stop()
        resolve(undefined)
      } else script(elapsed)
    }, 10)
  })
}

/** Calls `action` once every `periodMs` of the script's time (the first time after one period). */
function every(periodMs: number, action: () => void): (elapsedMs: number) => void {
  let done = 0
  return (elapsed) => {
    while ((done + 1) * periodMs <= elapsed) {
      done++
      action()
    }
  }
}

test("a real deadlock (every rank asleep, re-checking every 100 ms, nothing changing) is reported after the quiet period", async (t) => {
  const { memory, ranks } = world(3)
  ranks.forEach((r, i) => r.blockOn((i + 1) % 3, 7))
  const recheck = every(100, () => ranks.forEach((r) => r.recheck()))
  const found = await watch(memory, 0.3, 10_000, recheck)
  t.truthy(found, "reported")
  t.deepEqual(found!.error.cycle, [0, 1, 2])
  t.regex(found!.error.message, /rank 2 waits in recv for rank 0 \(tag 7\)/)
  t.true(found!.atMs >= 300, `not before the quiet period (${found!.atMs.toFixed(0)} ms)`)
})

test("a rank rung but not yet scheduled is not blocked, however long it waits for a core", async (t) => {
  // Rank 1 streamed a chunk to rank 0 and rang it; rank 0 has not run since (the machine is loaded),
  // so it still shows its old published wait; rank 1 sleeps until rank 0 drains the ring.
  const { memory, ranks } = world(2)
  ranks[0]!.blockOn(1)
  ranks[1]!.blockOn(0)
  ranks[0]!.ring()
  const recheck = every(100, () => ranks[1]!.recheck())
  t.is(await watch(memory, 0.2, 1500, recheck), undefined)
})

test("a rank busy inside a blocking call (copying a large frame, running a reduction) is not blocked while it works", async (t) => {
  // Rank 0 published its wait, then found work (the last chunk of a 256 MiB frame to copy into the
  // receive buffer): it runs for over a second with its wait still published and no ring byte moving.
  const { memory, ranks } = world(2)
  ranks[0]!.blockOn(1)
  ranks[1]!.blockOn(0)
  ranks[0]!.busy()
  const recheck = every(100, () => ranks[1]!.recheck())
  t.is(await watch(memory, 0.2, 1500, recheck), undefined)
})

test("ranks published asleep that do not run (a descheduled job) are not reported until each has re-checked", async (t) => {
  // Nobody runs for 1.2 s (as when every thread of the job waits for a core): the published states and
  // every counter stay put. Then the ranks run: each wakes from its timeout, re-checks, sleeps again.
  const { memory, ranks } = world(2)
  ranks[0]!.blockOn(1, 3)
  ranks[1]!.blockOn(0, 3)
  const recheck = every(100, () => ranks.forEach((r) => r.recheck()))
  const found = await watch(memory, 0.2, 10_000, (elapsed) => {
    if (elapsed >= 1200) recheck(elapsed - 1200)
  })
  t.truthy(found, "a real deadlock all along, reported once the ranks have confirmed it")
  t.true(found!.atMs >= 1200 + RECHECKS * 100, `reported only after the re-checks (${found!.atMs.toFixed(0)} ms)`)
})

test("a busy rank that completes its call starts the quiet period over", async (t) => {
  const { memory, ranks } = world(2)
  ranks[0]!.blockOn(1)
  ranks[1]!.blockOn(0)
  ranks[0]!.busy()
  let completed = false
  const recheck = every(100, () => ranks[1]!.recheck())
  const recheckAfter = every(100, () => ranks[0]!.recheck())
  const found = await watch(memory, 0.3, 10_000, (elapsed) => {
    recheck(elapsed)
    if (elapsed >= 800 && !completed) {
      completed = true
      ranks[0]!.complete() // its receive done, it calls the next one and blocks again
      ranks[0]!.blockOn(1, 9)
    }
    if (completed) recheckAfter(elapsed - 800)
  })
  t.truthy(found)
  t.regex(found!.error.message, /rank 0 waits in recv for rank 1 \(tag 9\)/, "the new wait is the one reported")
  t.true(found!.atMs >= 800 + 300, `the quiet period counts from the change (${found!.atMs.toFixed(0)} ms)`)
})

// The decision itself, on crafted samples: no timers.
const asleep = (rank: number, peer: number, waits: number, extra: Partial<WaitSample> = {}): WaitSample => ({
  rank,
  blocked: { rank, call: "recv", peer, tag: 0, collective: undefined },
  progress: 0,
  bell: 0,
  rung: false,
  waits,
  ...extra,
})

test("confirmation needs the quiet period, every rank asleep now, and two sleeps entered by every rank since the last change", (t) => {
  const c = new DeadlockConfirmation(1000)
  t.false(c.observe(0, 5, [asleep(0, 1, 1), asleep(1, 0, 1)]))
  t.false(c.observe(900, 5, [asleep(0, 1, 5), asleep(1, 0, 5)]), "quiet period not over")
  t.false(c.observe(1000, 5, [asleep(0, 1, 5), asleep(1, 0, 2)]), "rank 1 awake now (re-checking)")
  t.false(c.observe(1050, 5, [asleep(0, 1, 5), asleep(1, 0, 3)]), "rank 1 entered one sleep since")
  t.true(c.observe(1100, 5, [asleep(0, 1, 5), asleep(1, 0, 5)]))
})

test("confirmation starts over when bytes move, a call completes, a bell rings or a wait changes", (t) => {
  const changes: Array<[string, number, WaitSample]> = [
    ["bytes moved", 6, asleep(1, 0, 9)],
    ["a call completed", 5, asleep(1, 0, 9, { progress: 1 })],
    ["a bell rang", 5, asleep(1, 0, 9, { bell: 1 })],
    ["another wait", 5, asleep(1, 2, 9)],
  ]
  for (const [what, activity, changed] of changes) {
    const c = new DeadlockConfirmation(1000)
    t.false(c.observe(0, 5, [asleep(0, 1, 1), asleep(1, 0, 1)]))
    t.false(c.observe(1500, activity, [asleep(0, 1, 9), changed]), what)
    t.false(c.observe(2400, activity, [asleep(0, 1, 17), { ...changed, waits: 17 }]), `${what}: quiet period counts from the change`)
    t.true(c.observe(2600, activity, [asleep(0, 1, 21), { ...changed, waits: 21 }]), `${what}: then confirmed`)
  }
})

test("a pending wake-up or an unpublished rank is never part of a deadlock", (t) => {
  const c = new DeadlockConfirmation(100)
  for (let now = 0; now < 2000; now += 50) {
    t.false(c.observe(now, 0, [asleep(0, 1, 1 + now), asleep(1, 0, 1 + now, { rung: true })]))
    t.false(c.observe(now, 0, [asleep(0, 1, 1 + now), { ...asleep(1, 0, 1 + now), blocked: undefined }]))
  }
})

test("sleeps are counted across the wait counter's int32 wrap", (t) => {
  const c = new DeadlockConfirmation(100)
  const top = 2 ** 31 - 1 // odd: asleep
  t.false(c.observe(0, 0, [asleep(0, 1, top)]))
  t.false(c.observe(200, 0, [asleep(0, 1, (top + 2) | 0)]), "one sleep entered")
  t.true(c.observe(300, 0, [asleep(0, 1, (top + 4) | 0)]), "two entered, past the wrap")
})
