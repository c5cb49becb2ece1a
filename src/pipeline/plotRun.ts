/**
 * Drawing for `--plot` on ranks: the outermost loop observed every
 * `--plot-every` steps for a numbered series of frames, and the field picked
 * from a gathered result (a record's named or first field) and drawn on
 * rank 0. Loaded by `Pipeline.main` only when `--plot` is given.
 *
 * Layer: pipeline.
 */
import { InvalidOptions } from "../errors.ts"
import type { Description, FieldStage } from "../plan/description.ts"
import type { Grid } from "../plan/grid.ts"
import { writePlot, type PlotOptions } from "./plot.ts"
import { frameName, outerLoop, type PlotRequest } from "./plotOptions.ts"

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
