/**
 * Runs a plan on this rank: deals the plan's partitions to the world's ranks,
 * sets up the grid or range run (gridRun.ts, rangeRun.ts), times it, and
 * returns the result — on rank 0, or on every rank for allreduce.
 *
 * Layer: pipeline (rank side). Loads no Effect.
 */
import type { Comm } from "../comm/comm.ts"
import { blockRange } from "../comm/partition.ts"
import { InvalidPipeline } from "../errors.ts"
import type { Description } from "../plan/description.ts"
import type { Plan } from "../plan/plan.ts"
import { prepareGrid } from "./gridRun.ts"
import { prepareRange } from "./rangeRun.ts"
import { SpanKind } from "../comm/timeline.ts"
import { spanned } from "./spans.ts"

/** What a run produced on this rank. */
export interface Outcome {
  /** The result on rank 0 (every rank for allreduce); undefined elsewhere. */
  readonly value: unknown
  /** Seconds of the timed region (first stage to the result, between barriers). */
  readonly seconds: number
  /** Iterations of the outermost loop that ran. */
  readonly steps: number
  /** The last measured value of an `until` loop. */
  readonly measure?: number
  /**
   * Present when the run had an `until` loop: false when one ended at its
   * `maxSteps` without `stop` holding (then `measure` is its last measure).
   */
  readonly converged?: boolean
  /** The step a restarted run resumed after (its checkpoint's); `steps` counts from the start. */
  readonly resumedFrom?: number
}

/** Options of `Pipeline.run` and `Pipeline.prepare` on the ranks: checks and over-decomposition. */
export interface ExecuteOptions {
  /** Check every stencil's reads against its radius once before running. */
  readonly debug?: boolean
  /**
   * Every this many steps of the outermost loop, scan the fields' interior
   * points and stop with `FieldNotFinite` (step, rank, field, global index)
   * at the first NaN or ±Infinity (`--check-finite K`). Off when absent.
   */
  readonly checkFinite?: number
  /** Write every field every `every` steps of the outermost loop into `dir` (atomically; the newest `keep`). */
  readonly checkpoint?: { readonly every: number; readonly dir: string; readonly keep?: number }
  /** Resume from the newest checkpoint in this directory (any rank count): results equal a run never interrupted. */
  readonly restart?: string
  /**
   * Logical ranks (partitions) of the plan, at least the communicator's size
   * (default: equal). More partitions than ranks run several per thread, with
   * results identical to one thread each.
   */
  readonly partitions?: number
}

/**
 * A pipeline set up on this rank, ready to run: buffers allocated, stencils
 * compiled, the field initialised. `compute` runs the stages, `collect`
 * gathers or reduces the result; `reset` puts the initial field back, so the
 * same setup can run again (benchmarks, repeated solves).
 */
export interface Prepared {
  /** Puts the initial field back, so the same setup can run again. */
  reset(): void
  /** Runs every stage on this rank's partitions (a collective call). */
  compute(): { readonly steps: number; readonly measure?: number; readonly converged?: boolean; readonly resumedFrom?: number }
  /** The result on rank 0 (every rank after allreduce), undefined elsewhere (a collective call). */
  collect(): unknown
}

/**
 * Sets `description` up as planned by `plan` on this rank of `world`. The
 * plan's partitions (its logical ranks) are dealt to the world's ranks in
 * contiguous blocks: one each when there are as many, several per thread
 * when there are more — with the same results either way.
 */
export function prepare(description: Description, plan: Plan, world: Comm, options: ExecuteOptions = {}): Prepared {
  if (options.checkFinite !== undefined && !(Number.isSafeInteger(options.checkFinite) && options.checkFinite >= 1))
    throw new InvalidPipeline("run", `checkFinite must be a positive integer (a step interval), got ${String(options.checkFinite)}`)
  const cp = options.checkpoint
  if (cp !== undefined) {
    if (!(Number.isSafeInteger(cp.every) && cp.every >= 1)) throw new InvalidPipeline("run", `checkpoint.every must be a positive integer (a step interval), got ${String(cp.every)}`)
    if (typeof cp.dir !== "string" || cp.dir === "") throw new InvalidPipeline("run", `checkpoint.dir must be a directory path, got ${String(cp.dir)}`)
    if (cp.keep !== undefined && !(Number.isSafeInteger(cp.keep) && cp.keep >= 1)) throw new InvalidPipeline("run", `checkpoint.keep must be a positive integer, got ${String(cp.keep)}`)
  }
  if (options.restart !== undefined && (typeof options.restart !== "string" || options.restart === "")) throw new InvalidPipeline("run", `restart must be a checkpoint directory, got ${String(options.restart)}`)
  if ((cp !== undefined || options.restart !== undefined) && description.source.kind !== "grid") throw new InvalidPipeline("run", "checkpoints hold grid fields: a range pipeline has none")
  if (plan.ranks < world.size) throw new InvalidPipeline("run", `the plan has ${plan.ranks} partitions, fewer than the ${world.size} ranks running it`)
  const comm = world.dup() // pipeline messages never mix with the user's
  const source = description.source
  const [first, end] = blockRange(plan.ranks, comm.size, comm.rank)
  const mine = Array.from({ length: end - first }, (_, i) => first + i)
  const prepared = source.kind === "range" ? prepareRange(description, plan, comm, mine) : prepareGrid(description, source.grid, source.fields, plan, comm, mine, options)
  // With a timeline, collecting the result is a span: gather, reduction (reduce, allreduce, scan of a range) or save.
  const terminal = description.terminal.kind
  const collect = spanned(() => prepared.collect(), terminal === "gather" ? SpanKind.gather : terminal === "save" ? SpanKind.save : SpanKind.reduction, () => -1)
  const finish = description.finish
  return {
    reset: () => prepared.reset(),
    compute: () => prepared.compute(),
    collect:
      finish === undefined
        ? collect
        : () => {
            const value = collect()
            return value === undefined ? undefined : finish(value)
          },
  }
}

/** Sets up, runs and collects: the result and the time from the first stage to the result. */
export function execute(description: Description, plan: Plan, world: Comm, options: ExecuteOptions = {}): Outcome {
  const prepared = prepare(description, plan, world, options)
  world.barrier()
  const t0 = world.wtime()
  const { steps, measure, converged, resumedFrom } = prepared.compute()
  const value = prepared.collect()
  const seconds = world.wtime() - t0
  return { value, seconds, steps, ...(measure === undefined ? {} : { measure }), ...(converged === undefined ? {} : { converged }), ...(resumedFrom === undefined ? {} : { resumedFrom }) }
}
