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
import { type Description, ELEMENT_BYTES, type ElementType } from "./description.ts"
import type { Plan } from "./plan.ts"

/** The most elements V8 allows in one typed array (Node 20: 2³²); a longer `new Float64Array(n)` throws `Invalid typed array length`. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32


interface FieldSizes {
  /** Bytes per point of every buffer of every field (two per field, three with a previous level). */
  readonly buffers: number
  /** Bytes per point of every field and level, gathered (at most). */
  readonly gathered: number
  /** The widest element. */
  readonly widest: number
}

function sizesOf(fields: ReadonlyArray<{ readonly type: ElementType; readonly levels: 1 | 2 }>): FieldSizes {
  let buffers = 0
  let gathered = 0
  let widest = 1
  for (const f of fields) {
    const bytes = ELEMENT_BYTES[f.type]
    buffers += (f.levels + 1) * bytes
    gathered += f.levels * bytes
    widest = Math.max(widest, bytes)
  }
  return { buffers, gathered, widest }
}

/** Bytes of a grid plan's fields over all ranks (0 for ranges): every buffer of each block with ghosts, pack buffers, and the gathered result. */
export function fieldBytes(plan: Plan): number {
  if (plan.source.kind !== "grid") return 0
  const sizes = sizesOf(plan.source.fields)
  let blocks = 0
  for (const length of plan.source.localLength) blocks += length * sizes.buffers
  const points = plan.source.shape.reduce((a, n) => a * n, 1)
  return blocks + (plan.bufferBytes - maxOf(plan.source.localLength) * sizes.buffers) * plan.ranks + (plan.result.stage === "gather" ? points * sizes.gathered : 0)
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
function refuse(points: number, block: { readonly length: number; readonly text: string }, gathered: boolean, bytes: number, fields: string, memoryBytes: number, widest: number): void {
  const arrayLimit = MAX_TYPED_ARRAY_LENGTH * widest
  if (block.length > MAX_TYPED_ARRAY_LENGTH)
    throw new GridTooLarge(points, block.length * widest, arrayLimit, `for ${block.text}, more than a V8 typed array holds (2^32 elements)`, "use more ranks or a smaller grid")
  if (gathered && points > MAX_TYPED_ARRAY_LENGTH)
    throw new GridTooLarge(points, points * widest, arrayLimit, `for the gathered result, more than a V8 typed array holds (2^32 elements)`, "reduce instead of gathering, or use a smaller grid")
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
  const levels = plan.source.fields.some((f) => f.levels === 2) ? "two or three times" : "twice"
  const what = plan.source.fields.length === 1 ? `each rank's block ${levels}` : `each rank's blocks of ${plan.source.fields.length} fields ${levels}`
  refuse(points, { length: block, text: `one rank's block of ${block} values` }, plan.result.stage === "gather", fieldBytes(plan), `${what}, with ghosts`, memoryBytes, sizesOf(plan.source.fields).widest)
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
  const sizes = sizesOf(description.source.fields.map((f) => ({ type: f.type, levels: f.previous === undefined ? 1 : 2 })))
  refuse(points, block, gathered, points * (sizes.buffers + (gathered ? sizes.gathered : 0)), "every point twice", memoryBytes, sizes.widest)
}
