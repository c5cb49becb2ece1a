// pi_mc, serial-c: bench/c/serial.c's pi — the same chunks of 2^20 samples,
// but scalar xoshiro256+ seeded by splitmix64 from (seed, chunk) in C, not
// rankflow's randomStream, so `inside` differs (the impl is not `comparable`).
import { type PiParams, type PiResult, piResult } from "./pi_mc.ts"
import { type ExternalOutcome, runSerial } from "./serialc.ts"

export function measure(p: PiParams, reps: number): ExternalOutcome<PiResult> {
  const run = runSerial("pi", reps, [p.samples, p.seed, p.chunk], [], [])
  return "skipped" in run ? run : { timings: run.timings, result: piResult(p, run.scalars.inside!) }
}
