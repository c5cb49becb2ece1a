// Fields and element types: what a second field costs (messages per exchange and time per step,
// against two single-field pipelines), what a float32 field saves against float64 (heat2d), and
// what the set-up stencil probe costs. Variants run interleaved in one job, --reps times each;
// the numbers are medians, ratios are of medians of the same run. One JSON line per result.
//   tsx bench/fields.ts [--quick] [--ranks 2,4] [--reps 7] [--reps-large 3] [--only two_fields,float32,probe] [--sizes 256,1024]
import { type Comm, Grid, type Pipeline as AnyPipeline, Pipeline, runRanks, Stencil } from "rankflow"
import type { Description, FieldStage } from "../src/plan/description.ts"
import { FieldBlock } from "../src/pipeline/field.ts"
import { probeStencil } from "../src/pipeline/stencilProbe.ts"

const PARTS = ["two_fields", "float32", "probe"] as const
type Part = (typeof PARTS)[number]

interface Row {
  readonly name: string
  readonly params: Record<string, number | string | boolean>
  /** Median seconds of the timed region (the stages; set-up for probe rows). */
  readonly seconds: number
  readonly min: number
  readonly steps: number
  readonly metrics?: Record<string, number>
  readonly result?: Record<string, number | string | boolean>
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

type Prepared = ReturnType<typeof Pipeline.prepare>

/** Seconds of every run of each variant (the slowest rank's), variants interleaved so that machine noise hits them alike. */
function interleaved(comm: Comm, reps: number, variants: ReadonlyArray<Prepared>): { samples: number[][]; steps: number[] } {
  const samples = variants.map(() => [] as number[])
  const steps = variants.map(() => 0)
  for (let rep = 0; rep < reps; rep++)
    variants.forEach((v, i) => {
      v.reset()
      comm.barrier()
      const t0 = comm.wtime()
      steps[i] = v.compute().steps
      samples[i]!.push(comm.allreduce(comm.wtime() - t0, { concat: Math.max }))
    })
  return { samples, steps }
}

/** Messages per step and bytes per step of every halo exchange in the plan on `ranks` ranks. */
function haloTraffic(p: AnyPipeline<unknown>, ranks: number, steps: number): { messages: number; bytes: number } {
  let messages = 0
  let bytes = 0
  for (const s of Pipeline.plan(p, ranks).stages)
    if (s.stage.includes("haloExchange")) {
      if (typeof s.runs !== "number") throw new Error(`the plan gives no count of runs for ${s.stage}: ${s.runs}`)
      for (const m of s.messages) {
        messages += m.count * s.runs
        bytes += m.bytes * s.runs
      }
    }
  return { messages: messages / steps, bytes: bytes / steps }
}

const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]))

const initU = (x: number, y: number) => Math.sin(Math.PI * x) * Math.sin(Math.PI * y)
const initV = (x: number, y: number) => Math.sin(2 * Math.PI * x) * Math.sin(Math.PI * y)
const R = 0.2

/** Two independent heat fields in one pipeline (one exchange, one fused sweep) vs one pipeline per field. */
function twoFields(comm: Comm, quick: boolean, reps: number, sizes: ReadonlyArray<number> | undefined): Row[] {
  const rows: Row[] = []
  for (const n of sizes ?? (quick ? [64] : [256, 1024])) {
    const steps = quick ? 20 : n <= 256 ? 400 : 100
    const grid = Grid.plane({ n, boundary: Grid.dirichlet(0) })
    const two = Pipeline.distribute(grid, { u: initU, v: initV })
      .iterate(steps, (s) =>
        s.haloExchange().stencil({
          u: (f, i, row) => f.u[i]! + R * (f.u[i - row]! + f.u[i + row]! + f.u[i - 1]! + f.u[i + 1]! - 4 * f.u[i]!),
          v: (f, i, row) => f.v[i]! + R * (f.v[i - row]! + f.v[i + row]! + f.v[i - 1]! + f.v[i + 1]! - 4 * f.v[i]!),
        }),
      )
      .gather()
    const oneU = Pipeline.distribute(grid, initU)
      .iterate(steps, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + R * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!)))
      .gather()
    const oneV = Pipeline.distribute(grid, initV)
      .iterate(steps, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + R * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!)))
      .gather()
    const prepared = [two as AnyPipeline<unknown>, oneU, oneV].map((p) => Pipeline.prepare(p, comm))
    const { samples, steps: ran } = interleaved(comm, reps, prepared)
    const [tTwo, tU, tV] = samples.map(median) as [number, number, number]
    // Per repetition too: the ratio of runs made back to back.
    const perRep = median(samples[0]!.map((t, k) => t / (samples[1]![k]! + samples[2]![k]!)))
    const both = prepared[0]!.collect() as { u: Float64Array; v: Float64Array } | undefined
    const u = prepared[1]!.collect() as Float64Array | undefined
    const v = prepared[2]!.collect() as Float64Array | undefined
    const identical = comm.bcast(comm.rank === 0 ? sameValues(both!.u, u!) && sameValues(both!.v, v!) : false, 0)
    const traffic = [two, oneU, oneV].map((p) => haloTraffic(p as AnyPipeline<unknown>, comm.size, steps))
    const variant = (name: string, k: number, metrics: Record<string, number> = {}): Row => ({
      name: "two_fields",
      params: { n, steps, form: name },
      seconds: median(samples[k]!),
      min: Math.min(...samples[k]!),
      steps: ran[k]!,
      metrics: { us_per_step: (median(samples[k]!) / ran[k]!) * 1e6, messages_per_step: traffic[k]!.messages, bytes_per_step: traffic[k]!.bytes, ...metrics },
      result: { identical },
    })
    rows.push(variant("u+v in one pipeline", 0, { ratio_to_sum: tTwo / (tU + tV), ratio_to_sum_per_rep: perRep }), variant("u alone", 1), variant("v alone", 2))
  }
  return rows
}

