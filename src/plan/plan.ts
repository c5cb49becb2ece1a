/**
 * The planner: from a pipeline description and a rank count to a Plan — rank
 * layout, per-rank ranges with ghosts, neighbours, the messages each step
 * sends (count, bytes, transport and why), buffers, merged stages, and the
 * problems it can prove before anything runs (a grid too small for its
 * ranks, a stencil wider than the ghosts, an unstable explicit scheme, ghosts
 * read before they are exchanged).
 *
 * Pure: no threads, no I/O — plans for 1 or 4096 ranks in microseconds.
 *
 * Layer: plan.
 */
import { InvalidArgument, InvalidPipeline, StaleGhosts } from "../errors.ts"
import { type Description, ELEMENT_BYTES, type ElementType, type FieldSpec, type FieldStage, type Terminal } from "./description.ts"
import { boundaryName, type Grid } from "./grid.ts"
import { chunksOf, type Distribution, layoutGrid, type GridLayout } from "./layout.ts"
import { chunkCount } from "./range.ts"
import { checkStability, stabilityLabel } from "./stability.ts"
import { sweepKernel } from "./linearStencil.ts"
import { type CacheSizes, DEFAULT_CACHE, type TemporalBlocking, temporalBlocking } from "./temporalBlocking.ts"

const BYTES = 8 // numbers travel as Float64

/** One kind of message a stage sends. */
export interface MessageSpec {
  /** What travels, e.g. `"ghost faces to neighbours (sendrecv per dimension and side)"`. */
  readonly what: string
  /** Messages per execution of the stage, over all ranks. */
  readonly count: number
  /** Bytes per execution of the stage, over all ranks. */
  readonly bytes: number
  /** How it travels: as raw bytes, serialized, or copied within a thread. */
  readonly transport: "buffer" | "serialized" | "buffer or serialized" | "local copy"
  /** Why the planner chose that transport. */
  readonly reason: string
}

/** A stage as planned: what it does, how often, what it sends. */
export interface PlannedStage {
  /** The stage's name as `explain` prints it. */
  readonly stage: string
  /** How many times it runs (iterations multiply). */
  readonly runs: number | string
  /** The messages it sends, by kind. */
  readonly messages: ReadonlyArray<MessageSpec>
  /** What else the planner has to say about it (e.g. the order results combine in). */
  readonly notes: ReadonlyArray<string>
}

export interface GridPlan {
  readonly kind: "grid"
  readonly dims: number
  readonly shape: ReadonlyArray<number>
  readonly spacing: ReadonlyArray<number>
  readonly boundary: ReadonlyArray<readonly [string, string]>
  readonly layout: GridLayout
  /** Whether the user fixed the rank layout (`rankDims`) or `decompose` chose it for the grid's extent. */
  readonly layoutFrom: "extent" | "rankDims"
  /** Local array length per rank, ghosts included. */
  readonly localLength: ReadonlyArray<number>
  /** The fields on the grid: name, element type, time levels kept. */
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: ElementType; readonly levels: 1 | 2; readonly from: string }>
}

export interface RangePlan {
  readonly kind: "range"
  readonly n: number
  readonly chunk: number
  readonly chunks: number
  readonly distribution: string
  readonly seed: number
  /** Chunk indices per rank. */
  readonly perRank: ReadonlyArray<ReadonlyArray<number>>
}

/** Everything the executor needs to know, and `explain()` prints. */
export interface Plan {
  /** Partitions (logical ranks) planned for. */
  readonly ranks: number
  /** How the grid or range is cut across the partitions. */
  readonly source: GridPlan | RangePlan
  /** The stages, in order, as planned. */
  readonly stages: ReadonlyArray<PlannedStage>
  /** How the result is collected. */
  readonly result: PlannedStage
  /** Buffers each rank allocates up front, in bytes (largest rank). */
  readonly bufferBytes: number
  /** The buffers each rank allocates, described. */
  readonly buffers: ReadonlyArray<string>
  /** Stages the planner merged. */
  readonly merged: ReadonlyArray<string>
  /** Things the planner cannot prove wrong but looks suspicious. */
  readonly warnings: ReadonlyArray<string>
  /** Ghost width used (0 for ranges). */
  readonly ghost: number
  /** The field stages after merging, for the executor. */
  readonly program: ReadonlyArray<FieldStage>
}

