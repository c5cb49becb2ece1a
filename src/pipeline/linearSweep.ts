/**
 * Declared linear stencils on a rank: which fields live in a WebAssembly
 * kernel memory (those a SIMD sweep writes — all their levels, sized once for
 * every local block so nothing ever grows it), and the sweeps themselves: one
 * kernel call per row of the update range, or the JavaScript sweep of the same
 * operations where the planner chose it.
 *
 * Layer: pipeline (rank side).
 */
import { MAX_KERNEL_BYTES, StencilKernels, kernelBytes, simdAvailable, type WindowRun } from "../kernels/stencil.ts"
import type { ElementType, FieldArray, FieldSpec, FieldStage } from "../plan/description.ts"
import type { GridBlock } from "../plan/layout.ts"
import { linearPointFunction, sweepKernel } from "../plan/linearStencil.ts"
import { arrayOf, compileSweep, type FieldBlock, type Sweep } from "./field.ts"

type StencilStage = Extract<FieldStage, { kind: "stencil" }>

/** The kernel memory of a rank's blocks and the allocator its `FieldBlock`s take. */
export interface SimdMemory {
  readonly kernels: StencilKernels
  /** Buffers of the fields SIMD sweeps write come from the kernel memory, the others are plain arrays. */
  readonly alloc: (spec: FieldSpec, length: number) => FieldArray
}

/** Steps per exchange of each loop the planner blocked in time (its stencil runs in windows). */
function windowSteps(stages: ReadonlyArray<FieldStage>): number[] {
  return stages.flatMap((s) => (s.kind === "iterate" && s.temporalTile !== undefined ? [s.exchangeEvery ?? 1] : []))
}

function stencils(stages: ReadonlyArray<FieldStage>): StencilStage[] {
  return stages.flatMap((s) => (s.kind === "stencil" ? [s] : s.kind === "iterate" || s.kind === "until" ? stencils(s.body) : []))
}

const simdOf = (s: StencilStage, dims: number, specs: ReadonlyArray<FieldSpec>): boolean => sweepKernel(s, dims, specs[s.outputs[0]!.field]!.type).kind === "simd" && simdAvailable()

/**
 * The kernel memory for these blocks when some stencil of the program runs the
 * SIMD sweep (undefined otherwise, or when this rank's fields would need more
 * than one kernel memory's 2 GiB: every buffer stays a plain typed array and
 * the declared stencils run the JavaScript sweep).
 */
export function simdMemory(program: ReadonlyArray<FieldStage>, dims: number, specs: ReadonlyArray<FieldSpec>, blocks: ReadonlyArray<GridBlock>, ghost: number): SimdMemory | undefined {
  const simd = stencils(program).filter((s) => simdOf(s, dims, specs))
  if (simd.length === 0) return undefined
  const fields = new Set(simd.map((s) => s.outputs[0]!.field))
  let bytes = 0
  for (const b of blocks) {
    const length = b.count.reduce((a, c) => a * (c + 2 * ghost), 1)
    for (const f of fields) bytes += (specs[f]!.previous === undefined ? 2 : 3) * kernelBytes(specs[f]!.type as "float64", length)
  }
  // Term tables: each stencil is compiled at most twice per block (plain and time-blocked loops).
  for (const s of simd) bytes += 2 * blocks.length * kernelBytes("float64", 2 * s.linear!.terms.length)
  // Windows (loops blocked in time): per block a parameter block, a term table, a descriptor and the steps' ranges.
  for (const every of windowSteps(program)) for (const s of simd) bytes += blocks.length * (kernelBytes("float64", 16 + 2 * s.linear!.terms.length + 8) + kernelBytes("float64", 3 * every))
  // More than one kernel memory holds (2 GiB per rank): the JavaScript sweep, same bits (the sweeps see no kernel memory).
  if (bytes > MAX_KERNEL_BYTES) return undefined
  const kernels = new StencilKernels(bytes)
  return {
    kernels,
    alloc: (spec, length) => (fields.has(specs.indexOf(spec)) ? kernels.alloc(spec.type as "float64", length) : arrayOf(spec.type, length)),
  }
}

/**
 * The sweep of a declared linear stencil: the SIMD kernel when the planner
 * chose it (its field's buffers are in `memory`), else the JavaScript sweep of
 * the same operations for the field's element type. Undefined for a point
 * function.
 */