/**
 * heat2d on a float32 field vs float64: the same stencil, half the bytes —
 * as a point function (the JavaScript sweep) and declared (`Stencil.heat`,
 * the WebAssembly SIMD sweep: f64x2 against f32x4).
 */
function float32(comm: Comm, quick: boolean, reps: number): Row[] {
  const n = quick ? 128 : 4096
  const steps = quick ? 10 : 100
  const grid = Grid.plane({ n, boundary: Grid.dirichlet(0) })
  // One point function per type, written out twice: closures made at one site share V8's type
  // feedback, so a single function used on both types would see both arrays at every load and
  // be inlined polymorphic into both sweeps — as in a program that did the same.
  const f64 = Pipeline.distribute(grid, initU, { type: "float64" })
    .iterate(steps, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + R * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!)))
    .gather()
  const f32 = Pipeline.distribute(grid, initU, { type: "float32" })
    .iterate(steps, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + R * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!)))
    .gather()
  const declared = (type: "float64" | "float32") => Pipeline.distribute(grid, initU, { type }).iterate(steps, (s) => s.haloExchange().stencil(Stencil.heat(R, 2))).gather()
  const variants = [
    { kernel: "js", type: "float64", p: f64 },
    { kernel: "js", type: "float32", p: f32 },
    { kernel: "simd", type: "float64", p: declared("float64") },
    { kernel: "simd", type: "float32", p: declared("float32") },
  ] as const
  const prepared = variants.map((v) => Pipeline.prepare(v.p as AnyPipeline<unknown>, comm))
  const { samples, steps: ran } = interleaved(comm, reps, prepared)
  return variants.map((v, k) => {
    // How far each float32 field drifted from the float64 one of its kernel.
    const base = k - (k % 2)
    const wide = prepared[base]!.collect() as Float64Array | undefined
    const mine = prepared[k]!.collect() as Float32Array | Float64Array | undefined
    let drift = 0
    if (comm.rank === 0) for (let i = 0; i < wide!.length; i++) drift = Math.max(drift, Math.abs(wide![i]! - mine![i]!))
    drift = comm.bcast(drift, 0)
    return {
      name: "float32",
      params: { n, steps, type: v.type, kernel: v.kernel },
      seconds: median(samples[k]!),
      min: Math.min(...samples[k]!),
      steps: ran[k]!,
      metrics: { us_per_step: (median(samples[k]!) / ran[k]!) * 1e6, ratio_to_float64: median(samples[k]!) / median(samples[base]!), min_ratio_to_float64: Math.min(...samples[k]!) / Math.min(...samples[base]!) },
      result: { max_abs_diff_to_float64: drift },
    }
  })
}

/** The first stencil stage of a description (inside loops too). */
function firstStencil(stages: ReadonlyArray<FieldStage>): Extract<FieldStage, { kind: "stencil" }> {
  for (const s of stages) {
    if (s.kind === "stencil") return s
    if (s.kind === "iterate" || s.kind === "until") return firstStencil(s.body)
  }
  throw new Error("no stencil")
}

/**
 * The set-up probe's own time (its first call, what a run pays once, and warm calls) on this rank's
 * block, against the whole `Pipeline.prepare` and one step of the same heat2d.
 */
