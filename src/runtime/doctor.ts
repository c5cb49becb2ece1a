/**
 * `rankflow doctor`: what this installation of rankflow can use, and what
 * each missing piece costs — the native addon (and why it is missing, from
 * the install script's record), the supervisor bundle, the bundle cache,
 * esbuild, the TypeScript loader, cores and memory. Nothing here is needed
 * to run a program: every absence has a slower fallback.
 *
 * Layer: runtime (main thread only; reads files, loads nothing heavy).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { availableParallelism, freemem, totalmem } from "node:os"
import { join } from "node:path"
import { constants as bufferConstants } from "node:buffer"
import { fileURLToPath } from "node:url"
import { getHeapStatistics } from "node:v8"
import { native, nativeLoadError, nativePath } from "../transport/native.ts"
import { mpiBuildRecord, probeMpiAddon } from "../transport/mpiAddon.ts"
import { formatBytes } from "../comm/units.ts"
import { cacheLocation } from "./bundle.ts"
import { PREBUILT_SUPERVISOR } from "./loadSupervisor.ts"

/** One line of the report: what was found, and what its absence costs. */
export interface Check {
  readonly name: string
  /** False when something is missing or degraded (never fatal: see `cost`). */
  readonly ok: boolean
  readonly status: string
  /** Further lines: paths, the recorded build error, how to fix. */
  readonly detail: ReadonlyArray<string>
  /** What running without it costs (when not ok). */
  readonly cost?: string
}

/** The package's root: two levels up from this module, in src/runtime and dist/runtime alike. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const fromSource = import.meta.url.endsWith(".ts")

/** Every check, for a program started from `cwd`. */
export function doctor(cwd: string = process.cwd()): Check[] {
  return [nodeCheck(), addonCheck(), mpiCheck(), supervisorCheck(), cacheCheck(cwd), esbuildCheck(), loaderCheck(cwd), coresCheck(), memoryCheck()]
}

function nodeCheck(): Check {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
  const ok = major > 20 || (major === 20 && minor >= 19)
  return {
    name: "node",
    ok,
    status: `${process.version} (${process.platform}-${process.arch})`,
    detail: [process.execPath],
    ...(ok ? {} : { cost: "rankflow needs Node ≥ 20.19 (require of ESM, import.meta.dirname, worker semantics)" }),
  }
}

interface BuildRecord {
  readonly built: boolean
  readonly reason: string
  readonly node?: string
  readonly at?: string
}

function addonCheck(): Check {
  const built = join(ROOT, "build", "Release", "rankflow_native.node")
  const prebuilds = join(ROOT, "prebuilds", `${process.platform}-${process.arch}`)
  const cost =
    "large messages are copied with TypedArray.set (about half memcpy's speed on shared memory), large float64 SUM/PROD/MAX/MIN reductions run in JS, and with more ranks than cores waiting ranks spin instead of yielding the core"
  if (native !== undefined && nativePath !== undefined) {
    const prebuilt = !nativePath.startsWith(join(ROOT, "build"))
    const guard = native.guardHeap !== undefined ? [] : ["built without the heap guard (no V8 headers?): a rank over its heap limit by one large allocation ends the whole process"]
    return { name: "native addon", ok: true, status: prebuilt ? "loaded (prebuilt binary shipped in the package)" : "loaded (built on this machine)", detail: [nativePath, ...guard] }
  }
  if (process.env.RANKFLOW_NATIVE === "0") return { name: "native addon", ok: false, status: "disabled by RANKFLOW_NATIVE=0", detail: [built], cost }
  const record = readRecord(join(ROOT, "build", "rankflow-native.json"))
  const detail: string[] = [built, `no prebuilt binary loads from ${prebuilds}`]
  let status: string
  if (existsSync(built)) status = `built but does not load: ${nativeLoadError ?? "unknown error"}`
  else if (record === undefined) {
    status = "not built: the install script did not run (npm --ignore-scripts, or npm did not approve rankflow's install script)"
  } else if (!record.built) status = "not built: the build failed"
  else status = "not built: the build reported success, but the file is missing"
  if (record !== undefined && !record.built) detail.push(...record.reason.split("\n").map((l) => `  ${l}`))
  if (record?.at !== undefined) detail.push(`install script ran ${record.at} with node ${record.node ?? "?"}`)
  detail.push("to build it: `npm rebuild rankflow` (needs a C compiler, make and Python for node-gyp)")
  return { name: "native addon", ok: false, status, detail, cost }
}

/** The optional Open MPI addon (native/mpi): loads, or what is missing and which packages provide it. */
function mpiCheck(): Check {
  const probe = probeMpiAddon()
  if (probe.ok) return { name: "MPI addon", ok: true, status: "loaded: --transport mpi and runs under mpirun work (docs/mpi.md)", detail: [probe.path] }
  const record = mpiBuildRecord()
  const detail = [
    `missing: ${probe.error.missing} (${probe.error.reason.split("\n")[0]})`,
    ...(record === undefined ? [] : [`build: ${record.built ? "built" : "not built"}`]),
    `to enable it: apt-get install ${probe.error.packages}, then node native/mpi/build.mjs`,
  ]
  return { name: "MPI addon", ok: false, status: "not available", detail, cost: "only the MPI transport (--transport mpi, mpirun) is unavailable; threads need nothing" }
}

function readRecord(path: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as BuildRecord
  } catch {
    return undefined
  }
}

