/**
 * The supervisor's progress display: one bar per label rank 0 reports
 * (a pipeline's loop, a farm's tasks), drawn with cli-progress on stderr.
 * Off a terminal, bars are printed as lines every few seconds and once at
 * the end, so logs show the run advancing.
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
