// pi_mc, serial-js: every chunk on the main thread.
import type { Kernel } from "./kernel.ts"
import { chunkCount, insideCounter, type PiParams, type PiResult, piResult } from "./pi_mc.ts"

export function setup(p: PiParams): Kernel<PiResult> {
  const countInside = insideCounter(p)
  let inside = 0
  return {
    phases: {
      run() {
        inside = countInside(0, chunkCount(p))
      },
    },
    result: () => piResult(p, inside),
  }
}
