// What a run's checks cost: --check-finite K on heat2d (off, K = 100, K = 1), and an until loop's
// measure checked every step vs every 100 steps (2-D Jacobi, one collective per check). Variants run
// interleaved in one job, best of --reps; ratios are against "off" / "check every 100" of the same run.
// One JSON line per result.
//   tsx bench/until_checks.ts [--quick] [--ranks 2] [--reps 5]
import { type Block, type Comm, Grid, MAX, Pipeline, runRanks } from "rankflow"
import { firstNonFinite } from "../src/pipeline/finite.ts"

interface Row {
  readonly name: string
  readonly params: Record<string, number | string>
  readonly seconds: number
  readonly steps: number
  /** check_finite_scan: one scan over 100 steps of the run without checks. */
  readonly per100?: number
}

/** Best time of `reps` runs of each variant, variants interleaved so that machine noise hits them alike. */
function best(comm: Comm, reps: number, variants: ReadonlyArray<{ prepared: ReturnType<typeof Pipeline.prepare> }>): Array<{ seconds: number; steps: number }> {
  const out = variants.map(() => ({ seconds: Infinity, steps: 0 }))
  for (let rep = 0; rep < reps; rep++)
    variants.forEach((v, i) => {
      v.prepared.reset()
      comm.barrier()
      const t0 = comm.wtime()
      const { steps } = v.prepared.compute()
      const seconds = comm.allreduce(comm.wtime() - t0, { concat: Math.max })
      out[i] = { seconds: Math.min(out[i]!.seconds, seconds), steps }
    })
  return out
}

function largestChange(b: Block<2>): number {
  let worst = 0
  for (let a = b.lo[0]; a < b.hi[0]; a++)
    for (let k = a * b.strides[0] + b.lo[1]; k < a * b.strides[0] + b.hi[1]; k++) worst = Math.max(worst, Math.abs(b.u[k]! - b.next[k]!))
  return worst
}

export function measure(comm: Comm, { quick, reps }: { quick: boolean; reps: number }): Row[] {
  const rows: Row[] = []
  // --check-finite on heat2d.
  const n = quick ? 256 : 1024
  const steps = quick ? 50 : 300
  const heat = Pipeline.distribute(Grid.plane({ n, boundary: Grid.dirichlet(0) }), (x, y) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y))
    .iterate(steps, (s) => s.haloExchange().stencil((u, k, row) => u[k]! + 0.2 * (u[k - row]! + u[k + row]! + u[k - 1]! + u[k + 1]! - 4 * u[k]!)))
    .gather()
  const finite = [100, undefined, 1].map((k) => ({ k, prepared: Pipeline.prepare(heat, comm, k === undefined ? {} : { checkFinite: k }) }))
  const timed = best(comm, reps, finite)
  timed.forEach((r, i) => rows.push({ name: "check_finite", params: { n, steps, k: finite[i]!.k ?? "off" }, ...r }))
  // The scan alone, on a block of this rank's size: what K = 100 adds per step, without the run's noise.
  const block = { shape: [Math.ceil(n / comm.size) + 2, n + 2], strides: [n + 2, 1], ghost: 1, count: [Math.ceil(n / comm.size), n], start: [0, 0] }
  const data = new Float64Array(block.shape[0]! * block.shape[1]!).fill(0.5)
  const scans = quick ? 20 : 200
  let found = 0
  for (let i = 0; i < scans; i++) found += firstNonFinite(data, block) // warm-up
  const t0 = comm.wtime()
  for (let i = 0; i < scans; i++) found += firstNonFinite(data, block)
  const scan = comm.allreduce((comm.wtime() - t0) / scans, { concat: Math.max })
  const off = timed[finite.findIndex((v) => v.k === undefined)]!
  rows.push({ name: "check_finite_scan", params: { n, points_per_rank: block.count[0]! * n, found }, seconds: scan, steps: 1, per100: scan / (100 * (off.seconds / off.steps)) } as Row)
  // until: the measure every step vs every 100 steps (never converging: tol 0).
  const m = 128
  const maxSteps = quick ? 500 : 4000
  const jacobi = (check: number) =>
    Pipeline.distribute(Grid.plane({ n: m, boundary: [Grid.dirichlet(0), [Grid.dirichlet(0), Grid.dirichlet(1)]] }), () => 0)
      .until({ maxSteps, check, measure: largestChange, op: MAX, stop: (c) => c < 0 }, (s) => s.haloExchange().stencil((u, i, row) => (u[i - 1]! + u[i + 1]! + u[i - row]! + u[i + row]!) / 4))
      .gather()
  const until = [100, 1].map((check) => ({ check, prepared: Pipeline.prepare(jacobi(check), comm) }))
  best(comm, reps, until).forEach((r, i) => rows.push({ name: "until_check", params: { n: m, maxSteps, check: until[i]!.check }, ...r }))
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv
  const quick = argv.includes("--quick")
  const ranks = argv.includes("--ranks") ? Number(argv[argv.indexOf("--ranks") + 1]) : 2
  const reps = argv.includes("--reps") ? Number(argv[argv.indexOf("--reps") + 1]) : quick ? 2 : 5
  const [rows] = await runRanks<Row[]>({ ranks, module: import.meta.url, export: "measure", args: { quick, reps } })
  const baseline = (name: string) => rows!.find((r) => r.name === name && (r.params.k === "off" || r.params.check === 100))?.seconds ?? NaN
  for (const r of rows!)
    console.log(
      JSON.stringify({
        workload: r.name,
        impl: "pipeline",
        ranks,
        params: { ...r.params, reps },
        wall_s: r.seconds,
        result: { steps: r.steps },
        metrics: r.per100 === undefined ? { us_per_step: (r.seconds / r.steps) * 1e6, ratio: r.seconds / baseline(r.name) } : { us_per_scan: r.seconds * 1e6, cost_at_k100: r.per100 },
      }),
    )
}
