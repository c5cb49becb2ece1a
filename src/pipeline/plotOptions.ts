/**
 * `--plot FILE`, `--plot-field NAME`, `--plot-every K` of `Pipeline.main`:
 * the request and its checks against a pipeline's description before any
 * rank starts. Light on purpose (no PNG or SVG code): every pipeline
 * program loads it; ranks load the drawing (plotRun.ts) only when asked.
 *
 * Layer: pipeline.
 */
import { accessSync, constants, statSync } from "node:fs"
import { basename, dirname, extname, join } from "node:path"
import { InvalidOptions } from "../errors.ts"
import type { Description, FieldStage } from "../plan/description.ts"

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
export function outerLoop(stages: ReadonlyArray<FieldStage>): number | undefined {
  const at = stages.findIndex((s) => s.kind === "iterate" || s.kind === "until")
  return at < 0 ? undefined : at
}

/** Frame `step` of a series for `file`: `heat.png` → `heat-000100.png` (digits enough for `last`). */
export function frameName(file: string, step: number, last: number): string {
  const ext = extname(file)
  return join(dirname(file), `${basename(file, ext)}-${String(step).padStart(String(last).length, "0")}${ext}`)
}

/** The format a path asks for, or `InvalidOptions` naming the allowed endings. */
export function plotKind(path: string): "png" | "svg" {
  const lower = path.toLowerCase()
  if (lower.endsWith(".png")) return "png"
  if (lower.endsWith(".svg")) return "svg"
  throw new InvalidOptions("--plot", `expected a file ending in .png or .svg, got '${path}'`)
}
