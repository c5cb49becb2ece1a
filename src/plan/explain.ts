/**
 * `explain(plan)`: the plan in words — layout, per-rank ranges with ghosts and
 * neighbours, what each stage sends per run and how, buffers, merged stages
 * and warnings — or as JSON for tools.
 *
 * Layer: plan (pure).
 */
import { formatBytes } from "../comm/units.ts"
import type { GridPlan, MessageSpec, Plan, PlannedStage, RangePlan } from "./plan.ts"

/** Most per-rank rows printed before the table is elided. */
const MAX_ROWS = 16

/**
 * The plan as readable text.
 *
 * @example
 * ```ts
 * import { explain, Grid, Pipeline } from "rankflow"
 * const grid = Grid.line({ n: 10, boundary: Grid.dirichlet(0) })
 * const p = Pipeline.distribute(grid, (x) => x).iterate(5, (s) => s.haloExchange().stencil((u, i) => (u[i - 1]! + u[i + 1]!) / 2)).gather()
 * console.log(explain(Pipeline.plan(p, 3)))
 * ```
 */
export function explain(plan: Plan): string {
  const lines: string[] = []
  const source = plan.source
  if (source.kind === "grid") explainGrid(source, plan, lines)
  else explainRange(source, plan, lines)
  lines.push("", "stages:")
  for (const s of plan.stages) stageLines(s, lines)
  lines.push("", "result:")
  stageLines(plan.result, lines)
  if (plan.buffers.length > 0) lines.push("", "buffers:", ...plan.buffers.map((b) => `  ${b}`))
  if (plan.merged.length > 0) lines.push("", "merged:", ...plan.merged.map((m) => `  ${m}`))
  lines.push("", plan.warnings.length === 0 ? "warnings: none" : "warnings:", ...plan.warnings.map((w) => `  ! ${w}`))
  return lines.join("\n")
}

/** The plan as JSON (what `--explain --json` prints). */
export function explainJson(plan: Plan): string {
  const { program: _program, ...data } = plan
  return JSON.stringify(data, null, 2)
}

/** The fields line, for pipelines that are not one Float64 field computed from the coordinates (the plan says nothing new for those). */
function fieldLines(source: GridPlan): string[] {
  const plain = source.fields.length === 1 && source.fields[0]!.type === "float64" && source.fields[0]!.levels === 1 && source.fields[0]!.from === "a function of the coordinates"
  if (plain) return []
  return [`fields: ${source.fields.map((f) => `${f.name} ${f.type}${f.levels === 2 ? " (current and previous levels)" : ""} from ${f.from}`).join("; ")}`]
}

const range = (start: number, count: number): string => `[${start}, ${start + count})`
const neighbour = (r: number): string => (r < 0 ? "-" : String(r))

function explainGrid(source: GridPlan, plan: Plan, lines: string[]): void {
  const { layout } = source
  lines.push(
    `plan: ${source.dims}-D grid ${source.shape.join(" × ")} points (spacing ${source.spacing.map((h) => +h.toPrecision(6)).join(" × ")}) on ${plan.ranks} ranks`,
    `layout: ${layout.dims.join(" × ")} ranks (${source.layoutFrom === "extent" ? "chosen by extent" : "as given"}), ghost width ${plan.ghost}`,
    `boundary: ${source.boundary.map(([lo, hi], d) => `dim ${d} ${lo} | ${hi}`).join("; ")} — applied on global edges only`,
    ...fieldLines(source),
    "",
    `rank  ${"range".padEnd(source.dims * 16)} points     local (with ghosts)  neighbours (lo,hi per dim)`,
  )
  for (const b of layout.blocks.slice(0, MAX_ROWS)) {
    const ranges = b.start.map((s, d) => range(s, b.count[d]!)).join(" × ")
    const points = b.count.reduce((a, c) => a * c, 1)
    const local = b.count.map((c) => c + 2 * plan.ghost).join("×")
    const nbrs = b.neighbours.map(([lo, hi]) => `${neighbour(lo)},${neighbour(hi)}`).join("  ")
    lines.push(`${String(b.rank).padEnd(6)}${ranges.padEnd(source.dims * 16)} ${String(points).padEnd(10)} ${local.padEnd(20)} ${nbrs}`)
  }
  if (layout.blocks.length > MAX_ROWS) lines.push(`… ${layout.blocks.length - MAX_ROWS} more ranks`)
}

function explainRange(source: RangePlan, plan: Plan, lines: string[]): void {
  lines.push(
    `plan: range of ${source.n} items in ${source.chunks} chunks of ${source.chunk} on ${plan.ranks} ranks (${source.distribution}, seed ${source.seed})`,
    "",
  )
  if (source.distribution === "dynamic") {
    lines.push(`chunks taken on demand: each rank, when free, takes the next of the ${source.chunks} from a shared counter`)
    return
  }
  lines.push("rank  chunks  items")
  for (const [rank, chunks] of source.perRank.slice(0, MAX_ROWS).entries()) {
    const items = chunks.reduce((a, c) => a + Math.min(source.chunk, source.n - c * source.chunk), 0)
    const which = chunks.length === 0 ? "" : source.distribution === "block" ? ` (${range(chunks[0]!, chunks.length)})` : ` (${chunks[0]}, ${chunks[0]! + plan.ranks}, …)`
    lines.push(`${String(rank).padEnd(6)}${String(chunks.length).padEnd(8)}${items}${which}`)
  }
  if (source.perRank.length > MAX_ROWS) lines.push(`… ${source.perRank.length - MAX_ROWS} more ranks`)
}

function stageLines(s: PlannedStage, lines: string[]): void {
  lines.push(`  ${s.stage}${s.runs === 1 ? "" : `  ×${s.runs}`}`)
  for (const m of s.messages) lines.push(`      ${messageLine(m)}`)
  for (const n of s.notes) lines.push(`      ${n}`)
}

function messageLine(m: MessageSpec): string {
  return `${m.what}: ${m.count} message${m.count === 1 ? "" : "s"}, ${formatBytes(m.bytes)} per run — ${m.transport} (${m.reason})`
}

