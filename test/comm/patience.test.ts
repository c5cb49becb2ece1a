// Comm.spinFor (the patient waits of windowed halo exchanges): a blocking
// receive spins up to the given time before it sleeps, so a peer that
// arrives within it costs no futex wake-up; without it, a wait longer than
// ~1 µs sleeps. Counted with the thread's voluntary context switches
// (Linux: /proc/thread-self/status).
import { availableParallelism } from "node:os"
import test from "ava"
import { onRanks } from "../helpers.ts"

const rounds = 40

test("a receive spins for as long as spinFor allows before it sleeps, and sleeps without it", async (t) => {
  // The peer sends every 2 ms: well within a 500 ms patience, far beyond the usual ~1 µs of spinning.
  const [patient] = await onRanks<number>(2, "patience.ts", "patientReceives", { rounds, delayMs: 2, spinMs: 500 })
  const [usual] = await onRanks<number>(2, "patience.ts", "patientReceives", { rounds, delayMs: 2, spinMs: 0 })
  t.log(`rank 0 slept ${usual} times without patience, ${patient} with it, in ${rounds} waits of ~2 ms`)
  t.true(usual! >= rounds / 2)
  // With fewer cores than ranks spinFor does nothing (a spinning rank would hold the core its peer needs).
  if (availableParallelism() < 2) t.true(patient! >= rounds / 2)
  else t.true(patient! < rounds / 4)
})
