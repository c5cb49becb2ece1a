// trapezoid, serial-js: all intervals on the main thread.
import type { Kernel } from "./kernel.ts"
import { type TrapezoidParams, type TrapezoidResult, trapezoidResult, trapezoidSum } from "./trapezoid.ts"

export function setup(p: TrapezoidParams): Kernel<TrapezoidResult> {
  let integral = 0
  return {
    phases: {
      run() {
        integral = trapezoidSum(p, 0, p.intervals)
      },
    },
    result: () => trapezoidResult(integral),
  }
}
