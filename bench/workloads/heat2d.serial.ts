// heat2d, serial-js: the whole grid in one array on the main thread; the
// edges stay 0 in both buffers.
import type { Kernel } from "./kernel.ts"
import type { FieldResult } from "./field.ts"
import { blockStats, type Heat2dParams, heat2dStep, initialValue } from "./heat2d.ts"

export function setup(p: Heat2dParams): Kernel<FieldResult> {
  const { nx, ny } = p
  let u = new Float64Array(nx * ny)
  let next = new Float64Array(nx * ny)
  return {
    reset() {
      for (let i = 0; i < ny; i++) for (let j = 0; j < nx; j++) u[i * nx + j] = initialValue(p, i, j)
    },
    phases: {
      run() {
        for (let step = 0; step < p.steps; step++) {
          heat2dStep(u, next, nx, 1, ny - 1, 1, nx - 1, p.r)
          const done = u
          u = next
          next = done
        }
      },
    },
    result: () => blockStats(p, u, nx, 0, ny, nx, 0, 0).result(),
  }
}