/** A reduction op's name for the plan: the built-in's name, or "user op". */
const opName = (op: unknown): string => (isBuiltin(op) ? op.name : "user op")

/** The built-in ops carry a tag and a name (checked here without loading comm's kernels). */
function isBuiltin(op: unknown): op is { readonly name: string } {
  const tag = (op as { _tag?: unknown })._tag
  return tag === "ElementwiseOp" || tag === "LocOp"
}

/**
 * Plans `description` on `ranks` ranks; throws `GridTooSmall`, `UnstableScheme`
 * or `InvalidPipeline` for what cannot run.
 */
export function plan(description: Description, ranks: number, rankDims?: ReadonlyArray<number>, cache: CacheSizes = DEFAULT_CACHE): Plan {
  if (!Number.isSafeInteger(ranks) || ranks < 1) throw new InvalidArgument("plan", "ranks", ranks, "must be a positive integer")
  const source = description.source
  if (source.kind === "range") return planRange(description, ranks)
  return planGrid(description, source.grid, ranks, rankDims ?? source.rankDims, cache)
}

function planRange(description: Description, ranks: number): Plan {
  const source = description.source
  if (source.kind !== "range") throw new Error("unreachable")
  const range = source.range
  const chunks = chunkCount(range)
  const perRank = Array.from({ length: ranks }, (_, r) => chunksOf(range, ranks, r, source.distribution))
  const idle = source.distribution === "dynamic" ? Math.max(0, ranks - chunks) : perRank.filter((c) => c.length === 0).length
  const warnings = idle > 0 ? [`${idle} of ${ranks} ranks have no chunk (${chunks} chunks of ${range.chunk}); use a smaller chunk or fewer ranks`] : []
  const result = planChunkResult(description.terminal, ranks, chunks)
  return {
    ranks,
    source: { kind: "range", n: range.n, chunk: range.chunk, chunks, distribution: source.distribution, seed: range.seed, perRank },
    stages: [{ stage: "mapLocal (per chunk)", runs: chunks, messages: [], notes: chunkNotes(source.distribution) }],
    result,
    bufferBytes: 0,
    buffers: [],
    merged: [],
    warnings,
    ghost: 0,
    program: [],
  }
}

function chunkNotes(distribution: Distribution): string[] {
  const notes = ["each chunk has its own random stream (seed, chunk), whatever rank runs it"]
  if (distribution === "dynamic") notes.push("a free rank takes the next chunk from a counter in shared memory (comm.fetchAndAdd): no message per chunk")
  return notes
}

function planChunkResult(terminal: Terminal, ranks: number, chunks: number): PlannedStage {
  const partials: MessageSpec = {
    what: "chunk results → rank 0, in chunk order",
    count: ranks - 1,
    bytes: chunks * BYTES,
    transport: "buffer or serialized",
    reason: "numbers travel as one Float64Array per rank (buffer); typed arrays and objects are serialized",
  }
  if (terminal.kind === "gather") return { stage: "gather", runs: 1, messages: ranks > 1 ? [partials] : [], notes: ["results listed in chunk order on rank 0"] }
  if (terminal.kind === "save") throw new InvalidPipeline("save", "a range has no field to save: gather or reduce its chunks")
  const fold = `folded with ${opName(terminal.op)} in chunk order on rank 0: the same result on any rank count`
  const messages = ranks > 1 ? [partials] : []
  if (terminal.kind === "scan") return { stage: "scan", runs: 1, messages, notes: ["inclusive prefixes in chunk order on rank 0"] }
  const bcast: MessageSpec = { what: "result → all ranks (bcast)", count: ranks - 1, bytes: (ranks - 1) * BYTES, transport: "buffer or serialized", reason: "as the result's type" }
  return {
    stage: terminal.all ? "allreduce" : "reduce",
    runs: 1,
    messages: terminal.all && ranks > 1 ? [...messages, bcast] : messages,
    notes: [fold],
  }
}

// ---- grids ------------------------------------------------------------------

interface Walk {
  /** Fields whose ghosts hold their neighbours' current values. */
  fresh: Set<number>
  readonly warnings: string[]
  readonly merged: string[]
  readonly fields: ReadonlyArray<FieldSpec>
}

