// The main side of the benchmark harness: a workload is a description (its
// parameters, its implementations, how to derive metrics and check a result);
// `runWorkload` runs every implementation — `serial-js` once on the main
// thread, SPMD ones (`comm`, later `pipeline`) on each rank count — and prints
// one JSON line per result:
//   {"workload", "impl", "ranks", "params", "wall_s", "result", "metrics"}
// A result that fails its check, or that differs from another implementation's
// in a field that must be identical (a field fingerprint), is reported on
// stderr and makes the process exit 1.
//
// Main side only (starts ranks with runRanks).
//
// serial-js is measured on the main thread before anything else, and its
// modules must not load rankflow or any CommonJS package: on this Node (20),
// loading CommonJS through tsx detaches an ArrayBuffer on the main thread
// (--trace-protector-invalidation shows V8's ArrayBufferDetaching protector
// fall), and from then on V8 compiles every typed-array access in that thread
// with a detached-buffer check: plain-JS kernels run up to 1.6× slower
// (measured: the 4000² matvec loop 15 → 25 ms). So rankflow (which loads
// fp-ts) is imported here only when ranks are started, after the main-thread
// runs.
import { availableParallelism } from "node:os"
import { type Kernel, medianOf, minOf, type Timings, timeKernel } from "./kernel.ts"
import { RANK_EXPORT, type RankJob, type RankOutcome } from "./rank.ts"
import type { ExternalMeasure, ExternalOutcome } from "./serialc.ts"

/** The `setup` a main-thread implementation module exports (serial-js ignores `ranks`). */
export type MainSetup<P, R> = (params: P, context: { readonly ranks: number }) => Kernel<R> | Promise<Kernel<R>>

/**
 * Where an implementation runs:
 * - `"ranks"`: its module exports `rank = spmdEntry(setup)` (rank.ts), run on N ranks by runRanks;
 * - `"main"`: its module exports a `MainSetup`, run on the main thread — once
 *   (ranks = 1) unless `ranked`, when it is run for each rank count;
 * - `"external"`: its module exports an `ExternalMeasure` (serialc.ts) that
 *   runs another program, once (ranks = 1), which times itself; it may answer
 *   that it was skipped (no compiler), which is noted on stderr.
 */
export interface Impl {
  readonly runner: "ranks" | "main" | "external"
  readonly module: URL
  readonly ranked?: boolean
  /**
   * Ranks: worker threads to start for N (logical) ranks, when fewer — a
   * pipeline runs N partitions on as many threads as there are cores.
   */
  readonly threads?: (ranks: number) => number
  /**
   * False when its results cannot match the others bit for bit (its own random
   * numbers): the workload's `identical` fields are not compared for it.
   */
  readonly comparable?: boolean
}

/** A benchmark workload: parameters, implementations by impl name, metrics and checks. */
export interface Workload<P extends object, R extends object> {
  readonly name: string
  readonly params: (quick: boolean) => P
  readonly impls: Readonly<Record<string, Impl>>
  /** Derived figures from the best repetition (`seconds`, and each phase's best). All must be finite and > 0. */
  readonly metrics: (params: P, seconds: number, phases: Readonly<Record<string, number>>, result: R) => Record<string, number>
  /** What is wrong with a result (empty when it is right). */
  readonly check: (params: P, result: R) => string[]
  /** Result fields every implementation and rank count must reproduce exactly. */
  readonly identical: ReadonlyArray<keyof R & string>
}

/** One JSON line of the suite. */
export interface ResultLine {
  readonly workload: string
  readonly impl: string
  readonly ranks: number
  readonly params: Record<string, unknown>
  readonly wall_s: number
  readonly result: Record<string, unknown>
  readonly metrics: Record<string, number>
}

interface Options {
  readonly quick: boolean
  readonly ranks: number[]
  readonly impls: string[] | undefined
  readonly reps: number
}

