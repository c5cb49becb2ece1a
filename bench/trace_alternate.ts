// What --trace=FILE.json costs the hand-written heat1d_small (bench/workloads/heat1d.comm.ts: a
// sendrecv ghost exchange per step), measured in one job so that the machine's load weighs on both
// alike: ROUNDS rounds of STEPS steps (default 60 × 5000, at most BUDGET = 25 s of them), each round run untraced and with the
// timeline-recording Trace that --trace=FILE.json makes put into the engine (in turns, the order
// swapping every round; the one Trace records every traced round, as it would a whole run). Rank 0
// prints the min and median µs per step of each, and the median of the rounds' traced/untraced ratios.
// A sleep instead of a spin (a futex wake-up, ~20 µs) moves a round's time more than tracing does:
// the median ratio is the number to read, not single rounds.
//   node --import tsx bench/trace_alternate.ts --ranks 2          (ROUNDS=100 STEPS=10000 for longer runs)
// PLAIN=1: the Trace of plain --trace instead (counts, and a clock read at each end of a wait; no timeline).
// ALL=1: the Trace of --trace-messages=all (every message and wait in the timeline, none sampled).
// On a shared machine run it under a lock: flock /tmp/rankflow-bench.lock node --import tsx bench/trace_alternate.ts --ranks 2
import { init } from "rankflow"
import { Trace } from "../src/comm/trace.ts"
import { setup } from "./workloads/heat1d.comm.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"

const comm = await init()
const rounds = Number(process.env.ROUNDS ?? 60)
const steps = Number(process.env.STEPS ?? 5000)
const kernel = setup(comm, { ...heat1dSmall.params(false), steps })
/** The engine every communicator of this rank shares; its `trace` is what --trace sets up at start. */
const engine = (comm as unknown as { engine: { trace: Trace | null } }).engine
const original = engine.trace
const recording = new Trace(comm.rank, comm.size, process.env.PLAIN === undefined, process.env.ALL === "1" ? "all" : "sampled")
const times: [number[], number[]] = [[], []]
const run = (traced: boolean): number => {
  engine.trace = traced ? recording : original
  kernel.reset?.()
  comm.barrier()
  const t0 = performance.now()
  kernel.phases.run!()
  const t = performance.now() - t0
  engine.trace = original
  comm.barrier()
  return comm.allreduce(t, { concat: Math.max }) as number
}
run(false) // warm-up: both paths compiled before anything is timed
run(true)
const warmEvents = recording.timeline?.data().count ?? 0
// At most BUDGET seconds of rounds (default 25; a loaded machine sleeps instead of spinning, 20× slower).
// Every rank sees the same allreduced times, so all stop after the same round.
const budgetMs = Number(process.env.BUDGET ?? 25) * 1000
let spent = 0
for (let round = 0; round < rounds && spent < budgetMs; round++) {
  const order = round % 2 === 0 ? [false, true] : [true, false]
  for (const traced of order) {
    const t = run(traced)
    times[traced ? 1 : 0].push(t)
    spent += t
  }
}
const events = (recording.timeline?.data().count ?? 0) - warmEvents
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const us = (ms: number): number => Number(((ms * 1000) / steps).toFixed(3))
if (comm.rank === 0) {
  const [off, on] = times
  console.log(
    JSON.stringify({
      steps,
      rounds,
      ranks: comm.size,
      rounds_run: times[0].length,
      events_per_rank_step: Number((events / (steps * times[1].length)).toFixed(2)),
      off_min_us: us(Math.min(...off)),
      on_min_us: us(Math.min(...on)),
      off_median_us: us(median(off)),
      on_median_us: us(median(on)),
      ratio_min: Number((Math.min(...on) / Math.min(...off)).toFixed(3)),
      ratio_median: Number((median(on) / median(off)).toFixed(3)),
      median_of_ratios: Number(median(on.map((t, k) => t / off[k]!)).toFixed(3)),
    }),
  )
}