function planGrid(description: Description, grid: Grid, ranks: number, rankDims: ReadonlyArray<number> | undefined, cache: CacheSizes): Plan {
  const source = description.source
  if (source.kind !== "grid") throw new Error("unreachable")
  const fields = source.fields
  const radius = maxRadius(description.stages)
  if (grid.ghost !== undefined && grid.ghost < radius)
    throw new InvalidPipeline("stencil", `radius ${radius} is wider than the grid's ghost width ${grid.ghost}; give the grid ghost: ${radius} or leave ghost unset`)
  checkStages(description.stages, grid)
  const walk: Walk = { fresh: new Set(), warnings: [], merged: [], fields }
  const merged = withExchangedFields(mergeExchanges(description.stages, walk), fields.length)
  const minimal = usesExchange(description.stages) ? Math.max(1, radius) : radius
  const lone = fields.length === 1 && fields[0]!.previous === undefined
  const blocking = grid.ghost === undefined && lone ? blockingOf(merged, grid, ranks, minimal, rankDims, fields[0]!.type, cache) : undefined
  const ghost = grid.ghost ?? (blocking !== undefined ? Math.max(minimal, blocking.ghost) : lone ? widerGhost(merged, grid, ranks, minimal, rankDims) : minimal)
  const layout = layoutGrid(grid, ranks, ghost, rankDims)
  const program = blockInTime(merged, ghost, walk, blocking, grid.dims, fields[0]?.type ?? "float64")
  const localLength = layout.blocks.map((b) => b.count.reduce((a, c) => a * (c + 2 * ghost), 1))
  const stages = planFieldStages(program, layout, 1, walk, "")
  let maxLength = 0 // a loop, not Math.max(...): a spread of 10⁶ ranks' lengths overflows the stack
  for (const length of localLength) if (length > maxLength) maxLength = length
  const packBytes = packBufferBytes(layout, fields)
  const levelBytes = fields.reduce((a, f) => a + (f.previous === undefined ? 2 : 3) * ELEMENT_BYTES[f.type], 0)
  return {
    ranks,
    source: {
      kind: "grid",
      dims: grid.dims,
      shape: grid.shape,
      spacing: grid.spacing,
      boundary: grid.boundary.map(([lo, hi]) => [boundaryName(lo), boundaryName(hi)] as const),
      layout,
      layoutFrom: rankDims === undefined ? "extent" : "rankDims",
      localLength,
      fields: fields.map((f) => ({ name: f.name, type: f.type, levels: f.previous === undefined ? 1 : 2, from: f.init.kind === "file" ? f.init.path : f.init.kind === "array" ? "rank 0's array" : "a function of the coordinates" })),
    },
    stages,
    result: planFieldResult(description.terminal, layout, grid, fields),
    bufferBytes: maxLength * levelBytes + packBytes,
    buffers: [
      ...fields.map(
        (f) =>
          `${f.previous === undefined ? 2 : 3} × ${ARRAY_NAME[f.type]}(${maxLength}) per rank: ${fields.length === 1 ? "the field" : `field ${f.name}`} with its ghost frame, ${f.previous === undefined ? "double-buffered and swapped each update" : "current, next and previous levels, rotated each update"}`,
      ),
      ...(packBytes > 0 ? [`${packBytes} B of pack buffers for ${fields.length > 1 ? "ghost faces (every exchanged field's face in one message)" : "strided ghost faces"}`] : []),
    ],
    merged: walk.merged,
    warnings: walk.warnings,
    ghost,
    program,
  }
}

const LABEL: Readonly<Record<ElementType, string>> = { float64: "Float64", float32: "Float32", int32: "Int32", uint8: "Uint8" }
const ARRAY_NAME: Readonly<Record<ElementType, string>> = { float64: "Float64Array", float32: "Float32Array", int32: "Int32Array", uint8: "Uint8Array" }

/** An `iterate` whose body is an exchange then one stencil (of a lone field): it can exchange less often with a wider ghost frame. */
function blockable(s: FieldStage): s is Extract<FieldStage, { kind: "iterate" }> & { body: readonly [{ kind: "haloExchange" }, Extract<FieldStage, { kind: "stencil" }>] } {
  return s.kind === "iterate" && s.body.length === 2 && s.body[0]!.kind === "haloExchange" && s.body[1]!.kind === "stencil" && s.body[1]!.radius > 0 && s.body[1]!.form === "array" && s.body[1]!.stale === undefined
}