export function linearSweep(s: StencilStage, blocks: ReadonlyArray<FieldBlock>, memory: SimdMemory | undefined): Sweep | undefined {
  const linear = s.linear
  if (linear === undefined || blocks.length === 0) return undefined
  const field = s.outputs[0]!.field
  const dims = blocks[0]!.dims
  const type: ElementType = blocks[0]!.levels[field]!.spec.type
  if (!simdOf(s, dims, blocks.map((b) => b.levels.map((l) => l.spec))[0]!) || memory === undefined || !memory.kernels.holds(blocks[0]!.levels[field]!.u))
    return compileSweep({ form: "array", outputs: [{ field, fn: linearPointFunction(linear, type) }] }, dims)
  const size = type === "float64" ? 8 : 4
  const rows = new Map(
    blocks.map((b) => {
      const strides = b.strides as ReadonlyArray<number>
      const offsets = linear.terms.map((t) => t.offset.reduce((a, o, d) => a + o * strides[d]!, 0) * size)
      return [b, memory.kernels.compile(type as "float64", offsets, linear.terms.map((t) => t.weight))] as const
    }),
  )
  const inc = linear.increment ?? 0
  const mode = linear.increment === undefined ? 0 : 1
  if (dims === 1)
    return (b) => {
      const l = b.levels[field]!
      const n = b.hi[0]! - b.lo[0]!
      if (n > 0) rows.get(b)!(l.next as Float64Array, l.u as Float64Array, b.lo[0]!, n, inc, mode)
    }
  if (dims === 2)
    return (b) => {
      const l = b.levels[field]!
      const row = rows.get(b)!
      const s0 = b.strides[0]!
      const lo1 = b.lo[1]!
      const n = b.hi[1]! - lo1
      const hi0 = b.hi[0]!
      if (n > 0) for (let a = b.lo[0]!; a < hi0; a++) row(l.next as Float64Array, l.u as Float64Array, a * s0 + lo1, n, inc, mode)
    }
  return (b) => {
    const l = b.levels[field]!
    const row = rows.get(b)!
    const s0 = b.strides[0]!
    const s1 = b.strides[1]!
    const lo2 = b.lo[2]!
    const n = b.hi[2]! - lo2
    const hi0 = b.hi[0]!
    const hi1 = b.hi[1]!
    if (n > 0) for (let a = b.lo[0]!; a < hi0; a++) for (let c = b.lo[1]!; c < hi1; c++) row(l.next as Float64Array, l.u as Float64Array, a * s0 + c * s1 + lo2, n, inc, mode)
  }
}

/** A window of a block: steps first … first + k − 1 of the loop's cycle in one kernel call; the result is in the field's `u` after an even k, in `next` after an odd one. */
export type BlockWindow = (first: number, k: number) => void

/**
 * The windows of a loop blocked in time (one per block, in block order): a
 * cycle of `every` steps between exchanges, step j updating the block widened
 * by (every − 1 − j)·radius, swept in tiles of `tile` along dimension 0 (see
 * StencilKernels.window). Undefined where the SIMD sweep does not run (no
 * kernel memory, kernel: "js", no SIMD on this host) or a block refills
 * boundaries between steps: the loop then sweeps step by step.
 */
export function linearWindows(s: StencilStage, blocks: ReadonlyArray<FieldBlock>, memory: SimdMemory | undefined, every: number, tile: number): BlockWindow[] | undefined {
  const linear = s.linear
  if (linear === undefined || blocks.length === 0 || memory === undefined) return undefined
  const field = s.outputs[0]!.field
  const dims = blocks[0]!.dims
  const type: ElementType = blocks[0]!.levels[field]!.spec.type
  if (!simdOf(s, dims, blocks[0]!.levels.map((l) => l.spec)) || blocks.some((b) => !memory.kernels.holds(b.levels[field]!.u) || b.levels[field]!.buffers.length !== 2 || b.refills.some((f) => f.length > 0))) return undefined
  const size = type === "float64" ? 8 : 4
  const inc = linear.increment ?? 0
  const mode = linear.increment === undefined ? 0 : 1
  return blocks.map((b) => {
    const strides = b.strides as ReadonlyArray<number>
    const offsets = linear.terms.map((t) => t.offset.reduce((a, o, d) => a + o * strides[d]!, 0) * size)
    const ranges = Array.from({ length: every }, (_, j) => b.widened((every - 1 - j) * s.radius))
    const run: WindowRun = memory.kernels.window(type as "float64", offsets, linear.terms.map((t) => t.weight), inc, mode, { dims, strides, ranges, radius: s.radius, tile })
    const l = b.levels[field]!
    return (first, k) => run(l.u as Float64Array, l.next as Float64Array, first, k)
  })
}
