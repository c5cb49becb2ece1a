/**
 * `--plot FILE`, `--plot-field NAME`, `--plot-every K` of `Pipeline.main`:
 * checking them against a pipeline's description before any rank starts,
 * observing the outermost loop for a numbered series of frames, and
 * picking the field to draw from a gathered result on rank 0.
 *
 * Layer: pipeline.
 */
import { accessSync, constants, statSync } from "node:fs"
import { basename, dirname, extname, join } from "node:path"
import { InvalidOptions } from "../errors.ts"
import type { Description, FieldStage } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import { plotKind, writePlot, type PlotOptions } from "./plot.ts"

/** What the command line asked for. */
export interface PlotRequest {
  /** The picture of the result: `.png` or `.svg`. */
  readonly file: string
  /** The field of a gathered record to draw (default: the first). */
  readonly field?: string
  /** Also write frame `FILE-<step>.png` every this many steps of the outermost loop. */
  readonly every?: number
}

/**
 * Refuses, with `InvalidOptions`, a `--plot` the pipeline cannot honour: a
 * file that is neither `.png` nor `.svg` or cannot be written, a pipeline
 * whose result is not a gathered grid field (a range reduction, a `save`,
 * a `.map` of the field), a `--plot-field` the grid does not declare, a
 * `--plot-every` without a loop.
 */
export function checkPlot(description: Description, request: PlotRequest): void {
  plotKind(request.file)
  const { source, terminal } = description
  if (source.kind !== "grid") throw new InvalidOptions("--plot", "this pipeline has no grid field to draw (it distributes a range, not a grid)")
  if (terminal.kind !== "gather") throw new InvalidOptions("--plot", `this pipeline ends in ${terminal.kind}(), not gather(): no field reaches rank 0 to draw`)
  if (description.finish !== undefined) throw new InvalidOptions("--plot", "this pipeline maps its gathered field (.map): --plot draws the field itself")
  if (request.field !== undefined) {
    const names = source.fields.map((f) => f.name)
    const gathered = terminal.fields === undefined ? (names.length > 1 ? names : names.slice(0, 1)) : terminal.fields.map((f) => names[f]!)
    if (!gathered.includes(request.field)) throw new InvalidOptions("--plot-field", `expected one of the gathered fields (${gathered.join(", ")}), got '${request.field}'`)
  }
  if (request.every !== undefined && outerLoop(description.stages) === undefined) throw new InvalidOptions("--plot-every", "this pipeline has no iterate or until loop to take frames of")
  checkWritable(request.file)
}

/** A writable file: its directory exists and is writable, and it is not itself a directory. */
function checkWritable(file: string): void {
  const dir = dirname(file)
  const where = statSync(dir, { throwIfNoEntry: false })
  if (where === undefined || !where.isDirectory()) throw new InvalidOptions("--plot", `cannot write ${file}: no directory ${dir}`)
  const existing = statSync(file, { throwIfNoEntry: false })
  if (existing?.isDirectory() === true) throw new InvalidOptions("--plot", `cannot write ${file}: it is a directory`)
  try {
    accessSync(existing === undefined ? dir : file, constants.W_OK)
  } catch {
    throw new InvalidOptions("--plot", `cannot write ${file}: permission denied`)
  }
}

/** Index of the first top-level `iterate` or `until` stage. */
function outerLoop(stages: ReadonlyArray<FieldStage>): number | undefined {
  const at = stages.findIndex((s) => s.kind === "iterate" || s.kind === "until")
  return at < 0 ? undefined : at
}

/** Frame `step` of a series for `file`: `heat.png` → `heat-000100.png` (digits enough for `last`). */
export function frameName(file: string, step: number, last: number): string {
  const ext = extname(file)
  return join(dirname(file), `${basename(file, ext)}-${String(step).padStart(String(last).length, "0")}${ext}`)
}

/**
 * The description with its outermost loop also observed every
 * `request.every` steps, writing a frame on rank 0 (a loop's own `every`
 * keeps being called at its own steps).
 */
export function withFrames(description: Description, request: PlotRequest, options: PlotOptions): Description {
  const at = outerLoop(description.stages)
  const every = request.every
  if (at === undefined || every === undefined) return description
  const loop = description.stages[at] as Extract<FieldStage, { kind: "iterate" | "until" }>
  const last = loop.kind === "iterate" ? loop.steps : loop.maxSteps
  const grid = (description.source as { readonly grid: Grid }).grid
  const frame = (field: unknown, step: number): void => {
    const [values, name] = pickField(field, request.field)
    writePlot(frameName(request.file, step, last), values, grid, { ...options, title: `${titleOf(options, name)}, step ${step}`, labels: { value: name } })
  }
  const own = loop.every
  const k = own === undefined ? every : gcd(own.k, every)
  const observe = own === undefined ? frame : (field: unknown, step: number): void => {
    if (step % own.k === 0) own.observe(field, step)
    if (step % every === 0) frame(field, step)
  }
  const stages = description.stages.map((s, i) => (i === at ? { ...loop, every: { k, observe } } : s))
  return { ...description, stages }
}

/** Draws the gathered result (rank 0). */
export function plotResult(value: unknown, description: Description, request: PlotRequest, options: PlotOptions): void {
  const grid = (description.source as { readonly grid: Grid }).grid
  const [values, name] = pickField(value, request.field)
  writePlot(request.file, values, grid, { ...options, title: titleOf(options, name), labels: { value: name } })
}

const titleOf = (options: PlotOptions, name: string): string => (options.title === undefined ? name : `${options.title}: ${name}`)

/** A gathered field's values and name: the array itself (named u), or a record's named or first field. */
function pickField(value: unknown, field: string | undefined): readonly [ArrayLike<number>, string] {
  if (ArrayBuffer.isView(value)) return [value as unknown as ArrayLike<number>, field ?? "u"]
  if (typeof value === "object" && value !== null) {
    const record = value as Readonly<Record<string, unknown>>
    const name = field ?? Object.keys(record).find((k) => k !== "prev" && ArrayBuffer.isView(record[k]))
    const picked = name === undefined ? undefined : record[name]
    if (name !== undefined && ArrayBuffer.isView(picked)) return [picked as unknown as ArrayLike<number>, name]
  }
  throw new InvalidOptions("--plot", `the pipeline's result has no field${field === undefined ? "" : ` '${field}'`} to draw`)
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b)
}
