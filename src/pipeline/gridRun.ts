/**
 * A grid pipeline on this rank: one block per partition it holds, the stages
 * compiled to closures once (sweeps, exchanges, loops), run with no
 * allocation per step, and the result gathered or reduced.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { observationReporter } from "../runtime/dashboardFeed.ts"
import { progressReporter } from "../runtime/progress.ts"
import { blockRange } from "../comm/partition.ts"
import type { Description, Every, FieldSpec, FieldStage, NumberOp, Terminal } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import type { Plan } from "../plan/plan.ts"
import { combineAcross } from "./collect.ts"
import type { ExecuteOptions, Prepared } from "./execute.ts"
import { writeBlocks } from "./blockFile.ts"
import { arrayOf, compileSweep, FieldBlock, type Sweep } from "./field.ts"
import { checkEveryRead, probeStencil } from "./stencilProbe.ts"
import { type BlockWindow, linearSweep, linearWindows, simdMemory, type SimdMemory } from "./linearSweep.ts"
import { gatherFields, initializeFields, type FieldArrays } from "./fieldData.ts"
import { HaloExchange, type Placement } from "./haloExchange.ts"
import { checkFiniteBlocks } from "./finite.ts"
import { checkFieldFold, checkOperand } from "./operands.ts"
import { untilLoop } from "./until.ts"
import { type CheckpointPolicy, restoreCheckpoint, type Resume, saveCheckpoint } from "./checkpointRun.ts"
import { SpanKind, threadTimeline } from "../comm/timeline.ts"
import { LoopSpans, spanned } from "./spans.ts"

interface GridRun {
  readonly comm: Comm
  /** This thread's partitions' blocks, in partition order. */
  readonly blocks: ReadonlyArray<FieldBlock>
  /** The exchange of a set of fields (by index), built once per set. */
  readonly halo: (fields?: ReadonlyArray<number>) => HaloExchange
  /** Gathers these fields (default: what the loop observes) on rank 0. */
  readonly gatherField: (fields?: ReadonlyArray<number>, record?: boolean) => FieldArrays | undefined
  readonly specs: ReadonlyArray<FieldSpec>
  /** The grid's shape. */
  readonly shape: ReadonlyArray<number>
  outerSteps: number
  measure?: number
  /** The plan's partitions (logical ranks); `until` loops combine their measure over them. */
  readonly partitions: number
  converged?: boolean
  /** `checkFinite`: scan the fields every this many outer steps (0: never). */
  readonly finiteEvery: number
  /** Where a restarted run resumes; taken by the loop it names. */
  resume?: Resume
  readonly checkpoint?: CheckpointPolicy
  /** Top-level stages that are `until` loops (their checkpoints keep what measures compare). */
  readonly untilStages: ReadonlySet<number>
  /** The WebAssembly memory of the fields SIMD stencil sweeps write (none without such a stencil). */
  readonly simd: SimdMemory | undefined
  /** `--dashboard`: sends a preview of each observed field (rank 0; undefined otherwise). */
  readonly preview: ((step: number, values: ArrayLike<number>, shape: ReadonlyArray<number>) => void) | undefined
}

