// matmul, serial-c: bench/c/serial.c's matmul (the i-p-j loop, vectorised by
// gcc over j; -ffp-contract=off keeps each element's sum bit-identical).
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import { type MatmulParams, type MatmulResult, problem } from "./matmul.ts"
import { type ExternalOutcome, runSerial } from "./serialc.ts"

export function measure(p: MatmulParams, reps: number): ExternalOutcome<MatmulResult> {
  const { a, b } = problem(p)
  const run = runSerial("matmul", reps, [p.n], [a, b], [p.n * p.n])
  if ("skipped" in run) return run
  const c = run.outputs[0]!
  return { timings: run.timings, result: { c_fingerprint: fingerprintHex(new Fingerprint().add(c, 0, c.length, 0).lanes), c_sum: c.reduce((s, v) => s + v, 0) } }
}
