/**
 * Loads the supervisor's side of rankflow on the main thread — from its
 * cached bundle when there is one (one file instead of Effect's and rxjs's
 * hundreds of modules), else module by module. Once per process.
 *
 * Layer: runtime (main thread). Loads nothing until called.
 */
import type * as Side from "./supervisorSide.ts"

export type SupervisorSide = typeof Side

let loading: Promise<SupervisorSide> | undefined

export function supervisorSide(): Promise<SupervisorSide> {
  return (loading ??= load())
}

async function load(): Promise<SupervisorSide> {
  const own = import.meta.url
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
