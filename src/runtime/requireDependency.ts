/**
 * Loads one of rankflow's own dependencies on first use, synchronously
 * (`require`, which also takes an ES module from Node 20.19): for code that
 * only some runs need (fast-png and resvg for `--plot`), so that
 * `import "rankflow"` does not load it on every thread.
 *
 * It sits in runtime/ because it reads `import.meta.url`: the rank-side
 * bundle (scripts/build.mjs) keeps those readers at dist/runtime's depth.
 *
 * Layer: runtime.
 */
import { createRequire } from "node:module"

const load = createRequire(import.meta.url)

/** `require(name)`, resolved from rankflow's own location. */
export function requireDependency<T>(name: string): T {
  return load(name) as T
}
