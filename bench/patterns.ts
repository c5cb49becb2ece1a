// Pattern benchmarks, one JSON line per result:
// - farm_tiny_tasks: a managerWorker of trivial tasks — the farm's own cost per task;
// - farm_uneven: tasks whose cost grows with their index, dealt on demand by
//   managerWorker (ranks − 1 workers) against a static block deal on as many
//   computing ranks, measured in the same run (ratio_to_static);
// - stream_tiny_items: a 3-stage Stream of trivial stages — its cost per item;
// - stream_stages: 3 stages of equal cost on their own ranks against one rank
//   doing all three, in the same run (ratio_to_one_rank).
//   tsx bench/patterns.ts [--quick] [--ranks 2,4,8]
import { availableParallelism } from "node:os"
import { blockRange, type Comm, managerWorker, runRanks, Stream, SUM } from "rankflow"

/** Work whose cost is `units` × a fixed amount, returning a value that depends on all of it. */
function busy(units: number): number {
  let x = 0
  for (let i = 0; i < units * 20_000; i++) x += Math.sqrt(i + x * 1e-9)
  return x
}

interface Timing {
  readonly seconds: number
  readonly check: number
}

/** Seconds of `run` on every rank between barriers (rank 0's clock), and its check value. */
function timed(comm: Comm, run: () => number): Timing {
  run() // warm-up: the JIT, and the pattern's communicators
  comm.barrier()
  const t0 = comm.wtime()
  const check = run()
  comm.barrier()
  return { seconds: comm.wtime() - t0, check }
}

const triangular = (tasks: number): number[] => Array.from({ length: tasks }, (_, i) => 1 + i)

export function farmTiny(comm: Comm, tasks: number): Timing {
  return timed(comm, () => {
    const farm = managerWorker(comm, { tasks: comm.rank === 0 ? Array.from({ length: tasks }, (_, i) => i) : undefined, work: (n: number) => n + 1 })
    return farm === undefined ? 0 : farm.results.reduce((a, b) => a + b, 0)
  })
}

export function farmUneven(comm: Comm, tasks: number): Timing {
  return timed(comm, () => {
    const farm = managerWorker(comm, { tasks: comm.rank === 0 ? triangular(tasks) : undefined, work: busy })
    return farm === undefined ? 0 : farm.results.reduce((a, b) => a + b, 0)
  })
}

/** The same tasks dealt statically: each rank a contiguous block, the sums reduced on rank 0. */
export function staticUneven(comm: Comm, tasks: number): Timing {
  return timed(comm, () => {
    const [from, to] = blockRange(tasks, comm.size, comm.rank)
    const values = triangular(tasks).slice(from, to).map(busy)
    const all = comm.gather(values, 0)
    return all === undefined ? 0 : all.flat().reduce((a, b) => a + b, 0)
  })
}

export function streamTiny(comm: Comm, items: number): Timing {
  return timed(comm, () => {
    const out = Stream.from(() => Array.from({ length: items }, (_, i) => i))
      .map((x: number) => x + 1)
      .map((x: number) => x * 2)
      .map((x: number) => x - 1)
      .run(comm)
    return comm.bcast(out === undefined ? 0 : out.reduce((a, b) => a + b, 0), 0)
  })
}

export function streamStages(comm: Comm, items: number): Timing {
  return timed(comm, () => {
    const out = Stream.from(() => Array.from({ length: items }, (_, i) => i))
      .map((x: number) => x + busy(20))
      .map((x: number) => x + busy(20))
      .map((x: number) => x + busy(20))
      .run(comm)
    return comm.allreduce(out === undefined ? 0 : out.reduce((a, b) => a + b, 0), SUM)
  })
}

async function on(ranks: number, measure: string, size: number): Promise<Timing> {
  const [timing] = await runRanks<Timing>({ ranks, module: import.meta.url, export: measure, args: size })
  return timing!
}

function print(pattern: string, impl: string, ranks: number, count: number, t: Timing, extra: Record<string, number> = {}, params: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({
      workload: "patterns",
      impl,
      ranks,
      params: { pattern, count, ...params },
      wall_s: t.seconds,
      result: { check: t.check },
      metrics: { us_per_item: (t.seconds / count) * 1e6, ...extra },
    }),
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick")
  // --quick (a smoke test, run by the test suite) leaves out 8 ranks, which on 2 busy cores cost the most,
  // and keeps the busy work small (uneven: 465 units, not 1830; stages: 20 items).
  const rankCounts = process.argv.includes("--ranks") ? process.argv[process.argv.indexOf("--ranks") + 1]!.split(",").map(Number) : quick ? [2, 4] : [2, 4, 8]
  const cores = availableParallelism()
  const tiny = quick ? 2000 : 200_000
  for (const ranks of rankCounts) print("farm_tiny_tasks", "managerWorker", ranks, tiny, await on(ranks, "farmTiny", tiny))
  // On demand with one worker per core (plus the manager, who mostly sleeps) against a static deal on every core.
  const uneven = quick ? 30 : 240
  const still = await on(cores, "staticUneven", uneven)
  const farm = await on(cores + 1, "farmUneven", uneven)
  if (farm.check !== still.check) throw new Error(`farm_uneven: the farm's sum ${farm.check} differs from the static deal's ${still.check}`)
  print("farm_uneven", "static", cores, uneven, still)
  print("farm_uneven", "managerWorker", cores + 1, uneven, farm, { ratio_to_static: farm.seconds / still.seconds }, { workers: cores })
  for (const ranks of rankCounts.filter((r) => r >= 4)) print("stream_tiny_items", "Stream", ranks, tiny, await on(ranks, "streamTiny", tiny))
  const items = quick ? 20 : 300
  const one = await on(1, "streamStages", items)
  const spread = await on(4, "streamStages", items)
  if (spread.check !== one.check) throw new Error(`stream_stages: 4 ranks' sum ${spread.check} differs from one rank's ${one.check}`)
  print("stream_stages", "Stream", 1, items, one)
  print("stream_stages", "Stream", 4, items, spread, { ratio_to_one_rank: spread.seconds / one.seconds })
}