/** Steps per exchange the planner picks for small 1-D blocks, where each exchange costs far more than the points it would save. */
const STEPS_PER_EXCHANGE = 8
/** Blocks up to this many points are latency-bound: an exchange (~2 µs) costs more than updating a few extra points. */
const LATENCY_BOUND_POINTS = 1 << 16

/**
 * The ghost width for a grid that does not fix one: the stencils' radius, or
 * STEPS_PER_EXCHANGE times it for small 1-D blocks iterated by exchange +
 * stencil — then ghosts are exchanged once every STEPS_PER_EXCHANGE steps.
 */
function widerGhost(stages: ReadonlyArray<FieldStage>, grid: Grid, ranks: number, minimal: number, rankDims: ReadonlyArray<number> | undefined): number {
  const loop = stages.find(blockable)
  if (loop === undefined || grid.dims !== 1 || ranks === 1) return minimal
  const wide = STEPS_PER_EXCHANGE * loop.body[1].radius
  if (Math.ceil(grid.shape[0] / ranks) > LATENCY_BOUND_POINTS) return minimal
  try {
    layoutGrid(grid, ranks, wide, rankDims)
    return Math.max(minimal, wide)
  } catch {
    return minimal
  }
}

/** Whether a loop's stencil is a declared linear stencil that runs the SIMD sweep (the one temporal blocking and window calls are for). */
const simdLoop = (s: Extract<FieldStage, { kind: "iterate" }> & { body: readonly [{ kind: "haloExchange" }, Extract<FieldStage, { kind: "stencil" }>] }, dims: number, type: ElementType): boolean =>
  s.body[1].linear !== undefined && sweepKernel(s.body[1], dims, type).kind === "simd"

/**
 * Temporal blocking for the first loop of exchange + declared SIMD stencil
 * (see temporalBlocking.ts), when boundaries need no refill between steps
 * (Neumann mirrors would: those loops keep the step-by-step sweep) and the
 * wider ghost frame fits the layout.
 */
function blockingOf(stages: ReadonlyArray<FieldStage>, grid: Grid, ranks: number, minimal: number, rankDims: ReadonlyArray<number> | undefined, type: ElementType, cache: CacheSizes): TemporalBlocking | undefined {
  const loop = stages.find(blockable)
  if (loop === undefined || !simdLoop(loop, grid.dims, type)) return undefined
  if (grid.boundary.some(([lo, hi]) => lo.kind === "neumann" || hi.kind === "neumann")) return undefined
  try {
    const blocks = layoutGrid(grid, ranks, minimal, rankDims).blocks
    const count = grid.shape.map((_, d) => blocks.reduce((a, b) => Math.max(a, b.count[d]!), 0))
    const blocking = temporalBlocking({ dims: grid.dims, count, ranks, radius: loop.body[1].radius, elementBytes: ELEMENT_BYTES[type], loopSteps: loop.steps, cache })
    if (blocking === undefined || blocking.steps <= 1) return undefined
    layoutGrid(grid, ranks, Math.max(minimal, blocking.ghost), rankDims)
    return blocking
  } catch {
    return undefined
  }
}

/** Marks the loops that exchange once every ghost/radius steps, and the temporally blocked one (all its steps between exchanges in one kernel call). */
function blockInTime(stages: ReadonlyArray<FieldStage>, ghost: number, walk: Walk, blocking: TemporalBlocking | undefined, dims: number, type: ElementType): FieldStage[] {
  let blocked = false
  return stages.map((s) => {
    if (!blockable(s)) return s
    const every = Math.min(s.steps, Math.floor(ghost / s.body[1].radius))
    if (every <= 1) return s
    walk.merged.push(`${s.body[1].name}: ghosts ${ghost} wide exchanged once every ${every} steps; the frame is updated redundantly in between (same results, ${every}× fewer messages)`)
    if (blocking === undefined || blocked || every !== blocking.steps || !simdLoop(s, dims, type)) return { ...s, exchangeEvery: every }
    blocked = true
    walk.merged.push(`${s.body[1].name}: ${blocking.why}; the same bits as step by step (each point's operations unchanged)`)
    return { ...s, exchangeEvery: every, temporalTile: blocking.tile }
  })
}

