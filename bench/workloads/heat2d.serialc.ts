// heat2d, serial-c: bench/c/serial.c's heat2d on the initial field written by
// this side; the final field comes back and is checked here (see serialc.ts).
import type { FieldResult } from "./field.ts"
import { blockStats, type Heat2dParams, initialValue } from "./heat2d.ts"
import { type ExternalOutcome, runSerial } from "./serialc.ts"

export function measure(p: Heat2dParams, reps: number): ExternalOutcome<FieldResult> {
  const { nx, ny } = p
  const u0 = new Float64Array(nx * ny)
  for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) u0[i * nx + j] = initialValue(p, i, j)
  const run = runSerial("heat2d", reps, [nx, ny, p.steps, p.r], [u0], [nx * ny])
  if ("skipped" in run) return run
  return { timings: run.timings, result: blockStats(p, run.outputs[0]!, nx, 0, ny, nx, 0, 0).result() }
}
