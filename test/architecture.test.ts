// The layers of DESIGN.md, guarded: imports flow one way and never in a cycle.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import test from "ava"
import { ROOT } from "./helpers.ts"

const SRC = join(ROOT, "src")

/** Which layers each layer may import (besides itself and errors.ts). */
const ALLOWED: Record<string, string[]> = {
  kernels: [], // pure compute (WebAssembly), the bottom layer
  transport: [],
  comm: ["transport"],
  cli: [],
  runtime: ["comm", "transport", "cli"],
  plan: ["comm"], // pure helpers only: see the next test
  pipeline: ["plan", "comm", "runtime", "cli", "kernels"],
  patterns: ["comm", "runtime"], // runtime: progress reports only; farms and streams compose with pipelines in user code
  ".": ["runtime", "comm", "transport", "cli", "plan", "pipeline", "patterns", "kernels"], // index.ts and errors.ts
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  )
}

const layerOf = (file: string): string => relative(SRC, dirname(file)).split("/")[0] || "."

/** Relative imports of a source file (static and dynamic), resolved to files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8")
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => resolve(dirname(file), m[1]!))
}

test("every import follows the layer direction of DESIGN.md", (t) => {
  const violations: string[] = []
  for (const file of files(SRC)) {
    const from = layerOf(file)
    for (const target of importsOf(file)) {
      const to = layerOf(target)
      if (to === from || target.endsWith("/errors.ts")) continue
      if (!ALLOWED[from]!.includes(to)) violations.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`)
    }
  }
  t.deepEqual(violations, [])
})

test("the planner is pure: from comm it takes only the partition and dims helpers (and types)", (t) => {
  for (const file of files(join(SRC, "plan"))) {
    const text = readFileSync(file, "utf8")
    const valueImports = [...text.matchAll(/^import (?!type )[^"]*"(\.{1,2}\/[^"]+)"/gm)].map((m) => m[1]!)
    for (const target of valueImports.filter((p) => p.includes("/comm/")))
      t.regex(target, /\/comm\/(partition|dims|units)\.ts$/, `${relative(ROOT, file)} imports ${target}`)
    t.notRegex(text, /from "node:/, `${relative(ROOT, file)} must not do I/O`)
  }
})

test("rank-side modules never load Effect or the CLI (rank start-up stays lean)", (t) => {
  const rankSide = ["transport", "comm", "kernels"].flatMap((layer) => files(join(SRC, layer)))
  rankSide.push(join(SRC, "runtime/rankEntry.ts"), join(SRC, "runtime/rankContext.ts"), join(SRC, "cli/paramSpec.ts"))
  rankSide.push(...files(join(SRC, "plan")))
  // The pipeline layer loads the supervisor half (Effect, cli/options, cli/params) only through dynamic import().
  for (const file of files(join(SRC, "pipeline"))) {
    const text = readFileSync(file, "utf8").replace(/await import\("[^"]+"\)/g, "")
    t.notRegex(text, /from "effect/, relative(ROOT, file))
    t.notRegex(text, /cli\/(options|params)/, relative(ROOT, file))
  }
  for (const file of rankSide) {
    const text = readFileSync(file, "utf8")
    t.notRegex(text, /from "effect/, relative(ROOT, file))
    t.notRegex(text, /cli\//, relative(ROOT, file))
  }
})

test("there are no import cycles between modules (type-only imports aside)", (t) => {
  const graph = new Map<string, string[]>()
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8")
    const value = [...text.matchAll(/^import (?!type )[^"]*"(\.{1,2}\/[^"]+)"/gm)].map((m) => resolve(dirname(file), m[1]!))
    graph.set(file, value)
  }
  const cycles: string[] = []
  const state = new Map<string, "visiting" | "done">()
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === "done") return
    if (state.get(file) === "visiting") {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(" → "))
      return
    }
    state.set(file, "visiting")
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
    state.set(file, "done")
  }
  for (const file of graph.keys()) visit(file, [])
  t.deepEqual(cycles, [])
})
