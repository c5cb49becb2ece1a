/**
 * The supervisor's progress display: one bar per label rank 0 reports
 * (a pipeline's loop, a farm's tasks), on stderr.
 *
 * On a terminal the bars live on the bottom lines, outside the terminal's
 * scrolling region (DECSTBM): ranks write their output straight to the
 * process's descriptors, from other threads, at any moment, so the bars
 * cannot be cleared and redrawn around each line (cli-progress's `log()`
 * does that for output that passes through it). Rank output scrolls above
 * the bars and never shares a line with them; each redraw is one write that
 * saves and restores the cursor. At the end the bars are erased, the region
 * reset, and their final state printed after the output.
 *
 * Off a terminal, cli-progress prints the bars as lines every few seconds
 * and once at the end, so logs show the run advancing.
 *
 * Layer: runtime (supervisor side).
 */
import { createRequire } from "node:module"
import type * as CliProgress from "cli-progress"

export interface ProgressDisplay {
  readonly update: (label: string, done: number, total: number) => void
  /** Draws the final state and releases the terminal. */
  readonly stop: () => void
}

export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  return stream.isTTY === true && typeof stream.rows === "number" && stream.rows > 2 ? terminalDisplay(stream) : lineDisplay(stream)
}

function lineDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  // Required when a run asks for it (it is CommonJS): no import() in the supervisor's bundle, which tsx would recompile.
  const { MultiBar, Presets } = createRequire(import.meta.url)("cli-progress") as typeof CliProgress
  const multi = new MultiBar(
    {
      stream,
      format: "{label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}",
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  )
  const bars = new Map<string, CliProgress.SingleBar>()
  return {
    update: (label, done, total) => {
      let bar = bars.get(label)
      // An unknown total (a lazy task list) shows a count, not a bar.
      if (bar === undefined) bars.set(label, (bar = multi.create(total, done, { label }, total > 0 ? {} : { format: "{label} {value} done | {duration_formatted}" })))
      if (total > 0) bar.setTotal(total)
      bar.update(done)
    },
    stop: () => multi.stop(),
  }
}

const ESC = "\x1b"
const SAVE = `${ESC}7`
const RESTORE = `${ESC}8`
const BAR_WIDTH = 40

function duration(ms: number): string {
  const s = Math.floor(ms / 1000)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
}

/** One bar as text, in the format of the line display (which tests and logs read). */
export function barLine(label: string, done: number, total: number, elapsedMs: number, columns = 200): string {
  if (total <= 0) return `${label} ${done} done | ${duration(elapsedMs)}`.slice(0, columns - 1)
  const fraction = Math.min(1, Math.max(0, done / total))
  const filled = Math.round(fraction * BAR_WIDTH)
  return `${label} [${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}% | ${done}/${total} | ${duration(elapsedMs)}`.slice(0, columns - 1)
}

function terminalDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  const started = performance.now()
  const bars = new Map<string, { done: number; total: number }>()
  let rows = stream.rows
  let reserved = 0
  const lines = (): string[] => [...bars].map(([label, b]) => barLine(label, b.done, b.total, performance.now() - started, stream.columns))
  // Reserve the bottom lines: scroll what is on screen up by the lines added (newlines, then
  // back up to the same text), then shrink the scrolling region above them (DECSTBM homes the
  // cursor, hence save/restore around it).
  const reserve = (count: number): string => {
    const added = count - reserved
    reserved = count
    rows = stream.rows
    return `${"\n".repeat(added)}${ESC}[${added}A${SAVE}${ESC}[1;${rows - reserved}r${RESTORE}`
  }
  const draw = (): string => lines().map((line, i) => `${ESC}[${rows - reserved + 1 + i};1H${ESC}[2K${line}`).join("")
  return {
    update: (label, done, total) => {
      const bar = bars.get(label)
      if (bar === undefined) bars.set(label, { done, total })
      else Object.assign(bar, { done, total: total > 0 ? total : bar.total })
      const grow = bars.size > reserved && bars.size < rows - 1 ? reserve(bars.size) : ""
      // One write: the bars cannot be split by a rank's line (a write to a terminal is not interleaved).
      stream.write(`${grow}${SAVE}${draw()}${RESTORE}`)
    },
    stop: () => {
      if (reserved === 0) return
      const clear = Array.from({ length: reserved }, (_, i) => `${ESC}[${rows - reserved + 1 + i};1H${ESC}[2K`).join("")
      stream.write(`${SAVE}${clear}${ESC}[r${RESTORE}${lines().join("\n")}\n`)
      reserved = 0
    },
  }
}