function supervisorCheck(): Check {
  if (fromSource)
    return { name: "supervisor bundle", ok: true, status: "rankflow runs from its sources: the supervisor is bundled into the cache on first use", detail: [] }
  const file = fileURLToPath(PREBUILT_SUPERVISOR)
  if (existsSync(file)) return { name: "supervisor bundle", ok: true, status: "prebuilt in the package", detail: [file] }
  return {
    name: "supervisor bundle",
    ok: false,
    status: "not in the package (dist/ built without scripts/build.mjs)",
    detail: [file],
    cost: "the first run of each program bundles Effect and rxjs into the cache (~1 s)",
  }
}

function cacheCheck(cwd: string): Check {
  const where = cacheLocation(join(cwd, "program.ts"))
  const from = where.source === "RANKFLOW_CACHE_DIR" ? "from RANKFLOW_CACHE_DIR" : where.source === "node_modules" ? "the nearest node_modules/.cache" : "no node_modules above this directory"
  const detail = [`${where.dir} (${from}; move it with RANKFLOW_CACHE_DIR)`]
  if (process.env.RANKFLOW_BUNDLE === "0")
    return { name: "bundle cache", ok: false, status: "bundling disabled by RANKFLOW_BUNDLE=0", detail, cost: "ranks of a TypeScript program each load tsx and compile every module (~0.1 s per rank)" }
  if (writable(where.dir)) return { name: "bundle cache", ok: true, status: "writable", detail }
  detail.push(`fallback: ${where.fallback}`)
  if (where.fallback !== where.dir && writable(where.fallback))
    return { name: "bundle cache", ok: true, status: "not writable: bundles go to the fallback in the OS temp dir", detail }
  return { name: "bundle cache", ok: false, status: "not writable, nor is its fallback", detail, cost: "ranks of a TypeScript program each load tsx and compile every module (~0.1 s per rank)" }
}

/** True when a file can be created in `dir` (created if missing); leaves nothing behind. */
function writable(dir: string): boolean {
  const probe = join(dir, `.doctor-${process.pid}`)
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(probe, "")
    return true
  } catch {
    return false
  } finally {
    try {
      rmSync(probe, { force: true })
    } catch {
      // nothing was created
    }
  }
}

function esbuildCheck(): Check {
  const version = packageVersion("esbuild", ROOT)
  try {
    const esbuild = createRequire(import.meta.url)("esbuild") as { version: string }
    return { name: "esbuild", ok: true, status: esbuild.version, detail: [] }
  } catch (error) {
    return {
      name: "esbuild",
      ok: false,
      status: `does not load${version === undefined ? "" : ` (${version} installed)`}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      detail: ["esbuild's own install script fetches its binary: `npm rebuild esbuild`"],
      cost: "TypeScript programs are not bundled for their ranks: each rank loads tsx (~0.1 s per rank)",
    }
  }
}

function loaderCheck(cwd: string): Check {
  const own = packageVersion("tsx", ROOT)
  const project = packageVersion("tsx", cwd)
  const detail = [project === undefined ? "not installed in this project (npx tsx finds rankflow's)" : `this project's: ${project}`]
  if (own === undefined && project === undefined)
    return { name: "TypeScript loader (tsx)", ok: false, status: "not found", detail, cost: "TypeScript programs cannot run: compile them with tsc and run the .js with node" }
  return { name: "TypeScript loader (tsx)", ok: true, status: own ?? project ?? "", detail }
}

/** The version of `name` as `from` (a directory) would resolve it, if installed. */
function packageVersion(name: string, from: string): string | undefined {
  try {
    const require = createRequire(join(from, "noop.js"))
    for (const dir of require.resolve.paths(name) ?? []) {
      const manifest = join(dir, name, "package.json")
      if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version
    }
  } catch {
    // no resolution paths
  }
  return undefined
}

function coresCheck(): Check {
  const cores = availableParallelism()
  return {
    name: "cores",
    ok: cores > 1,
    status: `${cores} available`,
    detail: [`communicator programs run best with --ranks ≤ ${cores} (more share cores: 3–11× slower); pipelines run any --ranks on at most ${cores} threads`],
    ...(cores > 1 ? {} : { cost: "ranks share one core: no parallel speed-up" }),
  }
}

function memoryCheck(): Check {
  const heap = getHeapStatistics().heap_size_limit
  return {
    name: "memory",
    ok: true,
    status: `${formatBytes(totalmem())} total, ${formatBytes(freemem())} free`,
    detail: [
      `JS heap limit per thread: ${formatBytes(heap)} (node --max-old-space-size=MB raises it; typed arrays live outside it)`,
      `largest ArrayBuffer/SharedArrayBuffer: ${formatBytes(bufferConstants.MAX_LENGTH)}`,
      "rank mailboxes and comm.alloc() are SharedArrayBuffers in the process's memory (not /dev/shm): their limit is free memory",
    ],
  }
}

/** The report as text: one line per check, details indented, costs of what is missing. */
export function formatDoctor(checks: ReadonlyArray<Check>): string {
  const width = Math.max(...checks.map((c) => c.name.length))
  const lines: string[] = []
  for (const check of checks) {
    lines.push(`${check.ok ? "ok  " : "MISS"}  ${check.name.padEnd(width)}  ${check.status}`)
    for (const line of check.detail) lines.push(`      ${" ".repeat(width)}  ${line}`)
    if (check.cost !== undefined) lines.push(`      ${" ".repeat(width)}  without it: ${check.cost}`)
  }
  return `${lines.join("\n")}\n`
}
