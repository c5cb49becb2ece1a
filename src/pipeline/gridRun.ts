/**
 * A grid pipeline on this rank: one block per partition it holds, the stages
 * compiled to closures once (sweeps, exchanges, loops), run with no
 * allocation per step, and the result gathered or reduced.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { progressReporter } from "../runtime/progress.ts"
import { blockRange } from "../comm/partition.ts"
import type { Block, Description, Every, FieldStage, NumberOp, Terminal } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import type { Plan } from "../plan/plan.ts"
import { combineAcross } from "./collect.ts"
import type { ExecuteOptions, Prepared } from "./execute.ts"
import { checkRadius, compileSweep, FieldBlock, type Sweep } from "./field.ts"
import { HaloExchange, type Placement } from "./haloExchange.ts"
import { checkFiniteBlocks } from "./finite.ts"
import { checkFieldFold, checkOperand } from "./operands.ts"
import { untilLoop } from "./until.ts"

interface GridRun {
  readonly comm: Comm
  /** This thread's partitions' blocks, in partition order. */
  readonly blocks: ReadonlyArray<FieldBlock>
  readonly halo: HaloExchange
  readonly gatherField: () => Float64Array | undefined
  outerSteps: number
  measure?: number
  /** The plan's partitions (logical ranks); `until` loops combine their measure over them. */
  readonly partitions: number
  converged?: boolean
  /** `checkFinite`: scan the fields every this many outer steps (0: never). */
  readonly finiteEvery: number
}

export function prepareGrid(
  description: Description,
  grid: Grid,
  init: (...x: number[]) => number,
  plan: Plan,
  comm: Comm,
  partitions: ReadonlyArray<number>,
  options: ExecuteOptions,
): Prepared {
  if (plan.source.kind !== "grid") throw new Error("unreachable")
  const layout = plan.source.layout
  const blocks = partitions.map((p) => new FieldBlock(grid, layout.blocks[p]!, plan.ghost))
  for (const b of blocks) b.initialize(init)
  const owner = layout.blocks.map((_, p) => ownerOf(p, plan.ranks, comm.size))
  const placement: Placement = { owner, local: owner.map((t, p) => (t === comm.rank ? p - partitions[0]! : -1)) }
  const run: GridRun = {
    comm,
    blocks,
    halo: new HaloExchange(comm, blocks, placement),
    gatherField: () => gatherField(blocks, plan, grid, comm),
    outerSteps: 0,
    partitions: plan.ranks,
    finiteEvery: options.checkFinite ?? 0,
  }
  const program = compileProgram(plan.program, run, options.debug === true, true)
  let fresh = true
  return {
    reset: () => {
      if (!fresh) for (const b of blocks) b.initialize(init)
      for (const b of blocks) b.step = 0
      fresh = true
    },
    compute: () => {
      fresh = false
      run.outerSteps = 0
      run.converged = undefined
      program()
      return { steps: run.outerSteps, ...(run.measure === undefined ? {} : { measure: run.measure }), ...(run.converged === undefined ? {} : { converged: run.converged }) }
    },
    collect: () => finish(description.terminal, run),
  }
}

/** The thread holding partition p when P partitions are dealt to T threads in contiguous blocks. */
function ownerOf(p: number, partitions: number, threads: number): number {
  for (let t = 0; t < threads; t++) if (p < blockRange(partitions, threads, t)[1]) return t
  return threads - 1
}

/** A compiled stage: runs it once on every local block. */
type Step = () => void

/**
 * Turns the planned stages into closures once, at setup: a loop calls its
 * body's closures directly, with no dispatch on stage kinds per step (stage
 * objects have many shapes; reading `kind` in the hot loop was megamorphic).
 */
function compileProgram(stages: ReadonlyArray<FieldStage>, run: GridRun, debug: boolean, outer: boolean): Step {
  const steps = stages.map((s) => compileStage(s, run, debug, outer))
  if (steps.length === 1) return steps[0]!
  if (steps.length === 2) {
    const [a, b] = steps as [Step, Step]
    return () => {
      a()
      b()
    }
  }
  return () => {
    for (let i = 0; i < steps.length; i++) steps[i]!()
  }
}

function compileStage(s: FieldStage, run: GridRun, debug: boolean, outer: boolean): Step {
  const blocks = run.blocks
  switch (s.kind) {
    case "haloExchange":
      return () => run.halo.exchange()
    case "stencil": {
      const sweep = stencilSweep(s, blocks, debug)
      if (blocks.length === 1) {
        const b = blocks[0]!
        return () => {
          sweep(b.u, b.next, b)
          b.swap()
        }
      }
      return () => {
        for (let i = 0; i < blocks.length; i++) {
          const b = blocks[i]!
          sweep(b.u, b.next, b)
          b.swap()
        }
      }
    }
    case "mapLocal":
      return () => {
        for (let i = 0; i < blocks.length; i++) {
          s.fn(blocks[i]! as Block)
          if (!s.inPlace) blocks[i]!.swap()
        }
      }
    case "scan":
      return () => scanLine(blocks, s.op, run.comm)
    case "iterate": {
      if (s.exchangeEvery !== undefined && s.exchangeEvery > 1) return blockedLoop(s, s.exchangeEvery, run, debug, outer)
      const body = compileProgram(s.body, run, debug, false)
      const report = outer ? progressReporter("steps", s.steps) : undefined
      return () => {
        for (let step = 1; step <= s.steps; step++) {
          body()
          stepDone(run, step, outer, s.every, report)
        }
      }
    }
    case "until": {
      const report = outer ? progressReporter("steps (until converged)", s.maxSteps) : undefined
      return untilLoop(s, run, compileProgram(s.body, run, debug, false), (step) => stepDone(run, step, outer, s.every, report), report)
    }
  }
}

