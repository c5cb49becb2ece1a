// trapezoid, serial-c: bench/c/serial.c's trapezoid, trapezoidSum's loop in C.
import { type ExternalOutcome, runSerial } from "./serialc.ts"
import { type TrapezoidParams, type TrapezoidResult, trapezoidResult } from "./trapezoid.ts"

export function measure(p: TrapezoidParams, reps: number): ExternalOutcome<TrapezoidResult> {
  const run = runSerial("trapezoid", reps, [p.intervals], [], [])
  return "skipped" in run ? run : { timings: run.timings, result: trapezoidResult(run.scalars.integral!) }
}