function maxRadius(stages: ReadonlyArray<FieldStage>): number {
  let r = 0
  for (const s of stages) {
    if (s.kind === "stencil") r = Math.max(r, s.radius)
    if (s.kind === "iterate" || s.kind === "until") r = Math.max(r, maxRadius(s.body))
  }
  return r
}

function usesExchange(stages: ReadonlyArray<FieldStage>): boolean {
  return stages.some((s) => s.kind === "haloExchange" || ((s.kind === "iterate" || s.kind === "until") && usesExchange(s.body)))
}

function checkStages(stages: ReadonlyArray<FieldStage>, grid: Grid): void {
  for (const s of stages) {
    if (s.kind === "stencil") checkStability(s.name, s, grid.dims)
    if (s.kind === "scan" && grid.dims !== 1) throw new InvalidPipeline("scan", `a scan runs along a 1-D grid, not a ${grid.dims}-D one`)
    if (s.kind === "iterate" || s.kind === "until") checkStages(s.body, grid)
  }
}

/**
 * Sets each exchange's fields: those the stencils after it read (up to the
 * next exchange, around the loop it is in); every field when a `mapLocal`
 * (which may read any ghost) follows or nothing reads.
 */
function withExchangedFields(stages: ReadonlyArray<FieldStage>, count: number, around: ReadonlyArray<FieldStage> = []): FieldStage[] {
  const all = Array.from({ length: count }, (_, f) => f)
  return stages.map((s, j) => {
    if (s.kind === "iterate" || s.kind === "until") return { ...s, body: withExchangedFields(s.body, count, s.body) }
    if (s.kind !== "haloExchange") return s
    const reads = new Set<number>()
    const after = [...stages.slice(j + 1), ...(around.length > 0 ? around.slice(0, j) : [])]
    const everything = readsUntilExchange(after, reads)
    return { ...s, fields: everything === "all" || reads.size === 0 ? all : [...reads].sort((a, b) => a - b) }
  })
}

/** Adds to `reads` the fields the stencils read up to the next exchange; "all" when a mapLocal may read anything; "stop" at an exchange. */
function readsUntilExchange(stages: ReadonlyArray<FieldStage>, reads: Set<number>): "all" | "stop" | undefined {
  for (const s of stages) {
    if (s.kind === "haloExchange") return "stop"
    if (s.kind === "mapLocal") return "all"
    if (s.kind === "stencil" && s.radius > 0) for (const f of s.reads) reads.add(f)
    if (s.kind === "iterate" || s.kind === "until") {
      const inner = readsUntilExchange(s.body, reads)
      if (inner !== undefined) return inner
    }
  }
  return undefined
}

/** Two exchanges with nothing between them are one exchange. */
function mergeExchanges(stages: ReadonlyArray<FieldStage>, walk: Walk): FieldStage[] {
  const out: FieldStage[] = []
  for (const s of stages) {
    if (s.kind === "haloExchange" && out.at(-1)?.kind === "haloExchange") {
      walk.merged.push("two consecutive haloExchange stages → one exchange")
      continue
    }
    out.push(s.kind === "iterate" || s.kind === "until" ? { ...s, body: mergeExchanges(s.body, walk) } : s)
  }
  return out
}

