// Soak benchmark (issue 11): does memory stay flat over long runs?
//   tsx bench/soak.ts [--quick] [--ranks 2] [--steps 10000000] [--jobs 100]
// 1. One pipeline of 10⁷ steps (1-D heat on 1004 points, as heat1d_small),
//    the process's RSS (every rank's thread lives in it) sampled every ~1 s
//    while it runs.
// 2. 100 `runRanks` jobs in a row (each a small heat pipeline and an
//    allreduce on fresh workers), the process's RSS and the main thread's
//    heap sampled after each (after a full GC).
// One JSON line per result, as the rest of bench/ ({workload, impl, ranks,
// params, wall_s, result, metrics}); `result` holds the least-squares slope
// of RSS — bytes per step, per job — over the samples after a warm-up (the
// first fifth of the steps, the first 10 jobs). The goal is flat: a slope
// that is noise around 0, not a steady climb. Not part of `npm run bench`
// (it takes minutes).
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { type Comm, Grid, isRank, Pipeline, runRanks, SUM } from "rankflow"

const N = 1004
const R = 0.25

/** The heat pipeline of heat1d_small: n points, `steps` explicit steps, the field gathered on rank 0. */
function heat(steps: number): Pipeline<Float64Array> {
  const grid = Grid.line({ n: N, boundary: Grid.dirichlet(0) })
  return Pipeline.distribute(grid, (x) => Math.sin(Math.PI * x))
    .iterate(steps, (s) => s.haloExchange().stencil((u, i) => u[i]! + R * (u[i - 1]! - 2 * u[i]! + u[i + 1]!)))
    .gather()
}

/** Rank side of part 1: runs the long pipeline; returns rank 0's field maximum (a sanity value). */
export function longPipeline(comm: Comm, steps: number): number {
  const u = Pipeline.run(heat(steps), comm)
  return u === undefined ? 0 : u.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
}

/** Rank side of part 2: one small job — a short pipeline and an allreduce. */
export function smallJob(comm: Comm, steps: number): number {
  const u = Pipeline.run(heat(steps), comm)
  return comm.allreduce(u === undefined ? 0 : u[N >> 1]!, SUM)
}

/** Least-squares slope of y over x. */
export function slope(x: ReadonlyArray<number>, y: ReadonlyArray<number>): number {
  const n = x.length
  const mx = x.reduce((s, v) => s + v, 0) / n
  const my = y.reduce((s, v) => s + v, 0) / n
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my)
    sxx += (x[i]! - mx) ** 2
  }
  return sxx === 0 ? 0 : sxy / sxx
}

const MiB = 2 ** 20
const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10

function option(argv: ReadonlyArray<string>, flag: string, fallback: number): number {
  const at = argv.indexOf(flag)
  if (at < 0) return fallback
  const value = Number(argv[at + 1])
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a positive integer, got ${argv[at + 1]}`)
  return value
}

async function soakPipeline(ranks: number, steps: number): Promise<void> {
  const samples: Array<{ t: number; rss: number }> = []
  const t0 = performance.now()
  const sample = (): void => void samples.push({ t: (performance.now() - t0) / 1000, rss: process.memoryUsage.rss() })
  sample()
  const timer = setInterval(sample, 1000)
  const [max] = await runRanks<number>({ ranks, module: import.meta.url, export: "longPipeline", args: steps })
  clearInterval(timer)
  sample()
  const seconds = (performance.now() - t0) / 1000
  // Steps are taken at a steady rate: a sample's time stands for its step count.
  const settled = samples.filter((s) => s.t >= seconds / 5)
  const perSecond = slope(
    settled.map((s) => s.t),
    settled.map((s) => s.rss),
  )
  console.log(
    JSON.stringify({
      workload: "soak_pipeline",
      impl: "pipeline",
      ranks,
      params: { n: N, steps, r: R, sample_s: 1 },
      wall_s: seconds,
      result: {
        max_abs_u: max,
        samples: samples.length,
        rss_first_MiB: mib(samples[0]!.rss),
        rss_last_MiB: mib(samples.at(-1)!.rss),
        rss_max_MiB: mib(Math.max(...samples.map((s) => s.rss))),
        rss_slope_B_per_step: (perSecond * seconds) / steps,
        rss_slope_MiB_per_1e7_steps: mib((perSecond * seconds * 1e7) / steps),
      },
      metrics: { us_per_step: (seconds / steps) * 1e6 },
    }),
  )
}

async function soakJobs(ranks: number, jobs: number, steps: number): Promise<void> {
  setFlagsFromString("--expose-gc")
  const gc = runInNewContext("gc") as () => void
  const rss: number[] = []
  const heap: number[] = []
  const t0 = performance.now()
  let check = 0
  for (let job = 0; job < jobs; job++) {
    const [value] = await runRanks<number>({ ranks, module: import.meta.url, export: "smallJob", args: steps })
    check = value!
    gc()
    rss.push(process.memoryUsage.rss())
    heap.push(process.memoryUsage().heapUsed)
  }
  const seconds = (performance.now() - t0) / 1000
  const warm = Math.min(10, Math.floor(jobs / 5))
  const index = rss.map((_, i) => i).slice(warm)
  console.log(
    JSON.stringify({
      workload: "soak_jobs",
      impl: "runRanks",
      ranks,
      params: { jobs, n: N, steps, warmup_jobs: warm },
      wall_s: seconds,
      result: {
        check,
        rss_first_MiB: mib(rss[0]!),
        rss_after_warmup_MiB: mib(rss[warm]!),
        rss_last_MiB: mib(rss.at(-1)!),
        rss_slope_B_per_job: slope(index, rss.slice(warm)),
        heap_after_warmup_MiB: mib(heap[warm]!),
        heap_last_MiB: mib(heap.at(-1)!),
        heap_slope_B_per_job: slope(index, heap.slice(warm)),
      },
      metrics: { s_per_job: seconds / jobs },
    }),
  )
}

if (!isRank()) {
  const argv = process.argv.slice(2)
  const quick = argv.includes("--quick")
  const ranks = option(argv, "--ranks", 2)
  await soakPipeline(ranks, option(argv, "--steps", quick ? 1_000_000 : 10_000_000))
  await soakJobs(ranks, option(argv, "--jobs", quick ? 20 : 100), 1000)
}
