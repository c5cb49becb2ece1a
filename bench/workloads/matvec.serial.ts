// matvec, serial-js: the product and the power iterations on the main thread.
import { Fingerprint, fingerprintHex } from "./fingerprint.ts"
import type { Kernel } from "./kernel.ts"
import { type MatvecParams, type MatvecResult, multiplyRows, normalizeInto, problem } from "./matvec.ts"

export function setup(p: MatvecParams): Kernel<MatvecResult> {
  const { a, x: x0 } = problem(p)
  const y0 = new Float64Array(p.n)
  const x = new Float64Array(p.n)
  const y = new Float64Array(p.n)
  let lambda = 0
  return {
    reset: () => x.set(x0),
    phases: {
      oneshot() {
        multiplyRows(a, p.n, p.n, x0, y0)
      },
      iterate() {
        for (let k = 0; k < p.iterations; k++) {
          multiplyRows(a, p.n, p.n, x, y)
          lambda = normalizeInto(y, x)
        }
      },
    },
    result: () => ({ y_fingerprint: fingerprintHex(new Fingerprint().add(y0, 0, p.n, 0).lanes), y_sum: y0.reduce((s, v) => s + v, 0), lambda }),
  }
}
