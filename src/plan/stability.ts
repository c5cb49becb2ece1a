/**
 * Stability of explicit stencils, checked at plan time: the numbers a stencil
 * declares (a diffusion coefficient, an advection Courant number, a wave CFL
 * number) against the standard bounds of the explicit schemes, and how
 * `explain()` shows them.
 *
 * Layer: plan (pure).
 */
import { InvalidPipeline, type StabilityKind, UnstableScheme } from "../errors.ts"
import type { Stability } from "./description.ts"

/** Stability bound of the explicit diffusion step in 1-, 2-, 3-D: 1/(2D). */
const DIFFUSION_BOUND = [0, 1 / 2, 1 / 4, 1 / 6]

/** The declared numbers of `options`, and nothing else: what a stencil stage carries. */
export function stabilityOf(options: Stability): Stability {
  return {
    ...(options.diffusion === undefined ? {} : { diffusion: options.diffusion }),
    ...(options.advection === undefined ? {} : { advection: options.advection }),
    ...(options.wave === undefined ? {} : { wave: options.wave }),
  }
}

/**
 * Throws `UnstableScheme` when a declared number of stencil `stage` is NaN or
 * ±∞, negative where only magnitudes make sense (diffusion, wave), or above
 * its bound on a `dims`-D grid; `InvalidPipeline` when a per-dimension array
 * does not have `dims` entries.
 */
export function checkStability(stage: string, declared: Stability, dims: number): void {
  const { diffusion, advection, wave } = declared
  if (diffusion !== undefined) {
    if (typeof diffusion !== "number") throw new InvalidPipeline(stage, `diffusion must be a number, got ${JSON.stringify(diffusion)}`)
    const bound = DIFFUSION_BOUND[dims]!
    if (!(diffusion >= 0 && diffusion <= bound)) throw new UnstableScheme(stage, diffusion, bound, "diffusion")
  }
  if (advection !== undefined) {
    const perAxis = perDimension(stage, "advection", advection, dims)
    refuseNonFinite(stage, "advection", perAxis, advection)
    const sum = perAxis.reduce((a, c) => a + Math.abs(c), 0)
    if (sum > 1) throw new UnstableScheme(stage, sum, 1, "advection", advection)
  }
  if (wave !== undefined) {
    const perAxis = perDimension(stage, "wave", wave, dims)
    refuseNonFinite(stage, "wave", perAxis, wave)
    const negative = perAxis.find((c) => c < 0)
    if (negative !== undefined) throw new UnstableScheme(stage, negative, 1, "wave", wave)
    const norm = Math.sqrt(perAxis.reduce((a, c) => a + c * c, 0))
    if (norm > 1) throw new UnstableScheme(stage, norm, 1, "wave", wave)
  }
}

/** How `explain()` shows the declared numbers after a stencil's radius, e.g. `", r = 0.1, C = [0.5, 0.25]"`. */
export function stabilityLabel(declared: Stability): string {
  const show = (v: number | ReadonlyArray<number>) => (typeof v === "number" ? String(v) : `[${v.join(", ")}]`)
  return [
    declared.diffusion === undefined ? "" : `, r = ${declared.diffusion}`,
    declared.advection === undefined ? "" : `, Courant C = ${show(declared.advection)}`,
    declared.wave === undefined ? "" : `, wave CFL = ${show(declared.wave)}`,
  ].join("")
}

function perDimension(stage: string, kind: StabilityKind, value: number | ReadonlyArray<number>, dims: number): ReadonlyArray<number> {
  if (typeof value === "number") return Array.from({ length: dims }, () => value)
  if (!Array.isArray(value) || value.length !== dims || !value.every((v) => typeof v === "number"))
    throw new InvalidPipeline(stage, `${kind} must be one number or ${dims} numbers (one per dimension of the ${dims}-D grid), got ${JSON.stringify(value)}`)
  return value
}

function refuseNonFinite(stage: string, kind: StabilityKind, perAxis: ReadonlyArray<number>, declared: number | ReadonlyArray<number>): void {
  const bad = perAxis.find((c) => !Number.isFinite(c))
  if (bad !== undefined) throw new UnstableScheme(stage, bad, 1, kind, declared)
}