export function prepareGrid(description: Description, grid: Grid, specs: ReadonlyArray<FieldSpec>, plan: Plan, comm: Comm, partitions: ReadonlyArray<number>, options: ExecuteOptions): Prepared {
  if (plan.source.kind !== "grid") throw new Error("unreachable")
  const layout = plan.source.layout
  const simd = simdMemory(plan.program, grid.dims, specs, partitions.map((p) => layout.blocks[p]!), plan.ghost)
  const blocks = partitions.map((p) => new FieldBlock(grid, layout.blocks[p]!, plan.ghost, specs, simd?.alloc))
  const owner = layout.blocks.map((_, p) => ownerOf(p, plan.ranks, comm.size))
  const placement: Placement = { owner, local: owner.map((t, p) => (t === comm.rank ? p - partitions[0]! : -1)) }
  const where = { layout, shape: grid.shape, owner }
  initializeFields(blocks, specs, where, comm)
  const exchanges = new Map<string, HaloExchange>()
  const all = specs.map((_, f) => f)
  const run: GridRun = {
    comm,
    blocks,
    halo: (fields = all) => {
      const key = fields.join(",")
      let halo = exchanges.get(key)
      if (halo === undefined) exchanges.set(key, (halo = new HaloExchange(comm, blocks, placement, fields)))
      return halo
    },
    specs,
    shape: grid.shape,
    // A loop observes what its pipeline's source declares: the lone field of `distribute(grid, init)`, every field of a record.
    gatherField: (fields = all, record = description.source.kind === "grid" && description.terminal.kind === "gather" ? description.terminal.record === true : specs.length > 1) =>
      gatherFields(blocks, layout, grid, specs, fields, comm, record),
    outerSteps: 0,
    partitions: plan.ranks,
    finiteEvery: options.checkFinite ?? 0,
    ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
    untilStages: new Set(plan.program.flatMap((s, k) => (s.kind === "until" ? [k] : []))),
    simd,
    preview: observationReporter(specs[0]?.name ?? "u"),
  }
  const top = plan.program.map((s, k) => compileStage(s, run, options.debug === true, true, k))
  // A restarted run skips the stages before the loop its checkpoint was taken in.
  const program = () => {
    for (let k = run.resume?.stage ?? 0; k < top.length; k++) top[k]!()
  }
  if (options.restart !== undefined) run.resume = restoreCheckpoint(run, options.restart, plan.program)
  let fresh = true
  return {
    reset: () => {
      if (!fresh) initializeFields(blocks, specs, where, comm)
      for (const b of blocks) b.step = 0
      run.resume = undefined
      fresh = true
    },
    compute: () => {
      fresh = false
      const resumedFrom = run.resume?.step
      run.outerSteps = resumedFrom ?? 0
      run.converged = undefined
      program()
      return {
        steps: run.outerSteps,
        ...(run.measure === undefined ? {} : { measure: run.measure }),
        ...(run.converged === undefined ? {} : { converged: run.converged }),
        ...(resumedFrom === undefined ? {} : { resumedFrom }),
      }
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
  const steps = stages.map((s) => compileStage(s, run, debug, outer, -1))
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

/**
 * The step a top-level loop starts after: 0, or the checkpoint's step when
 * the run restarts in this loop (taken once: a second run starts afresh).
 */
function firstStep(run: GridRun, stage: number): number {
  const resume = run.resume
  if (resume === undefined || resume.stage !== stage) return 0
  run.resume = undefined
  return resume.step
}

/** The span a stage records in a `--trace=FILE.json` timeline (loops record their stages' spans, none of their own). */
const SPAN_OF: Readonly<Partial<Record<FieldStage["kind"], number>>> = { haloExchange: SpanKind.exchange, stencil: SpanKind.stencil, mapLocal: SpanKind.map, scan: SpanKind.scan }

/**
 * `stage`: the index of a top-level stage (its loop's steps are the run's steps: checkpoints, progress), −1 inside a loop.
 * With a timeline, a stage records a span each time it runs (inside a loop: with the step it computes).
 */
function compileStage(s: FieldStage, run: GridRun, debug: boolean, outer: boolean, stage: number): Step {
  const step = stageBody(s, run, debug, outer, stage)
  const kind = SPAN_OF[s.kind]
  // Inside a loop the loop records its stages' spans (loopBody); a top-level stage records its own.
  return kind === undefined || !outer ? step : spanned(step, kind, () => -1)
}

/**
 * A loop's body, and what the loop calls when it ends. With a timeline, the
 * body records a span per stage with the step it computes — on every step
 * while steps are long, on one in k when they are short (LoopSpans), the
 * others being `steps` spans — and `end` closes the last of those.
 */
function loopBody(stages: ReadonlyArray<FieldStage>, run: GridRun, debug: boolean): { readonly body: Step; readonly end: () => void } {
  const timeline = threadTimeline()
  if (timeline === null) return { body: compileProgram(stages, run, debug, false), end: () => {} }
  const steps = stages.map((s) => compileStage(s, run, debug, false, -1))
  const kinds = stages.map((s) => SPAN_OF[s.kind] ?? 0)
  const spans = new LoopSpans(timeline, kinds.filter((k) => k > 0).length)
  const first = run.blocks[0]
  return {
    body: () => {
      const step = first === undefined ? -1 : first.step + 1
      if (!spans.detail()) {
        spans.join(step, 1)
        for (let i = 0; i < steps.length; i++) steps[i]!()
        return
      }
      let t = performance.now()
      spans.close(t)
      const start = t
      for (let i = 0; i < steps.length; i++) {
        steps[i]!()
        const now = performance.now()
        if (kinds[i]! > 0) timeline.span(kinds[i]!, t, now, step, 1)
        t = now
      }
      spans.ended(t, t - start)
    },
    end: () => spans.end(performance.now()),
  }
}

function stageBody(s: FieldStage, run: GridRun, debug: boolean, outer: boolean, stage: number): Step {
  const blocks = run.blocks
  switch (s.kind) {
    case "haloExchange": {
      const halo = run.halo(s.fields)
      return () => halo.exchange()
    }
    case "stencil": {
      const sweep = stencilSweep(s, blocks, debug, run.simd)
      const written = s.outputs.map((o) => o.field)
      if (blocks.length === 1 && written.length === 1) {
        const b = blocks[0]!
        const f = written[0]!
        return () => {
          sweep(b)
          b.rotate(f)
        }
      }
      return () => {
        for (let i = 0; i < blocks.length; i++) {
          const b = blocks[i]!
          sweep(b)
          for (let j = 0; j < written.length; j++) b.rotate(written[j]!)
        }
      }
    }
    case "mapLocal": {
      const kernel = s.fn as (block: FieldBlock) => void
      const written = s.inPlace ? [] : s.writes
      return () => {
        for (let i = 0; i < blocks.length; i++) {
          kernel(blocks[i]!)
          for (let j = 0; j < written.length; j++) blocks[i]!.rotate(written[j]!)
        }
      }
    }
    case "scan":
      return () => scanLine(blocks, s.op, run.comm)
    case "iterate": {
      if (s.exchangeEvery !== undefined && s.exchangeEvery > 1) return blockedLoop(s, s.exchangeEvery, run, debug, outer, stage)
      const { body, end } = loopBody(s.body, run, debug)
      const report = outer ? progressReporter("steps", s.steps) : undefined
      return () => {
        for (let step = firstStep(run, stage) + 1; step <= s.steps; step++) {
          body()
          stepDone(run, step, outer, s.every, report, stage)
        }
        end()
      }
    }
    case "until": {
      const report = outer ? progressReporter("steps (until converged)", s.maxSteps) : undefined
      const { body, end } = loopBody(s.body, run, debug)
      const loop = untilLoop(s, run, body, (step) => stepDone(run, step, outer, s.every, report, stage), report, () => firstStep(run, stage))
      return () => {
        loop()
        end()
      }
    }
  }
}

/** A stencil's sweep, compiled once, after a probe of its reads (on every point in debug mode). */
function stencilSweep(s: Extract<FieldStage, { kind: "stencil" }>, blocks: ReadonlyArray<FieldBlock>, debug: boolean, simd: SimdMemory | undefined): Sweep {
  if (debug) for (const b of blocks) checkEveryRead(s, b)
  else if (blocks.length > 0) probeStencil(s, blocks[0]!)
  return linearSweep(s, blocks, simd) ?? compileSweep(s, blocks[0]?.dims ?? 1)
}

/**
 * exchange + stencil, `every` steps per exchange: after an exchange of a frame
 * `every`·radius wide, step j updates the block widened by
 * (every − 1 − j)·radius into the frame, so each step's interior is exactly
 * what exchanging every step would give, with 1/every of the messages.
 */
function blockedLoop(s: Extract<FieldStage, { kind: "iterate" }>, every: number, run: GridRun, debug: boolean, outer: boolean, stage: number): Step {
  const stencil = s.body[1]!
  if (stencil.kind !== "stencil") throw new Error("unreachable: the planner blocks exchange + stencil loops only")
  const sweep = stencilSweep(stencil, run.blocks, debug, run.simd)
  const windows = s.temporalTile === undefined ? undefined : linearWindows(stencil, run.blocks, run.simd, every, s.temporalTile)
  if (windows !== undefined) return windowLoop(s, every, windows, run, outer, stage)
  const blocks = run.blocks
  const base = blocks.map((b) => ({ lo: b.lo, hi: b.hi }))
  const ranges = blocks.map((b) => Array.from({ length: every }, (_, j) => b.widened((every - 1 - j) * stencil.radius)))
  const report = outer ? progressReporter("steps", s.steps) : undefined
  const halo = run.halo([0])
  // With a timeline: a cycle (an exchange, then the sweeps up to the next) recorded in detail is an exchange span
  // and one stencil span for its sweeps (`steps`); short cycles are sampled (LoopSpans), the others `steps` spans.
  const timeline = threadTimeline()
  const spans = timeline === null ? null : new LoopSpans(timeline, 2)
  let open = false // a detailed cycle's sweeps are running
  let sweepsFrom = 0
  let sweepsFirst = 0
  let cycleFrom = 0
  return () => {
    const first = firstStep(run, stage)
    for (let step = first; step < s.steps; step++) {
      const j = step % every
      // A restart mid-cycle exchanges at once: a fresh frame is valid for any narrower update range.
      if (j === 0 || step === first) {
        if (timeline === null || spans === null) halo.exchange()
        else {
          let t = 0
          if (open) {
            t = performance.now()
            timeline.span(SpanKind.stencil, sweepsFrom, t, sweepsFirst + 1, step - sweepsFirst)
            spans.ended(t, (t - cycleFrom) / (step - sweepsFirst))
            open = false
          }
          if (spans.detail()) {
            if (t === 0) t = performance.now()
            spans.close(t)
            cycleFrom = t
            halo.exchange()
            sweepsFrom = performance.now()
            sweepsFirst = step
            timeline.span(SpanKind.exchange, t, sweepsFrom, step + 1, 1)
            open = true
          } else {
            spans.join(step + 1, Math.min(s.steps, step - j + every) - step)
            halo.exchange()
          }
        }
      } else for (const b of blocks) b.applyBoundaries()
      for (let i = 0; i < blocks.length; i++) {
        const b = blocks[i]!
        const range = ranges[i]![j]!
        b.lo = range.lo
        b.hi = range.hi
        sweep(b)
        b.rotate(0)
      }
      stepDone(run, step + 1, outer, s.every, report, stage) // observing gathers interiors: the widened ranges do not matter
    }
    if (timeline !== null && spans !== null) {
      const t = performance.now()
      if (open) timeline.span(SpanKind.stencil, sweepsFrom, t, sweepsFirst + 1, s.steps - sweepsFirst)
      spans.end(t)
      open = false
    }
    // Back to the interior update ranges.
    for (let i = 0; i < blocks.length; i++) {
      blocks[i]!.lo = base[i]!.lo
      blocks[i]!.hi = base[i]!.hi
    }
  }
}

/**
 * A loop blocked in time (temporalBlocking.ts): one exchange, then up to
 * `every` steps in one kernel call per block; a window ends early where a step
 * must see the whole field (observed, checkpointed, checked for finite values),
 * and the next starts with an exchange (a fresh frame is valid for any window
 * up to `every` steps).
 */
function windowLoop(s: Extract<FieldStage, { kind: "iterate" }>, every: number, windows: ReadonlyArray<BlockWindow>, run: GridRun, outer: boolean, stage: number): Step {
  const blocks = run.blocks
  const report = outer ? progressReporter("steps", s.steps) : undefined
  const halo = run.halo([0])
  // Ranks compute a whole window between exchanges: the neighbours' ghosts arrive about when this rank's sweeps end.
  halo.patient = true
  const periods = [s.every?.k, stage >= 0 ? run.checkpoint?.every : undefined, outer ? run.finiteEvery : undefined].filter((p): p is number => p !== undefined && p > 0)
  // With a timeline, each window is an exchange span and one stencil span for its k steps: a window is
  // tens of steps, so two spans per window cost about 1% (no sampling needed, unlike blockedLoop).
  const timeline = threadTimeline()
  return () => {
    let step = firstStep(run, stage)
    while (step < s.steps) {
      let k = Math.min(every, s.steps - step)
      for (let i = 0; i < periods.length; i++) k = Math.min(k, periods[i]! - (step % periods[i]!))
      const t0 = timeline === null ? 0 : performance.now()
      halo.exchange()
      const t1 = timeline === null ? 0 : performance.now()
      for (let i = 0; i < blocks.length; i++) {
        windows[i]!(every - k, k)
        if ((k & 1) === 1) blocks[i]!.rotate(0)
      }
      if (timeline !== null) {
        timeline.span(SpanKind.exchange, t0, t1, step + 1, 1)
        timeline.span(SpanKind.stencil, t1, performance.now(), step + 1, k)
      }
      for (let q = 1; q <= k; q++) stepDone(run, step + q, outer, s.every, report, stage)
      step += k
    }
  }
}

/** Counts a finished step (and reports it to `--progress`), and observes the field when the loop asks for it at this step. */
function stepDone(run: GridRun, step: number, outer: boolean, every: Every<FieldArrays> | undefined, report: ((done: number) => void) | undefined, stage: number): void {
  const blocks = run.blocks
  for (let i = 0; i < blocks.length; i++) blocks[i]!.step = step
  if (outer) run.outerSteps = step
  if (outer && run.finiteEvery > 0 && step % run.finiteEvery === 0) checkFiniteBlocks(blocks, step)
  if (stage >= 0 && run.checkpoint !== undefined && step % run.checkpoint.every === 0) saveCheckpoint(run, run.checkpoint, stage, step, run.untilStages.has(stage))
  if (report !== undefined) report(step)
  if (every !== undefined && step % every.k === 0) observe(run, every.observe, step)
}

function observe(run: GridRun, fn: (field: FieldArrays, step: number) => void, step: number): void {
  const field = run.gatherField()
  if (field === undefined) return
  fn(field, step)
  if (run.preview !== undefined) {
    // The dashboard previews the first field (of a record, its first typed array).
    const values = ArrayBuffer.isView(field) ? field : Object.values(field).find((v) => ArrayBuffer.isView(v))
    if (values !== undefined) run.preview(step, values as unknown as ArrayLike<number>, run.shape)
  }
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

function finish(terminal: Terminal, run: GridRun): unknown {
  if (terminal.kind === "gather") return run.gatherField(terminal.fields ?? [0], terminal.record === true)
  if (terminal.kind === "save") return saveFields(terminal.files, run)
  if (terminal.kind === "scan") throw new Error("unreachable: the planner rejects a field scan terminal")
  const local = terminal.local as ((b: FieldBlock) => unknown) | undefined
  const locals = run.blocks.map((b) => (local === undefined ? foldInterior(b, terminal.op as NumberOp, terminal.field ?? 0) : local(b)))
  for (const v of locals) (local === undefined ? checkFieldFold : checkOperand)(terminal, v, run.comm.rank)
  const result = combineAcross(locals, terminal.op, run.comm, terminal.all)
  if (local === undefined && result !== undefined) checkFieldFold(terminal, result, run.comm.rank)
  return result
}

/** Each rank writes its blocks of each field; rank 0 returns the path (or the record of paths). */
function saveFields(files: ReadonlyArray<{ readonly field: number; readonly path: string }>, run: GridRun): unknown {
  const blocks = run.blocks
  const specs = run.specs
  for (const { field, path } of files) {
    const spec = specs[field]!
    const datas = blocks.map((b) => {
      const data = arrayOf(spec.type, b.points)
      b.copyInterior(data, 0, field)
      return data
    })
    writeBlocks(path, { shape: run.shape, type: spec.type, format: path.endsWith(".npy") ? "npy" : "raw" }, blocks.map((b) => b.block), datas, run.comm)
  }
  if (run.comm.rank !== 0) return undefined
  return specs.length === 1 ? files[0]!.path : Object.fromEntries(files.map((f) => [specs[f.field]!.name, f.path]))
}

/** Folds the block's interior points in row-major order. */
function foldInterior(block: FieldBlock, op: NumberOp, field: number): number {
  const data = new Float64Array(block.points)
  block.copyInterior(data, 0, field)
  const concat = (op as { concat: (a: number, b: number) => number }).concat
  let acc = data[0]!
  for (let i = 1; i < data.length; i++) acc = concat(acc, data[i]!)
  return acc
}
