/**
 * Runs a plan on this rank: allocates what the plan says, runs the stages
 * (exchanges, sweeps, loops) with no allocation per step, and collects the
 * result on rank 0 (or on every rank for allreduce).
 *
 * Layer: pipeline (rank side). Loads no Effect.
 */
import type { Comm } from "../comm/comm.ts"
import { combine } from "../comm/ops.ts"
import type { ReduceOp } from "../comm/ops.ts"
import type { Block, Chunk, Description, FieldStage, NumberOp, Terminal } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import type { Plan } from "../plan/plan.ts"
import { chunkBounds } from "../plan/range.ts"
import { checkRadius, compileSweep, FieldBlock, type Sweep } from "./field.ts"
import { randomStream } from "./random.ts"

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
}

export interface ExecuteOptions {
  /** Check every stencil's reads against its radius once before running. */
  readonly debug?: boolean
}

/** Runs `description` as planned by `plan` on this rank of `world`. */
export function execute(description: Description, plan: Plan, world: Comm, options: ExecuteOptions = {}): Outcome {
  const comm = world.dup() // pipeline messages never mix with the user's
  const source = description.source
  const outcome = source.kind === "range" ? runRange(description, plan, comm) : runGrid(description, source.grid, source.init, plan, comm, options)
  const finish = description.finish
  if (finish === undefined || outcome.value === undefined) return outcome
  return { ...outcome, value: finish(outcome.value) }
}

// ---- ranges --------------------------------------------------------------------

function runRange(description: Description, plan: Plan, comm: Comm): Outcome {
  const source = description.source
  if (source.kind !== "range" || plan.source.kind !== "range") throw new Error("unreachable")
  const range = source.range
  const mine = plan.source.perRank[comm.rank]!
  const random = randomStream(range.seed, 0)
  const chunk = { index: 0, start: 0, end: 0, random } satisfies Chunk as { index: number; start: number; end: number; random: typeof random }
  comm.barrier()
  const t0 = comm.wtime()
  const values = new Array<unknown>(mine.length)
  for (let j = 0; j < mine.length; j++) {
    const index = mine[j]!
    ;[chunk.start, chunk.end] = chunkBounds(range, index)
    chunk.index = index
    random.reset(range.seed, index)
    values[j] = source.map(chunk)
  }
  const ordered = collectChunks(values, plan, comm)
  const value = ordered === undefined ? undefined : finishChunks(ordered, description.terminal)
  const result = description.terminal.kind === "reduce" && description.terminal.all ? comm.bcast(value, 0) : value
  const seconds = comm.wtime() - t0
  return { value: result, seconds, steps: 0 }
}

