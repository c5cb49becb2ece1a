// heat1d, serial-c: bench/c/serial.c's heat1d on the initial field written by
// this side; the final field comes back and is checked here (see serialc.ts).
import { FieldStats, type FieldResult } from "./field.ts"
import { decay, type Heat1dParams, initialValue, ratio } from "./heat1d.ts"
import { type ExternalOutcome, runSerial } from "./serialc.ts"

export function measure(p: Heat1dParams, reps: number): ExternalOutcome<FieldResult> {
  const u0 = new Float64Array(p.n)
  for (let i = 0; i < p.n; i++) u0[i] = initialValue(p, i)
  const run = runSerial("heat1d", reps, [p.n, ratio(p), p.steps], [u0], [p.n])
  if ("skipped" in run) return run
  const d = decay(p)
  return { timings: run.timings, result: new FieldStats().add(run.outputs[0]!, 0, p.n, 0, (i) => d * initialValue(p, i)).result() }
}
