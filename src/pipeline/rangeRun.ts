/**
 * A range pipeline on this rank: its partitions' chunks, each computed with
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
import type { Prepared } from "./execute.ts"
import { progressReporter } from "../runtime/progress.ts"
import { randomStream } from "./random.ts"

export function prepareRange(description: Description, plan: Plan, comm: Comm, partitions: ReadonlyArray<number>): Prepared {
  const source = description.source
  if (source.kind !== "range" || plan.source.kind !== "range") throw new Error("unreachable")
  const range = source.range
  const perRank = plan.source.perRank
  const mine = partitions.flatMap((p) => perRank[p]!)
  const random = randomStream(range.seed, 0)
  const chunk = { index: 0, start: 0, end: 0, random } satisfies Chunk as { index: number; start: number; end: number; random: typeof random }
  const values = new Array<unknown>(mine.length)
  const report = progressReporter("chunks of rank 0", mine.length)
  return {
    reset: () => values.fill(undefined),
    compute: () => {
      for (let j = 0; j < mine.length; j++) {
        const index = mine[j]!
        ;[chunk.start, chunk.end] = chunkBounds(range, index)
        chunk.index = index
        random.reset(range.seed, index)
        values[j] = source.map(chunk)
        report?.(j + 1)
      }
      return { steps: 0 }
    },
    collect: () => {
      const ordered = collectChunks(values, plan, comm)
      const value = ordered === undefined ? undefined : finishChunks(ordered, description.terminal)
      return description.terminal.kind === "reduce" && description.terminal.all ? comm.bcast(value, 0) : value
    },
  }
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