/** Every chunk's value on rank 0, in chunk order: numbers travel as one Float64Array per rank. */
function collectChunks(values: unknown[], plan: Plan, comm: Comm): unknown[] | undefined {
  if (plan.source.kind !== "range") throw new Error("unreachable")
  const allNumbers = comm.allreduce(values.every((v) => typeof v === "number") ? 1 : 0, { concat: (a: number, b: number) => a & b })
  let perRank: unknown[][] | undefined
  if (allNumbers === 1) {
    const flat = comm.gatherv(Float64Array.from(values as number[]), 0)
    if (flat !== undefined) {
      let at = 0
      perRank = plan.source.perRank.map((chunks) => {
        const part = Array.from(flat.subarray(at, at + chunks.length))
        at += chunks.length
        return part
      })
    }
  } else perRank = comm.gather(values, 0)
  if (perRank === undefined) return undefined
  const ordered = new Array<unknown>(plan.source.chunks)
  plan.source.perRank.forEach((chunks, rank) => chunks.forEach((c, j) => (ordered[c] = perRank![rank]![j])))
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

/** Typed arrays are combined in place: never into a chunk's own value. */
const copyOf = (v: unknown): unknown => (ArrayBuffer.isView(v) ? (v as unknown as { slice(): unknown }).slice() : v)

// ---- grids ---------------------------------------------------------------------

interface GridRun {
  readonly comm: Comm
  readonly block: FieldBlock
  readonly pack: Float64Array[]
  readonly sweeps: Map<FieldStage, Sweep>
  readonly gatherField: () => Float64Array | undefined
  outerSteps: number
  measure?: number
}

function runGrid(description: Description, grid: Grid, init: (...x: number[]) => number, plan: Plan, comm: Comm, options: ExecuteOptions): Outcome {
  if (plan.source.kind !== "grid") throw new Error("unreachable")
  const layout = plan.source.layout
  const block = new FieldBlock(grid, layout.blocks[comm.rank]!, plan.ghost)
  block.initialize(init)
  const packLength = block.packLength()
  const run: GridRun = {
    comm,
    block,
    pack: [new Float64Array(packLength), new Float64Array(packLength)],
    sweeps: new Map(),
    gatherField: () => gatherField(block, plan, grid, comm),
    outerSteps: 0,
  }
  compileAll(plan.program, run, options.debug === true)
  comm.barrier()
  const t0 = comm.wtime()
  runStages(plan.program, run, true)
  const value = finish(description.terminal, run)
  const seconds = comm.wtime() - t0
  return { value, seconds, steps: run.outerSteps, ...(run.measure === undefined ? {} : { measure: run.measure }) }
}

function compileAll(stages: ReadonlyArray<FieldStage>, run: GridRun, debug: boolean): void {
  for (const s of stages) {
    if (s.kind === "stencil") {
      if (debug) checkRadius(s.fn, s.radius, run.block, s.name)
      run.sweeps.set(s, compileSweep(s.fn, run.block.dims))
    } else if (s.kind === "iterate" || s.kind === "until") compileAll(s.body, run, debug)
  }
}

function runStages(stages: ReadonlyArray<FieldStage>, run: GridRun, outer: boolean): void {
  const block = run.block
  for (const s of stages) {
    switch (s.kind) {
      case "haloExchange":
        block.exchange(run.comm, run.pack)
        break
      case "stencil":
        run.sweeps.get(s)!(block.u, block.next, block)
        block.swap()
        break
      case "mapLocal":
        s.fn(block as Block)
        if (!s.inPlace) block.swap()
        break
      case "scan":
        scanLine(block, s.op, run.comm)
        break
      case "iterate":
        for (let step = 0; step < s.steps; step++) {
          runStages(s.body, run, false)
          block.step = step + 1
          if (outer) run.outerSteps = step + 1
          if (s.every !== undefined && (step + 1) % s.every.k === 0) observe(run, s.every.observe, step + 1)
        }
        break
      case "until":
        for (let step = 0; step < s.maxSteps; step++) {
          runStages(s.body, run, false)
          block.step = step + 1
          if (outer) run.outerSteps = step + 1
          if (s.every !== undefined && (step + 1) % s.every.k === 0) observe(run, s.every.observe, step + 1)
          if ((step + 1) % s.check !== 0 && step + 1 < s.maxSteps) continue
          const value = reduceValue(run.comm, "allreduce", s.measure(block), s.op) as number
          run.measure = value
          if (s.stop(value, step + 1)) break
        }
        break
    }
  }
}

function observe(run: GridRun, fn: (field: Float64Array, step: number) => void, step: number): void {
  const field = run.gatherField()
  if (field !== undefined) fn(field, step)
}

/** Inclusive prefix along a 1-D field: local prefix, then the exclusive scan of block totals. */
function scanLine(block: FieldBlock, op: NumberOp, comm: Comm): void {
  const u = block.u
  const g = block.ghost
  const end = g + block.count[0]!
  const concat = (op as { concat: (a: number, b: number) => number }).concat
  for (let i = g + 1; i < end; i++) u[i] = concat(u[i - 1]!, u[i]!)
  const before = reduceValue(comm, "exscan", u[end - 1]!, op) as number | undefined
  if (comm.rank > 0 && before !== undefined) for (let i = g; i < end; i++) u[i] = concat(before, u[i]!)
}

/** The whole field in global row-major order on rank 0. */
function gatherField(block: FieldBlock, plan: Plan, grid: Grid, comm: Comm): Float64Array | undefined {
  if (plan.source.kind !== "grid") throw new Error("unreachable")
  const gathered = comm.gatherv(block.interior(), 0)
  if (gathered === undefined || grid.dims === 1) return gathered
  const shape = grid.shape as ReadonlyArray<number>
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1))
  let at = 0
  for (const b of plan.source.layout.blocks) {
    // Copy the block row by row (rows run along the last dimension).
    const rowLength = b.count[grid.dims - 1]!
    const rows = b.count.slice(0, -1).reduce((a, c) => a * c, 1)
    for (let r = 0; r < rows; r++) {
      let rest = r
      let flat = 0
      for (let d = grid.dims - 2; d >= 0; d--) {
        const i = rest % b.count[d]!
        rest = Math.floor(rest / b.count[d]!)
        flat += (b.start[d]! + i) * shape.slice(d + 1).reduce((a, c) => a * c, 1)
      }
      flat += b.start[grid.dims - 1]!
      out.set(gathered.subarray(at, at + rowLength), flat)
      at += rowLength
    }
  }
  return out
}

function finish(terminal: Terminal, run: GridRun): unknown {
  if (terminal.kind === "gather") return run.gatherField()
  if (terminal.kind === "scan") throw new Error("unreachable: the planner rejects a field scan terminal")
  const local = terminal.local === undefined ? foldInterior(run.block, terminal.op as NumberOp) : terminal.local(run.block as Block)
  return reduceValue(run.comm, terminal.all ? "allreduce" : "reduce", local, terminal.op)
}

/** A reduction of a value whose type the description only knows at run time (comm's overloads check it then). */
function reduceValue(comm: Comm, call: "allreduce" | "reduce" | "exscan", value: unknown, op: ReduceOp<unknown> | NumberOp): unknown {
  const untyped = comm as unknown as Record<typeof call, (value: unknown, op: unknown) => unknown>
  return untyped[call].call(comm, value, op)
}

/** Folds the block's interior points in row-major order. */
function foldInterior(block: FieldBlock, op: NumberOp): number {
  const data = block.interior()
  const concat = (op as { concat: (a: number, b: number) => number }).concat
  let acc = data[0]!
  for (let i = 1; i < data.length; i++) acc = concat(acc, data[i]!)
  return acc
}
