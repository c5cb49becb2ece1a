// heat1d, serial-js: the whole line in one array on the main thread; both
// ends stay 0.
import type { Kernel } from "./kernel.ts"
import { FieldStats, type FieldResult } from "./field.ts"
import { decay, type Heat1dParams, heat1dStep, initialValue, ratio } from "./heat1d.ts"

export function setup(p: Heat1dParams): Kernel<FieldResult> {
  const r = ratio(p)
  let u = new Float64Array(p.n)
  let next = new Float64Array(p.n)
  return {
    reset() {
      for (let i = 0; i < p.n; i++) u[i] = initialValue(p, i)
    },
    phases: {
      run() {
        for (let step = 0; step < p.steps; step++) {
          heat1dStep(u, next, 1, p.n - 2, r)
          const done = u
          u = next
          next = done
        }
      },
    },
    result() {
      const d = decay(p)
      return new FieldStats().add(u, 0, p.n, 0, (i) => d * initialValue(p, i)).result()
    },
  }
}
