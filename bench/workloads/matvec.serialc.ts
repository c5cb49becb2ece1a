// matvec, serial-c: bench/c/serial.c's matvec (the same row-by-row loop as
// multiplyRows, -ffp-contract=off) on A and x₀ written by this side; y₀ and λ
// come back bit-identical to serial-js (see serialc.ts).
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import { type MatvecParams, type MatvecResult, problem } from "./matvec.ts"
import { type ExternalOutcome, runSerial } from "./serialc.ts"

export function measure(p: MatvecParams, reps: number): ExternalOutcome<MatvecResult> {
  const { a, x } = problem(p)
  const run = runSerial("matvec", reps, [p.n, p.iterations], [a, x], [p.n])
  if ("skipped" in run) return run
  const y0 = run.outputs[0]!
  return {
    timings: run.timings,
    result: { y_fingerprint: fingerprintHex(new Fingerprint().add(y0, 0, p.n, 0).lanes), y_sum: y0.reduce((s, v) => s + v, 0), lambda: run.scalars.lambda! },
  }
}
