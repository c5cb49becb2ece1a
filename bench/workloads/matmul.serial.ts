// matmul, serial-js: the i-p-j loop on the main thread.
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import type { Kernel } from "./kernel.ts"
import { type MatmulParams, type MatmulResult, multiplyPlain, problem } from "./matmul.ts"

export function setup(p: MatmulParams): Kernel<MatmulResult> {
  const { a, b } = problem(p)
  const c = new Float64Array(p.n * p.n)
  return {
    phases: { multiply: () => multiplyPlain(a, b, c, p.n, p.n) },
    result: () => ({ c_fingerprint: fingerprintHex(new Fingerprint().add(c, 0, c.length, 0).lanes), c_sum: c.reduce((s, v) => s + v, 0) }),
  }
}
