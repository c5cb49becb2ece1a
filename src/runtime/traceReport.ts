/**
 * The supervisor's `--trace` report: per rank, what it sent (messages,
 * bytes, and on which lane — raw buffer, number, serialized), how long it
 * waited in blocking calls, which collectives it called; then who sent how
 * many messages to whom.
 *
 * Layer: runtime (supervisor side).
 */
import { MessageDetail, type TraceSummary } from "../comm/trace.ts"
import { formatBytes } from "../comm/units.ts"

function table(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 && c > 0 && rows[0]![c] === "collectives" ? cell : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n")
}

/** The report of every finished rank's trace (ranks in order). */
export function traceReport(traces: ReadonlyArray<TraceSummary>): string {
  const ranks = [...traces].sort((a, b) => a.rank - b.rank)
  const perRank = table([
    ["rank", "messages", "bytes", "buffer", "number", "serialized", "waiting s", "blocking calls", "collectives"],
    ...ranks.map((t) => [
      String(t.rank),
      String(t.sentTo.reduce((n, d) => n + d.messages, 0)),
      formatBytes(t.sentTo.reduce((n, d) => n + d.bytes, 0)),
      String(t.lanes.buffer.messages),
      String(t.lanes.number.messages),
      String(t.lanes.serialized.messages),
      `${t.sampledWaits === undefined ? "" : "≈"}${t.waitSeconds.toFixed(4)}`,
      String(t.waits),
      Object.entries(t.collectives).map(([name, calls]) => `${name} ${calls}`).join(", ") || "—",
    ]),
  ])
  const out = [`trace: messages each rank sent, by lane; time in blocking calls; collective calls`, perRank]
  const sampled = ranks.filter((t) => t.sampledWaits !== undefined)
  if (sampled.length > 0) {
    const [timed, waited] = sampled.reduce(([a, b], t) => [a + t.sampledWaits!.timed, b + t.sampledWaits!.waited], [0, 0])
    out.push(`≈: estimated from the ${timed} of ${waited} waits timed (a receive's when its message is one of its pair's first ${MessageDetail.full}, then one in ${MessageDetail.every})`)
  }
  const size = ranks[0]?.sentTo.length ?? 0
  if (size > 1 && size <= 16 && ranks.length === size)
    out.push(
      "",
      "messages sent (row: from rank, column: to rank)",
      table([["", ...ranks.map((t) => String(t.rank))], ...ranks.map((t) => [String(t.rank), ...t.sentTo.map((d, to) => (to === t.rank ? "-" : String(d.messages)))])]),
    )
  return `${out.join("\n")}\n`
}