function parseOptions(argv: ReadonlyArray<string>): Options {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag)
    return at >= 0 ? argv[at + 1] : undefined
  }
  const list = (flag: string): string[] | undefined => value(flag)?.split(",").filter((s) => s !== "")
  const quick = argv.includes("--quick")
  const ranks = list("--ranks")?.map(Number) ?? (quick ? [1, 2, 4] : [1, 2, 4, 8])
  if (!ranks.every((r) => Number.isInteger(r) && r >= 1)) throw new Error(`--ranks takes positive integers, got ${value("--ranks")}`)
  const reps = Number(value("--reps") ?? 3)
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps takes a positive integer, got ${value("--reps")}`)
  return { quick, ranks, impls: list("--impl"), reps }
}

async function measure<P, R>(impl: Impl, params: P, ranks: number, reps: number): Promise<ExternalOutcome<R>> {
  if (impl.runner === "external") {
    const { measure: run } = (await import(impl.module.href)) as { measure: ExternalMeasure<P, R> }
    return run(params, reps)
  }
  if (impl.runner === "ranks") {
    const { runRanks } = await import("rankflow")
    const outcomes = await runRanks<RankOutcome<R> | undefined, RankJob<P>>({
      ranks: threadsFor(impl, ranks),
      module: impl.module,
      export: RANK_EXPORT,
      args: { params, reps, partitions: ranks },
    })
    return outcomes[0]!
  }
  const { setup } = (await import(impl.module.href)) as { setup: MainSetup<P, R> }
  const kernel = await setup(params, { ranks })
  const timings: Timings = await timeKernel(kernel, reps, () => {}, () => performance.now() / 1000)
  const result = kernel.result()
  await kernel.close?.()
  return { timings, result }
}

/** A pipeline's N ranks are partitions: they run on as many threads as there are cores (at most N). */
export const pipelineThreads = (ranks: number): number => Math.min(ranks, availableParallelism())

const threadsFor = (impl: Impl, ranks: number): number => (impl.runner === "ranks" ? (impl.threads?.(ranks) ?? ranks) : 1)

/** Turns an outcome into the suite's JSON line. */
export function resultLine<P extends object, R extends object>(
  workload: Workload<P, R>,
  impl: string,
  ranks: number,
  params: P,
  reps: number,
  outcome: RankOutcome<R>,
): ResultLine {
  const seconds = minOf(outcome.timings.wall)
  const phases = Object.fromEntries(Object.entries(outcome.timings.phases).map(([name, times]) => [name, minOf(times)]))
  return {
    workload: workload.name,
    impl,
    ranks,
    params: { ...params, reps },
    wall_s: seconds,
    result: outcome.result as Record<string, unknown>,
    metrics: { ...workload.metrics(params, seconds, phases, outcome.result), min_s: seconds, median_s: medianOf(outcome.timings.wall) },
  }
}

/**
 * Runs a workload from the command line: `--quick` (tiny sizes),
 * `--ranks 1,2,4` (default 1,2,4,8; quick 1,2,4), `--impl serial-js,comm`
 * (default all), `--reps N` (default 3). Exits 1 when a result is wrong.
 */
export async function runWorkload<P extends object, R extends object>(workload: Workload<P, R>, argv = process.argv.slice(2)): Promise<void> {
  const options = parseOptions(argv)
  const params = workload.params(options.quick)
  const requested = options.impls ?? Object.keys(workload.impls)
  const unknown = requested.filter((name) => !(name in workload.impls))
  if (unknown.length > 0) throw new Error(`${workload.name}: unknown impl(s) ${unknown.join(", ")}; known: ${Object.keys(workload.impls).join(", ")}`)
  const onMainOnce = (name: string): boolean => workload.impls[name]!.runner !== "ranks" && workload.impls[name]!.ranked !== true
  const names = [...requested.filter(onMainOnce), ...requested.filter((name) => !onMainOnce(name))] // see the top of this file
  const problems: string[] = []
  const reference = new Map<string, { value: string; from: string }>()
  for (const name of names) {
    const impl = workload.impls[name]!
    const rankCounts = impl.runner === "ranks" || impl.ranked === true ? options.ranks : [1]
    for (const ranks of rankCounts) {
      const outcome = await measure<P, R>(impl, params, ranks, options.reps)
      if ("skipped" in outcome) {
        console.error(`bench: ${workload.name} ${name} skipped: ${outcome.skipped}`)
        continue
      }
      const threads = threadsFor(impl, ranks)
      const line = resultLine(workload, name, ranks, threads === ranks ? params : { ...params, threads }, options.reps, outcome)
      console.log(JSON.stringify(line))
      const where = `${workload.name} ${name} on ${ranks} rank(s)`
      for (const problem of workload.check(params, outcome.result)) problems.push(`${where}: ${problem}`)
      for (const field of impl.comparable === false ? [] : workload.identical) {
        const value = JSON.stringify(outcome.result[field])
        const seen = reference.get(field)
        if (seen === undefined) reference.set(field, { value, from: where })
        else if (seen.value !== value) problems.push(`${where}: ${field} ${value} differs from ${seen.value} (${seen.from})`)
      }
    }
  }
  for (const problem of problems) console.error(`bench: ${problem}`)
  if (problems.length > 0) process.exitCode = 1
}
