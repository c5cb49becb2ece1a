// What --trace=FILE.json costs the hand-written heat1d_small (bench/workloads/heat1d.comm.ts: a
// sendrecv ghost exchange per step), measured in one job so that the machine's load weighs on both
// alike: ROUNDS rounds of STEPS steps (default 60 × 5000, at most BUDGET = 25 s of them), each round run untraced and with the
// timeline-recording Trace that --trace=FILE.json makes put into the engine (in turns, the order
// swapping every round; the one Trace records every traced round, as it would a whole run). Rank 0
// prints the min and median µs per step of each, and the median of the rounds' traced/untraced ratios.
// A sleep instead of a spin (a futex wake-up, ~20 µs) moves a round's time more than tracing does:
// the median ratio is the number to read, not single rounds.
//   node --import tsx bench/trace_alternate.ts --ranks 2          (ROUNDS=100 STEPS=10000 for longer runs)
// TRACES=plain,sampled (a comma list): each round runs untraced and with each of these Traces in turns
// (the order rotating every round), and prints each one's figures against the same untraced rounds:
// plain: the Trace of plain --trace (counts, and waits timed; no timeline);
// sampled: the Trace of --trace=FILE.json (the default);
// all: the Trace of --trace-messages=all (every message and wait in the timeline, none sampled).
// PLAIN=1 and ALL=1 are short for TRACES=plain and TRACES=all.
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
type Kind = "plain" | "sampled" | "all"
const kinds = (process.env.TRACES ?? (process.env.PLAIN !== undefined ? "plain" : process.env.ALL === "1" ? "all" : "sampled")).split(",") as Kind[]
for (const kind of kinds) if (!["plain", "sampled", "all"].includes(kind)) throw new Error(`TRACES: expected plain, sampled or all, got '${kind}'`)
const recordings = kinds.map((kind) => new Trace(comm.rank, comm.size, kind !== "plain", kind === "all" ? "all" : "sampled"))
/** Variant 0 runs untraced, variant k > 0 with recordings[k - 1]; times[k] holds its rounds' times. */
const variants = kinds.length + 1
const times: number[][] = Array.from({ length: variants }, () => [])
const run = (variant: number): number => {
  engine.trace = variant === 0 ? original : recordings[variant - 1]!
  kernel.reset?.()
  comm.barrier()
  const t0 = performance.now()
  kernel.phases.run!()
  const t = performance.now() - t0
  engine.trace = original
  comm.barrier()
  return comm.allreduce(t, { concat: Math.max }) as number
}
for (let v = 0; v < variants; v++) run(v) // warm-up: every path compiled before anything is timed
const eventCount = (trace: Trace): number => trace.timeline?.data().count ?? 0
const warmEvents = recordings.map(eventCount)
// At most BUDGET seconds of rounds (default 25; a loaded machine sleeps instead of spinning, 20× slower).
// Every rank sees the same allreduced times, so all stop after the same round.
const budgetMs = Number(process.env.BUDGET ?? 25) * 1000
let spent = 0
for (let round = 0; round < rounds && spent < budgetMs; round++) {
  for (let k = 0; k < variants; k++) {
    const variant = (round + k) % variants
    const t = run(variant)
    times[variant]!.push(t)
    spent += t
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const us = (ms: number): number => Number(((ms * 1000) / steps).toFixed(3))
if (comm.rank === 0) {
  const off = times[0]!
  for (const [k, kind] of kinds.entries()) {
    const on = times[k + 1]!
    console.log(
      JSON.stringify({
        trace: kind,
        steps,
        rounds,
        ranks: comm.size,
        rounds_run: off.length,
        events_per_rank_step: Number(((eventCount(recordings[k]!) - warmEvents[k]!) / (steps * on.length)).toFixed(2)),
        off_min_us: us(Math.min(...off)),
        on_min_us: us(Math.min(...on)),
        off_median_us: us(median(off)),
        on_median_us: us(median(on)),
        ratio_min: Number((Math.min(...on) / Math.min(...off)).toFixed(3)),
        ratio_median: Number((median(on) / median(off)).toFixed(3)),
        median_of_ratios: Number(median(on.map((t, r) => t / off[r]!)).toFixed(3)),
      }),
    )
  }
}
