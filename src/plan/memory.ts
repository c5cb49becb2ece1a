/**
 * The planner's memory check: the bytes a grid pipeline's fields take —
 * every rank's double-buffered block with its ghosts, and the gathered
 * result on rank 0 — against the machine's memory and V8's typed-array
 * length, so that `--n 1e11` is refused before any rank starts. Pure: the
 * caller says how much memory there is.
 *
 * Layer: plan.
 */
import { GridTooLarge } from "../errors.ts"
import type { Description } from "./description.ts"
import type { Plan } from "./plan.ts"

/** The most elements V8 allows in one typed array (Node 20: 2³²); a longer `new Float64Array(n)` throws `Invalid typed array length`. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32

const BYTES = 8 // grid fields are Float64

/** Bytes of a grid plan's fields over all ranks (0 for ranges): two copies of each block with ghosts, pack buffers, and the gathered result. */
export function fieldBytes(plan: Plan): number {
  if (plan.source.kind !== "grid") return 0
  let blocks = 0
  for (const length of plan.source.localLength) blocks += 2 * length * BYTES
  const points = plan.source.shape.reduce((a, n) => a * n, 1)
  return blocks + (plan.bufferBytes - 2 * maxOf(plan.source.localLength) * BYTES) * plan.ranks + (plan.result.stage === "gather" ? points * BYTES : 0)
}

function maxOf(values: ReadonlyArray<number>): number {
  let m = 0
  for (const v of values) if (v > m) m = v
  return m
}

/**
 * The three refusals both checks make, in order: a block longer than a V8
 * typed array (`block`: its length and how to say it), a gathered result
 * longer than one, fields of more `bytes` than `memoryBytes` (`fields`: what
 * they hold).
 */
function refuse(points: number, block: { readonly length: number; readonly text: string }, gathered: boolean, bytes: number, fields: string, memoryBytes: number): void {
  const arrayLimit = MAX_TYPED_ARRAY_LENGTH * BYTES
  if (block.length > MAX_TYPED_ARRAY_LENGTH)
    throw new GridTooLarge(points, block.length * BYTES, arrayLimit, `for ${block.text}, more than a V8 typed array holds (2^32 elements)`, "use more ranks or a smaller grid")
  if (gathered && points > MAX_TYPED_ARRAY_LENGTH)
    throw new GridTooLarge(points, points * BYTES, arrayLimit, `for the gathered result, more than a V8 typed array holds (2^32 elements)`, "reduce instead of gathering, or use a smaller grid")
  if (bytes > memoryBytes) throw new GridTooLarge(points, bytes, memoryBytes, `for their fields (${fields}${gathered ? ", and the gathered result" : ""}), more than this machine's memory`)
}

/**
 * Refuses a grid plan whose fields cannot be allocated in `memoryBytes`, or
 * whose blocks (or gathered result) exceed a V8 typed array: throws
 * `GridTooLarge` naming the points, the bytes and the limit.
 */
export function checkFieldMemory(plan: Plan, memoryBytes: number): void {
  if (plan.source.kind !== "grid") return
  const points = plan.source.shape.reduce((a, n) => a * n, 1)
  const block = maxOf(plan.source.localLength)
  refuse(points, { length: block, text: `one rank's block of ${block} values` }, plan.result.stage === "gather", fieldBytes(plan), "each rank's block twice, with ghosts", memoryBytes)
}

/**
 * The same check before planning, from the grid's size alone (the least its
 * fields can take: two copies of every point, and the gathered result), so
 * that a grid far too large is refused for its size — not for whatever the
 * planner would find first (an unstable scheme at that spacing).
 */
export function checkGridSize(description: Description, ranks: number, memoryBytes: number): void {
  if (description.source.kind !== "grid") return
  const points = description.source.grid.shape.reduce((a, n) => a * n, 1)
  const gathered = description.terminal.kind === "gather"
  const block = { length: points / ranks, text: `each rank's block of at least ${Math.ceil(points / ranks)} values` }
  refuse(points, block, gathered, points * BYTES * (gathered ? 3 : 2), "every point twice", memoryBytes)
}
