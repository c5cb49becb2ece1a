// What the stage spans of --trace=FILE.json cost, measured in one thread and one run: heat1d_small's
// pipeline (n = 1004) prepared twice on one rank, first with no timeline (stages as they are), then after
// a Timeline exists (stages record their spans, sampled where steps are tiny); the two run in turns,
// ROUNDS times STEPS steps each, and the min time per step of each is printed with their ratio.
// Messages and waits (the engine's events) are not in it: see bench/trace_overhead.ts for whole runs.
//   tsx bench/trace_spans.ts --ranks 1            (PARTITIONS=2: the blocked loop, 8 steps per exchange;
//   PARTITIONS=1 tsx bench/trace_spans.ts --ranks 1   1: a span per stage per step, sampled)
import { Grid, init, Pipeline, Stencil } from "rankflow"
import { Timeline } from "../src/comm/timeline.ts"

const comm = await init()
const n = 1004
const steps = Number(process.env.STEPS ?? 4000)
const rounds = Number(process.env.ROUNDS ?? 300)
const partitions = Number(process.env.PARTITIONS ?? 2)
const r = (0.01 * 1e-5) / (1 / (n - 1)) ** 2
const heat = () =>
  Pipeline.distribute(Grid.line({ n, boundary: Grid.dirichlet(0) }), (x) => Math.sin(Math.PI * x))
    .iterate(steps, (s) => s.haloExchange().stencil(Stencil.heat(r)))
    .gather()
const plain = Pipeline.prepare(heat(), comm, { partitions })
const timeline = new Timeline(comm.rank) // from here on, prepared stages record spans
const traced = Pipeline.prepare(heat(), comm, { partitions })
const best = [Infinity, Infinity]
let events = 0
for (let round = 0; round < rounds; round++) {
  for (const [k, prepared] of [plain, traced].entries()) {
    prepared.reset()
    const t0 = performance.now()
    prepared.compute()
    best[k] = Math.min(best[k]!, performance.now() - t0)
  }
  if (round === 0) events = timeline.data().count
  timeline.clear() // reuse the memory: the timeline is not written anywhere
}
const perStep = (ms: number) => (ms * 1000) / steps
console.log(JSON.stringify({ partitions, steps, untraced_us_per_step: perStep(best[0]!), traced_us_per_step: perStep(best[1]!), ratio: best[1]! / best[0]!, events_per_run: events }))
