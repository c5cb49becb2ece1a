// What --trace=FILE.json costs the hand-written heat1d_small (bench/workloads/heat1d.comm.ts: a
// sendrecv ghost exchange per step), measured in one job so that the machine's load weighs on both
// alike: ROUNDS rounds of STEPS steps (default 20 × 10 000), each round run untraced and then with a
// fresh timeline-recording Trace put into the engine (what --trace=FILE.json makes; in turns, the
// order swapping every round). Rank 0 prints the min and median µs per step of each, and their ratios.
// A rare sleep instead of a spin (a futex wake-up, ~20 µs) moves a round's time more than tracing
// does: the min and the median are the numbers to compare, not single rounds.
//   node --import tsx bench/trace_alternate.ts --ranks 2          (ROUNDS=40 STEPS=50000 for longer runs)
// On a shared machine run it under a lock: flock /work/bench.lock node --import tsx bench/trace_alternate.ts --ranks 2
import { init } from "rankflow"
import { Trace } from "../src/comm/trace.ts"
import { setup } from "./workloads/heat1d.comm.ts"
import { heat1dSmall } from "./workloads/heat1d.ts"

const comm = await init()
const rounds = Number(process.env.ROUNDS ?? 20)
const steps = Number(process.env.STEPS ?? 10_000)
const kernel = setup(comm, { ...heat1dSmall.params(false), steps })
/** The engine every communicator of this rank shares; its `trace` is what --trace sets up at start. */
const engine = (comm as unknown as { engine: { trace: Trace | null } }).engine
const original = engine.trace
const times: [number[], number[]] = [[], []]
let events = 0
const run = (traced: boolean): number => {
  engine.trace = traced ? new Trace(comm.rank, comm.size, true) : original
  kernel.reset?.()
  comm.barrier()
  const t0 = performance.now()
  kernel.phases.run!()
  const t = performance.now() - t0
  if (traced) events = engine.trace!.timeline!.data().count
  engine.trace = original
  comm.barrier()
  return comm.allreduce(t, { concat: Math.max }) as number
}
run(false) // warm-up: both paths compiled before anything is timed
run(true)
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [false, true] : [true, false]
  for (const traced of order) times[traced ? 1 : 0].push(run(traced))
}
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
      events_per_rank_step: Number((events / steps).toFixed(2)),
      off_min_us: us(Math.min(...off)),
      on_min_us: us(Math.min(...on)),
      off_median_us: us(median(off)),
      on_median_us: us(median(on)),
      ratio_min: Number((Math.min(...on) / Math.min(...off)).toFixed(3)),
      ratio_median: Number((median(on) / median(off)).toFixed(3)),
    }),
  )
}
