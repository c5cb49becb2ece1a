/**
 * A range pipeline on this rank: its partitions' chunks (or, distributed
 * dynamically, the chunks it takes while the run goes), each computed with
 * the chunk's own random stream, collected on rank 0 in chunk order.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { combine } from "../comm/ops.ts"
import type { Chunk, Description, Terminal } from "../plan/description.ts"
import type { Plan } from "../plan/plan.ts"
import { chunkBounds } from "../plan/range.ts"
import { collect, copyOf } from "./collect.ts"
import { progressReporter } from "../runtime/progress.ts"
import type { Prepared } from "./execute.ts"
import { checkOperand } from "./operands.ts"
import { randomStream } from "./random.ts"
import { SpanKind } from "../comm/timeline.ts"
import { spanned } from "./spans.ts"

export function prepareRange(description: Description, plan: Plan, comm: Comm, partitions: ReadonlyArray<number>): Prepared {
  if (plan.source.kind !== "range") throw new Error("unreachable")
  const run = chunkRunner(description, comm.rank)
  if (plan.source.distribution === "dynamic") return prepareDynamic(description, plan.source.chunks, comm, run)
  const perRank = plan.source.perRank
  const mine = partitions.flatMap((p) => perRank[p]!)
  const values = new Array<unknown>(mine.length)
  const report = progressReporter("chunks of rank 0", mine.length)
  return {
    reset: () => values.fill(undefined),
    compute: () => {
      for (let j = 0; j < mine.length; j++) {
        values[j] = run(mine[j]!)
        report?.(j + 1)
      }
      return { steps: 0 }
    },
    collect: () => finishOn(comm, description.terminal, collectChunks(values, plan, comm)),
  }
}

/** Computes chunk `index` with its own random stream; one Chunk object and one stream serve every chunk. A value the terminal's built-in op cannot reduce fails here, on `rank`. */
function chunkRunner(description: Description, rank: number): (index: number) => unknown {
  const source = description.source
  if (source.kind !== "range") throw new Error("unreachable")
  const range = source.range
  const random = randomStream(range.seed, 0)
  const chunk = { index: 0, start: 0, end: 0, random } satisfies Chunk as { index: number; start: number; end: number; random: typeof random }
  // With a timeline, each chunk's map is a span (its index: the chunk's).
  const map = spanned(() => source.map(chunk), SpanKind.chunk, () => chunk.index)
  return (index) => {
    ;[chunk.start, chunk.end] = chunkBounds(range, index)
    chunk.index = index
    random.reset(range.seed, index)
    const value = map()
    checkOperand(description.terminal, value, rank)
    return value
  }
}

/**
 * Chunks taken on demand: each thread, when free, takes the next chunk index
 * from a counter in rank 0's block of a window (one atomic add, no message);
 * rank 0 then puts the values in chunk order, so results are those of any
 * other distribution.
 */
function prepareDynamic(description: Description, total: number, comm: Comm, run: (index: number) => unknown): Prepared {
  const counter = comm.alloc(Int32Array, 1)
  const taken: number[] = []
  const values: unknown[] = []
  const report = progressReporter("chunks taken by rank 0", 0)
  return {
    reset: () => {
      taken.length = 0
      values.length = 0
    },
    compute: () => {
      taken.length = 0
      values.length = 0
      if (comm.rank === 0) Atomics.store(counter, 0, 0)
      comm.barrier()
      for (let index = comm.fetchAndAdd(counter, 0, 0, 1); index < total; index = comm.fetchAndAdd(counter, 0, 0, 1)) {
        values.push(run(index))
        taken.push(index)
        report?.(taken.length)
      }
      report?.(taken.length, true)
      comm.barrier() // every rank is past the counter before rank 0 may reset it
      return { steps: 0 }
    },
    collect: () => {
      // Each rank's chunk numbers and values, concatenated in the same rank order.
      const indices = collect(taken, comm)
      const all = collect(values, comm)
      if (indices === undefined || all === undefined) return finishOn(comm, description.terminal, undefined)
      const ordered = new Array<unknown>(total)
      indices.forEach((c, i) => (ordered[c as number] = all[i]))
      return finishOn(comm, description.terminal, ordered)
    },
  }
}

/** The terminal's result from every chunk's value in chunk order (on rank 0); on every rank after allreduce. */
function finishOn(comm: Comm, terminal: Terminal, ordered: unknown[] | undefined): unknown {
  const value = ordered === undefined ? undefined : finishChunks(ordered, terminal)
  return terminal.kind === "reduce" && terminal.all ? comm.bcast(value, 0) : value
}

/** Every chunk's value on rank 0, in chunk order. */
function collectChunks(values: unknown[], plan: Plan, comm: Comm): unknown[] | undefined {
  if (plan.source.kind !== "range") throw new Error("unreachable")
  const all = collect(values, comm)
  if (all === undefined) return undefined
  // `all` lists the partitions' chunks in partition order (threads hold contiguous partitions).
  const ordered = new Array<unknown>(plan.source.chunks)
  let at = 0
  for (const chunks of plan.source.perRank) for (const c of chunks) ordered[c] = all[at++]
  return ordered
}

function finishChunks(ordered: unknown[], terminal: Terminal): unknown {
  if (terminal.kind === "gather") return ordered
  if (terminal.kind === "save") throw new Error("unreachable: ranges have no save")
  const op = terminal.op
  if (terminal.kind === "scan") {
    const out = new Array<unknown>(ordered.length)
    ordered.forEach((v, i) => (out[i] = i === 0 ? v : combine(op, copyOf(out[i - 1]), v)))
    return out
  }
  let acc = copyOf(ordered[0])
  for (let i = 1; i < ordered.length; i++) acc = combine(op, acc, ordered[i])
  return acc
}