function probe(comm: Comm, quick: boolean, reps: number): Row[] {
  const rows: Row[] = []
  const n = quick ? 128 : 1024
  const steps = quick ? 10 : 100
  const grid = Grid.plane({ n, boundary: Grid.dirichlet(0) })
  const cases: Array<[string, AnyPipeline<unknown>]> = [
    ["heat (one field)", Pipeline.distribute(grid, initU).iterate(steps, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + R * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!))).gather() as AnyPipeline<unknown>],
    [
      "heat u, v (two fields)",
      Pipeline.distribute(grid, { u: initU, v: initV })
        .iterate(steps, (s) =>
          s.haloExchange().stencil({
            u: (f, i, row) => f.u[i]! + R * (f.u[i - row]! + f.u[i + row]! + f.u[i - 1]! + f.u[i + 1]! - 4 * f.u[i]!),
            v: (f, i, row) => f.v[i]! + R * (f.v[i - row]! + f.v[i + row]! + f.v[i - 1]! + f.v[i + 1]! - 4 * f.v[i]!),
          }),
        )
        .gather() as AnyPipeline<unknown>,
    ],
  ]
  for (const [form, p] of cases) {
    const description = (p as unknown as { description: Description }).description
    const source = description.source
    if (source.kind !== "grid") throw new Error("unreachable: a grid pipeline")
    const plan = Pipeline.plan(p, comm.size)
    if (plan.source.kind !== "grid") throw new Error("unreachable: a grid plan")
    const block = new FieldBlock(source.grid, plan.source.layout.blocks[comm.rank]!, plan.ghost, source.fields)
    const stencil = firstStencil(description.stages)
    let t0 = performance.now()
    probeStencil(stencil, block)
    const first = (performance.now() - t0) / 1e3
    const warm: number[] = []
    for (let k = 0; k < 50; k++) {
      t0 = performance.now()
      probeStencil(stencil, block)
      warm.push((performance.now() - t0) / 1e3)
    }
    // The whole set-up, and the steps, of the same pipeline.
    const setups: number[] = []
    let prepared: Prepared | undefined
    for (let k = 0; k < reps; k++) {
      comm.barrier()
      t0 = performance.now()
      prepared = Pipeline.prepare(p, comm)
      setups.push(comm.allreduce((performance.now() - t0) / 1e3, { concat: Math.max }))
    }
    const { samples, steps: ran } = interleaved(comm, reps, [prepared!])
    const step = median(samples[0]!) / ran[0]!
    const probeFirst = comm.allreduce(first, { concat: Math.max })
    const probeWarm = comm.allreduce(median(warm), { concat: Math.max })
    rows.push({
      name: "stencil_probe",
      params: { n, steps, form },
      seconds: probeFirst,
      min: probeFirst,
      steps: 1,
      metrics: {
        probe_first_us: probeFirst * 1e6,
        probe_warm_us: probeWarm * 1e6,
        prepare_ms: median(setups) * 1e3,
        probe_share_of_prepare: probeFirst / median(setups),
        us_per_step: step * 1e6,
        probe_in_steps: probeFirst / step,
      },
    })
  }
  return rows
}

export function measure(comm: Comm, { quick, reps, repsLarge, only, sizes }: { quick: boolean; reps: number; repsLarge: number; only: ReadonlyArray<Part>; sizes?: ReadonlyArray<number> }): Row[] {
  return [...(only.includes("two_fields") ? twoFields(comm, quick, reps, sizes) : []), ...(only.includes("float32") && comm.size === 2 ? float32(comm, quick, repsLarge) : []), ...(only.includes("probe") ? probe(comm, quick, reps) : [])]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv
  const value = (flag: string) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined)
  const quick = argv.includes("--quick")
  const rankCounts = (value("--ranks") ?? "2,4").split(",").map(Number)
  const reps = Number(value("--reps") ?? (quick ? 2 : 7))
  const repsLarge = Number(value("--reps-large") ?? (quick ? 2 : 3))
  const sizes = value("--sizes")?.split(",").map(Number)
  const only = (value("--only")?.split(",") ?? [...PARTS]) as Part[]
  const unknown = only.filter((p) => !(PARTS as ReadonlyArray<string>).includes(p))
  if (unknown.length > 0 || !rankCounts.every((r) => Number.isInteger(r) && r >= 1) || !(reps >= 1 && repsLarge >= 1)) {
    console.error(`bench/fields.ts: --only takes ${PARTS.join(",")} (got ${unknown.join(",") || "ok"}), --ranks positive integers, --reps/--reps-large ≥ 1`)
    process.exit(2)
  }
  for (const ranks of rankCounts) {
    const [rows] = await runRanks<Row[]>({ ranks, module: import.meta.url, export: "measure", args: { quick, reps, repsLarge, only, ...(sizes === undefined ? {} : { sizes }) } })
    for (const r of rows!)
      console.log(
        JSON.stringify({
          workload: r.name,
          impl: "pipeline",
          ranks,
          params: { ...r.params, reps: r.name === "float32" ? repsLarge : reps },
          wall_s: r.seconds,
          result: { steps: r.steps, ...r.result },
          metrics: { median_s: r.seconds, min_s: r.min, ...r.metrics },
        }),
      )
  }
}