/** A stencil's sweep, compiled once (checked against its radius first in debug mode). */
function stencilSweep(s: Extract<FieldStage, { kind: "stencil" }>, blocks: ReadonlyArray<FieldBlock>, debug: boolean): Sweep {
  if (debug) for (const b of blocks) checkRadius(s.fn, s.radius, b, s.name)
  return compileSweep(s.fn, blocks[0]?.dims ?? 1)
}

/**
 * exchange + stencil, `every` steps per exchange: after an exchange of a frame
 * `every`·radius wide, step j updates the block widened by
 * (every − 1 − j)·radius into the frame, so each step's interior is exactly
 * what exchanging every step would give, with 1/every of the messages.
 */
function blockedLoop(s: Extract<FieldStage, { kind: "iterate" }>, every: number, run: GridRun, debug: boolean, outer: boolean): Step {
  const stencil = s.body[1]!
  if (stencil.kind !== "stencil") throw new Error("unreachable: the planner blocks exchange + stencil loops only")
  const sweep = stencilSweep(stencil, run.blocks, debug)
  const blocks = run.blocks
  const base = blocks.map((b) => ({ lo: b.lo, hi: b.hi }))
  const ranges = blocks.map((b) => Array.from({ length: every }, (_, j) => b.widened((every - 1 - j) * stencil.radius)))
  const report = outer ? progressReporter("steps", s.steps) : undefined
  return () => {
    for (let step = 0; step < s.steps; step++) {
      const j = step % every
      if (j === 0) run.halo.exchange()
      else for (const b of blocks) b.applyBoundaries()
      for (let i = 0; i < blocks.length; i++) {
        const b = blocks[i]!
        const range = ranges[i]![j]!
        b.lo = range.lo
        b.hi = range.hi
        sweep(b.u, b.next, b)
        b.swap()
      }
      stepDone(run, step + 1, outer, s.every, report) // observing gathers interiors: the widened ranges do not matter
    }
    // Back to the interior update ranges.
    for (let i = 0; i < blocks.length; i++) {
      blocks[i]!.lo = base[i]!.lo
      blocks[i]!.hi = base[i]!.hi
    }
  }
}

/** Counts a finished step (and reports it to `--progress`), and observes the field when the loop asks for it at this step. */
function stepDone(run: GridRun, step: number, outer: boolean, every: Every | undefined, report: ((done: number) => void) | undefined): void {
  const blocks = run.blocks
  for (let i = 0; i < blocks.length; i++) blocks[i]!.step = step
  if (outer) run.outerSteps = step
  if (outer && run.finiteEvery > 0 && step % run.finiteEvery === 0) checkFiniteBlocks(blocks, step)
  if (report !== undefined) report(step)
  if (every !== undefined && step % every.k === 0) observe(run, every.observe, step)
}

function observe(run: GridRun, fn: (field: Float64Array, step: number) => void, step: number): void {
  const field = run.gatherField()
  if (field !== undefined) fn(field, step)
}

/** Inclusive prefix along a 1-D field: each block's prefix, then the totals of the partitions before it, in partition order. */
function scanLine(blocks: ReadonlyArray<FieldBlock>, op: NumberOp, comm: Comm): void {
  const concat = (op as { concat: (a: number, b: number) => number }).concat
  const totals = blocks.map((b) => {
    const u = b.u
    const end = b.ghost + b.count[0]!
    for (let i = b.ghost + 1; i < end; i++) u[i] = concat(u[i - 1]!, u[i]!)
    return u[end - 1]!
  })
  const all = comm.allgatherv(Float64Array.from(totals))
  const first = blocks[0]?.block.rank ?? 0
  let before: number | undefined
  for (let p = 0; p < first; p++) before = before === undefined ? all[p]! : concat(before, all[p]!)
  for (const [j, b] of blocks.entries()) {
    if (before !== undefined) for (let i = b.ghost; i < b.ghost + b.count[0]!; i++) b.u[i] = concat(before, b.u[i]!)
    before = before === undefined ? all[first + j]! : concat(before, all[first + j]!)
  }
}

/** The whole field in global row-major order on rank 0. */
function gatherField(blocks: ReadonlyArray<FieldBlock>, plan: Plan, grid: Grid, comm: Comm): Float64Array | undefined {
  if (plan.source.kind !== "grid") throw new Error("unreachable")
  const mine = new Float64Array(blocks.reduce((a, b) => a + b.points, 0))
  let at = 0
  for (const b of blocks) {
    b.copyInterior(mine, at)
    at += b.points
  }
  const gathered = comm.gatherv(mine, 0)
  if (gathered === undefined || grid.dims === 1) return gathered
  const shape = grid.shape as ReadonlyArray<number>
  const out = new Float64Array(shape.reduce((a, b) => a * b, 1))
  at = 0
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
  const locals = run.blocks.map((b) => (terminal.local === undefined ? foldInterior(b, terminal.op as NumberOp) : terminal.local(b as Block)))
  for (const v of locals) (terminal.local === undefined ? checkFieldFold : checkOperand)(terminal, v, run.comm.rank)
  const result = combineAcross(locals, terminal.op, run.comm, terminal.all)
  if (terminal.local === undefined && result !== undefined) checkFieldFold(terminal, result, run.comm.rank)
  return result
}

/** Folds the block's interior points in row-major order. */
function foldInterior(block: FieldBlock, op: NumberOp): number {
  const data = new Float64Array(block.points)
  block.copyInterior(data, 0)
  const concat = (op as { concat: (a: number, b: number) => number }).concat
  let acc = data[0]!
  for (let i = 1; i < data.length; i++) acc = concat(acc, data[i]!)
  return acc
}