function planFieldStages(stages: ReadonlyArray<FieldStage>, layout: GridLayout, runs: number | string, walk: Walk, where: string): PlannedStage[] {
  const out: PlannedStage[] = []
  for (const s of stages) {
    switch (s.kind) {
      case "haloExchange": {
        const fields = s.fields ?? walk.fields.map((_, f) => f)
        for (const f of fields) walk.fresh.add(f)
        const which = walk.fields.length === 1 ? "" : `, fields ${fields.map((f) => walk.fields[f]!.name).join(", ")}`
        out.push({ stage: `${where}haloExchange (width ${layout.ghost}${which})`, runs, messages: haloMessages(layout, fields.map((f) => walk.fields[f]!)), notes: [] })
        break
      }
      case "stencil":
      case "mapLocal": {
        if (s.kind === "stencil" && s.radius > 0 && s.stale === undefined)
          for (const f of s.reads) if (!walk.fresh.has(f)) throw new StaleGhosts(s.name, walk.fields[f]!.name, walk.fields.length > 1)
        const written = s.kind === "stencil" ? s.outputs.map((o) => o.field) : s.writes
        for (const f of written) walk.fresh.delete(f)
        const names = (fs: ReadonlyArray<number>) => fs.map((f) => walk.fields[f]!.name).join(", ")
        const what =
          s.kind === "stencil"
            ? `stencil ${s.name} (radius ${s.radius}${stabilityLabel(s)}${walk.fields.length > 1 ? `; reads ${names(s.reads)}, writes ${names(written)}` : ""}${s.stale === undefined ? "" : "; stale ghosts allowed"}) — ${sweepKernel(s, layout.dims.length, walk.fields[s.outputs[0]!.field]!.type).label}`
            : `mapLocal ${s.name}${s.inPlace ? " (in place)" : ""}${walk.fields.length > 1 ? ` (writes ${names(written)})` : ""}`
        out.push({ stage: `${where}${what}`, runs, messages: [], notes: [] })
        break
      }
      case "scan":
        walk.fresh.delete(0)
        out.push({
          stage: `${where}scan ${opName(s.op)}`,
          runs,
          messages: [{ what: "exclusive scan of block totals", count: layout.blocks.length - 1, bytes: (layout.blocks.length - 1) * BYTES, transport: "buffer", reason: "one number per rank" }],
          notes: [],
        })
        break
      case "iterate":
      case "until": {
        const steps = s.kind === "iterate" ? s.steps : s.maxSteps
        const label = s.kind === "iterate" ? `iterate ${s.steps}` : `until (at most ${s.maxSteps} steps, measured every ${s.check})`
        const start = new Set(walk.fresh)
        // The first pass leaves the state one iteration leaves: what the second pass (the next iterations) starts from.
        // A stale read on the first iteration only, then, is reported by the first pass.
        planFieldStages(s.body, layout, 1, walk, "")
        walk.fresh = new Set([...walk.fresh].filter((f) => start.has(f) || walk.fresh.has(f)))
        const inner = planFieldStages(s.body, layout, typeof runs === "number" ? runs * steps : `${runs}×${steps}`, walk, `${where}  `)
        const every = s.kind === "iterate" ? (s.exchangeEvery ?? 1) : 1
        if (every > 1) inner[0] = { ...inner[0]!, stage: `${inner[0]!.stage}, every ${every} steps`, runs: typeof runs === "number" ? runs * Math.ceil(steps / every) : `${runs}×${Math.ceil(steps / every)}` }
        walk.warnings.splice(0, walk.warnings.length, ...new Set(walk.warnings))
        const notes: string[] = []
        const messages: MessageSpec[] = []
        if (s.kind === "until")
          messages.push({ what: `allreduce ${opName(s.op)} of the measure`, count: allreduceMessages(layout.blocks.length), bytes: allreduceMessages(layout.blocks.length) * BYTES, transport: "buffer", reason: "one number (fast lane)" })
        if (s.kind === "until") notes.push("one collective per check: an allreduce of the measure in a tree fixed by the rank count (lower ranks left); with several ranks per thread, one allgatherv of the measures folded in that same tree (same bits)")
        if (s.every !== undefined) notes.push(`every ${s.every.k} steps: the field is gathered on rank 0 and observed`)
        out.push({ stage: `${where}${label}`, runs, messages, notes }, ...inner)
        break
      }
    }
  }
  return out
}

/** Messages of a recursive-doubling allreduce on p ranks (p·log2 p for powers of two). */
function allreduceMessages(p: number): number {
  if (p === 1) return 0
  const pow = 2 ** Math.floor(Math.log2(p))
  return pow * Math.log2(pow) + 2 * (p - pow)
}

