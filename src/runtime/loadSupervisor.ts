/**
 * Loads the supervisor's side of rankflow on the main thread — from one
 * bundled file when there is one (instead of Effect's and rxjs's hundreds of
 * modules), else module by module. Once per process.
 *
 * The bundle is, in order: `supervisorSide.bundle.js` beside this module,
 * built when the package was packed (compiled rankflow from npm: nothing to
 * build on a first run); the cached bundle of `bundle.ts` (rankflow run from
 * its sources); none when `RANKFLOW_BUNDLE=0`.
 *
 * Layer: runtime (main thread). Loads nothing until called.
 */
import type * as Side from "./supervisorSide.ts"

export type SupervisorSide = typeof Side

let loading: Promise<SupervisorSide> | undefined

export function supervisorSide(): Promise<SupervisorSide> {
  return (loading ??= load())
}

/** The prebuilt bundle's URL, when rankflow runs from its compiled dist/ and the build made one. */
export const PREBUILT_SUPERVISOR = new URL("./supervisorSide.bundle.js", import.meta.url).href

async function load(): Promise<SupervisorSide> {
  const own = import.meta.url
  if (process.env.RANKFLOW_BUNDLE !== "0" && !own.endsWith(".ts")) {
    try {
      return (await import(PREBUILT_SUPERVISOR)) as SupervisorSide
    } catch {
      // Not built (a dist/ made by tsc alone): the cache or the modules themselves follow.
    }
  }
  const url = new URL(`./supervisorSide${own.endsWith(".ts") ? ".ts" : ".js"}`, own).href
  const { bundleSupervisor } = await import("./bundle.ts")
  const bundled = await bundleSupervisor(url)
  if (bundled !== undefined) {
    try {
      return (await import(bundled)) as SupervisorSide
    } catch {
      // A bundle that does not load is no reason to fail the run: the modules themselves follow.
    }
  }
  return import("./supervisorSide.ts")
}
