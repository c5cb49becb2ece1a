// What a rank's doorbell publishes for the deadlock watcher when it sleeps: the count of its
// entries into and exits from the sleep, and the bell it sleeps on (so a ring not yet taken shows).
import test from "ava"
import { waitSample } from "../../src/runtime/deadlock.ts"
import { BlockedOp, Doorbell } from "../../src/transport/doorbell.ts"
import { allocateWorldMemory, RANK_STRIDE, WAIT_BELL, WAITS } from "../../src/transport/memory.ts"

test("a sleep counts its entry and exit and records its bell; a ring not yet taken shows as pending", (t) => {
  const memory = allocateWorldMemory(2, 1024, 0)
  const control = new Int32Array(memory.control)
  const sleeper = new Doorbell(memory, 1)
  const peer = new Doorbell(memory, 0)
  const slot = (word: number): number => control[2 * RANK_STRIDE + word]!

  const bell = sleeper.prepareSleep(BlockedOp.recv, 0, 5, 0)
  t.false(sleeper.sleep(bell), "nothing rang: the sleep times out")
  t.is(slot(WAITS), 2, "one entry, one exit")
  t.is(slot(WAIT_BELL), bell)
  t.like(waitSample(control, 1), { rung: false, waits: 2, blocked: { rank: 1, call: "recv", peer: 0, tag: 5 } })

  peer.ring(1) // the sleeper is armed (it timed out without being woken): the ring moves its bell
  t.like(waitSample(control, 1), { rung: true, waits: 2 }, "a wake-up is pending until the sleeper runs")
  t.true(sleeper.sleep(bell), "the next sleep returns at once: woken")
  t.is(slot(WAITS), 4)
  t.like(waitSample(control, 1), { blocked: undefined }, "awake: no longer published as blocked")
})