/** Ghost faces sent per exchange: every side with a neighbour, a face of ghost × (other extents, ghosts included), every exchanged field's face in one message. */
function haloMessages(layout: GridLayout, fields: ReadonlyArray<FieldSpec>): MessageSpec[] {
  const pointBytes = fields.reduce((a, f) => a + ELEMENT_BYTES[f.type], 0)
  let count = 0
  let bytes = 0
  let local = 0
  let strided = 0
  for (const b of layout.blocks) {
    b.neighbours.forEach((pair, d) => {
      for (const peer of pair) {
        if (peer < 0) continue
        if (peer === b.rank) local++
        else {
          count++
          bytes += faceLength(b.count, layout.ghost, d) * pointBytes
          if (d > 0) strided++
        }
      }
    })
  }
  const out: MessageSpec[] = []
  if (count > 0)
    out.push({
      what: "ghost faces to neighbours (sendrecv per dimension and side)",
      count,
      bytes,
      transport: "buffer",
      reason:
        fields.length > 1
          ? `the faces of ${fields.map((f) => `${f.name} (${f.type})`).join(", ")} packed into one message per neighbour`
          : strided > 0
            ? `${LABEL[fields[0]!.type]} faces: contiguous ones sent in place, strided ones packed first`
            : `${LABEL[fields[0]!.type]} faces, contiguous: sent in place`,
    })
  if (local > 0) out.push({ what: "periodic faces of a dimension held by one rank", count: local, bytes: 0, transport: "local copy", reason: "the neighbour is the rank itself" })
  return out
}

function faceLength(count: ReadonlyArray<number>, ghost: number, d: number): number {
  return count.reduce((a, c, e) => a * (e === d ? ghost : c + 2 * ghost), 1)
}

function packBufferBytes(layout: GridLayout, fields: ReadonlyArray<FieldSpec>): number {
  const pointBytes = fields.reduce((a, f) => a + ELEMENT_BYTES[f.type], 0)
  let most = 0
  for (const b of layout.blocks) {
    let bytes = 0
    for (let d = fields.length > 1 ? 0 : 1; d < b.count.length; d++) bytes += 2 * 2 * faceLength(b.count, layout.ghost, d) * pointBytes
    most = Math.max(most, bytes)
  }
  return most
}

function planFieldResult(terminal: Terminal, layout: GridLayout, grid: Grid, fields: ReadonlyArray<FieldSpec>): PlannedStage {
  const p = layout.blocks.length
  const points = grid.shape.reduce((a, b) => a * b, 1)
  if (terminal.kind === "gather") {
    const gathered = (terminal.fields ?? [0]).map((f) => fields[f]!)
    const pointBytes = gathered.reduce((a, f) => a + ELEMENT_BYTES[f.type], 0)
    const bytes = layout.blocks.slice(1).reduce((a, b) => a + b.count.reduce((x, y) => x * y, 1) * pointBytes, 0)
    const arrays = gathered.map((f) => `${fields.length > 1 ? `${f.name}: ` : ""}${ARRAY_NAME[f.type]}(${points})`).join(", ")
    return {
      stage: "gather",
      runs: 1,
      messages: p > 1 ? [{ what: "interior blocks → rank 0", count: gathered.length * (p - 1), bytes, transport: "buffer", reason: `${gathered.map((f) => LABEL[f.type]).join(", ")} blocks${gathered.length > 1 ? ", one gatherv per field" : ""}` }] : [],
      notes: [`${terminal.record === true ? `{ ${arrays} }` : arrays} in global order on rank 0`],
    }
  }
  if (terminal.kind === "scan") throw new InvalidPipeline("scan", "a field's scan is a stage: use .scan(op) before a gather or reduce")
  if (terminal.kind === "save")
    return {
      stage: "save",
      runs: 1,
      messages: [],
      notes: terminal.files.map(({ field, path }) => `${fields[field]!.name} → ${path}: each rank writes its block (${path.endsWith(".npy") ? ".npy, C order" : "raw little-endian"} ${LABEL[fields[field]!.type]}), no message but a barrier`),
    }
  const builtin = isBuiltin(terminal.op)
  return {
    stage: `${terminal.all ? "allreduce" : "reduce"} ${opName(terminal.op)}`,
    runs: 1,
    messages:
      p > 1
        ? [{
            what: terminal.all ? "partial results combined on every rank" : "partial results → rank 0 (binomial tree)",
            count: terminal.all ? allreduceMessages(p) : p - 1,
            bytes: (terminal.all ? allreduceMessages(p) : p - 1) * BYTES,
            transport: builtin ? "buffer" : "buffer or serialized",
            reason: builtin ? "numbers" : "a user op: numbers as buffer, other values serialized",
          }]
        : [],
    notes: [`each rank folds its interior points${terminal.local === undefined ? "" : " with the given local function"}, then ranks combine in rank order`],
  }
}
