/**
 * An `until` loop on this rank: the body, then every `check` steps the
 * measure combined across the ranks with ONE collective call, a stop at once
 * on a measure that is not a finite number, and whether the loop converged.
 *
 * How the measure is combined (what `--explain` says):
 * - one partition per thread (the usual case): `comm.allreduce(measure, op)`,
 *   which folds in a tree fixed by the rank count, lower ranks on the left
 *   (recursive doubling, or a binomial reduce + broadcast) — the same bits on
 *   every rank. For a number and a built-in op this path allocates nothing
 *   here (the communicator's call itself is its own business).
 * - several partitions per thread: one `allgatherv` of the per-partition
 *   measures (in partition order), folded on every thread in exactly the
 *   tree `allreduce` uses for that many ranks — so the result is bit for bit
 *   the one-partition-per-thread result, for any op, associative or not.
 *
 * Layer: pipeline (rank side). Loads no Effect.
 */
import type { Comm } from "../comm/comm.ts"
import { describeOperand, isBuiltin, rejects } from "../comm/ops.ts"
import { MeasureNotFinite, ReduceTypeMismatch } from "../errors.ts"
import type { BlockGeometry, FieldStage } from "../plan/description.ts"

/** An `until` stage of a plan. */
export type UntilStage = Extract<FieldStage, { kind: "until" }>

/** What an `until` loop reads and leaves on the run. */
export interface UntilRun {
  readonly comm: Comm
  /** This thread's partitions' blocks, in partition order (`block.rank`: the partition). */
  readonly blocks: ReadonlyArray<BlockGeometry & { readonly block: { readonly rank: number } }>
  /** The plan's partitions (logical ranks), at least `comm.size`. */
  readonly partitions: number
  /** The last combined measure. */
  measure?: number
  /** Undefined until an `until` loop ends; then false once any loop ended at maxSteps without `stop` holding. */
  converged?: boolean
}

/**
 * The compiled loop: `body` then `stepDone(step)` each step; every `check`
 * steps (and at `maxSteps`) the combined measure, `stop` asked with it.
 * `report(step, true)` fills a progress bar when it converges.
 */
export function untilLoop(s: UntilStage, run: UntilRun, body: () => void, stepDone: (step: number) => void, report?: (done: number, final?: boolean) => void, start: () => number = () => 0): () => void {
  const measure = measureCombiner(s, run)
  const converged = (value: number, step: number): boolean => {
    if (!s.stop(value, step)) return false
    if (run.converged === undefined) run.converged = true
    report?.(step, true) // converged: the bar is full
    return true
  }
  return () => {
    const first = start()
    // Restarted from a checkpoint taken at a check: that check is made again (a checkpoint is written before it).
    if (first > 0 && (first % s.check === 0 || first === s.maxSteps)) {
      run.measure = measure(first)
      if (converged(run.measure, first)) return
    }
    for (let step = first + 1; step <= s.maxSteps; step++) {
      body()
      stepDone(step)
      if (step % s.check !== 0 && step < s.maxSteps) continue
      const value = measure(step)
      run.measure = value
      if (converged(value, step)) return
    }
    run.converged = false
  }
}

/** The measure combined across every partition at `step`: one collective call. */
function measureCombiner(s: UntilStage, run: UntilRun): (step: number) => number {
  const { comm, blocks, partitions } = run
  const op = s.op
  const measure = s.measure as (block: BlockGeometry) => number
  // A built-in op that cannot reduce numbers (MAXLOC from plain JS) is refused here, whichever path runs.
  const refused = isBuiltin(op) ? rejects(op, 0) : undefined
  if (refused !== undefined) throw new ReduceTypeMismatch(comm.rank, "until", (op as { name: string }).name, "a number (the measure)", refused)
  if (partitions === comm.size) {
    const block = blocks[0]!
    const rank = block.block.rank
    return (step) => finite(comm.allreduce(finite(measure(block), step, rank), op), step, -1)
  }
  // Several partitions on some thread: gather every partition's measure, fold in allreduce's tree.
  const mine = new Float64Array(blocks.length)
  const tree = new Float64Array(partitions)
  return (step) => {
    for (let i = 0; i < blocks.length; i++) mine[i] = finite(measure(blocks[i]!), step, blocks[i]!.block.rank)
    tree.set(comm.allgatherv(mine))
    return finite(foldAsAllreduce(tree, op), step, -1)
  }
}

/**
 * Folds `values` (one per rank, in rank order) in place as `allreduce` does
 * on `values.length` ranks: pairs at distance 1, then 2, 4, …, the lower
 * ranks' value on the left — the binomial tree of comm/collectives.ts's
 * `reduce`, which is also what recursive doubling computes on a power of two.
 */
export function foldAsAllreduce(values: Float64Array, op: { concat(a: number, b: number): number }): number {
  const n = values.length
  for (let mask = 1; mask < n; mask <<= 1) for (let r = 0; r + mask < n; r += 2 * mask) values[r] = op.concat(values[r]!, values[r + mask]!)
  return values[0]!
}

function finite(value: number, step: number, rank: number): number {
  if (Number.isFinite(value)) return value
  throw new MeasureNotFinite(step, rank, typeof value === "number" ? String(value) : describeOperand(value))
}
