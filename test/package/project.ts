// A consumer's project, as a new user makes one: the tarball `npm pack` builds, installed into a
// fresh directory with npm — offline, from the npm cache that `npm ci` filled in this repository.
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT } from "../helpers.ts"

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end (never rejects); `timeoutMs` is a bound against hangs. */
export function run(command: string, args: ReadonlyArray<string>, cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

/** `npm`, as the npm running this (npm test) or the one beside node. */
const NPM = process.env.npm_execpath !== undefined && /npm-cli\.js$/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ["npm"]
export const npm = (args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv): Promise<Run> => run(NPM[0]!, [...NPM.slice(1), ...args], cwd, env)

/** The repository's own TypeScript compiler. */
export const TSC = join(ROOT, "node_modules", ".bin", "tsc")

/** What the package is built and packed from (package.json `files`, the build's inputs, and what npm always packs). */
const SOURCES = ["package.json", "package-lock.json", "README.md", "LICENSE", "tsconfig.json", "tsconfig.build.json", "scripts", "src", "native", "binding.gyp", "docs/using.md", "build"]

/**
 * Packs the repository into `dir` (the prepare script builds dist/ and copies the addon built
 * here, build/, to prebuilds/); the tarball's path. It packs
 * a copy of the sources (node_modules linked): other tests compile into the repository's dist/
 * while this runs, and a build racing them could pack half-written files.
 */
export async function pack(dir: string): Promise<string> {
  const copy = join(dir, "source")
  for (const name of SOURCES) if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(copy, name), { recursive: true, preserveTimestamps: true })
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir")
  const packed = await npm(["pack", "--pack-destination", dir, "--json", "--silent"], copy)
  if (packed.code !== 0) throw new Error(`npm pack failed (${packed.code}):\n${packed.stderr}`)
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{ filename: string }>
  return join(dir, info!.filename)
}

interface LockEntry {
  version?: string
  integrity?: string
  resolved?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  optional?: boolean
  dev?: boolean
  devOptional?: boolean
  peer?: boolean
  [key: string]: unknown
}

/**
 * A package-lock.json for a project depending on the tarball and `extra` (packages of the
 * repository's lock, e.g. @types/node): the entries of the repository's lock reachable from them.
 * npm's cache holds the tarballs `npm ci` fetched but not the registry's package documents, so an
 * offline install must not resolve versions: the lock names them all.
 */
function lockFor(tarball: string, extra: ReadonlyArray<string>): object {
  const repoLock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> }
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string; dependencies: Record<string, string>; bin?: Record<string, string> }
  const packages: Record<string, LockEntry> = {}
  const visit = (from: string, name: string, optional: boolean): void => {
    // Node's lookup: the nearest node_modules up from the dependent package.
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
      const path = `${base === "" ? "" : `${base}/`}node_modules/${name}`
      const entry = repoLock.packages[path]
      if (entry !== undefined) {
        if (packages[path] !== undefined) return
        const { dev: _d, devOptional: _o, peer: _p, ...kept } = entry
        packages[path] = kept
        for (const dep of Object.keys(entry.dependencies ?? {})) visit(path, dep, false)
        for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(path, dep, true)
        for (const dep of Object.keys(entry.peerDependencies ?? {}))
          if (entry.peerDependenciesMeta?.[dep]?.optional !== true) visit(path, dep, false)
        return
      }
      if (base === "") {
        if (optional) return
        throw new Error(`${name} (needed by ${from || "the project"}) is not in the repository's package-lock.json`)
      }
    }
  }
  for (const dep of Object.keys(manifest.dependencies)) visit("node_modules/rankflow", dep, false)
  for (const dep of extra) visit("", dep, false)
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`
  packages["node_modules/rankflow"] = {
    version: manifest.version,
    resolved: `file:${tarball}`,
    integrity,
    hasInstallScript: true,
    dependencies: manifest.dependencies,
    ...(manifest.bin === undefined ? {} : { bin: manifest.bin }),
  }
  const rootDeps = { rankflow: `file:${tarball}`, ...Object.fromEntries(extra.map((name) => [name, packages[`node_modules/${name}`]!.version!])) }
  return { name: "consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "consumer", version: "1.0.0", dependencies: rootDeps }, ...packages } }
}

/**
 * A fresh ESM project (in the OS temp dir) with the tarball installed by `npm ci --offline`, and
 * `extra` packages of the repository's lock. `ignoreScripts` installs as `--ignore-scripts` does
 * (no addon build). Throws with npm's output when the install fails.
 */
export async function consumer(tarball: string, options: { extra?: ReadonlyArray<string>; ignoreScripts?: boolean } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-consumer-"))
  const lock = lockFor(tarball, options.extra ?? [])
  const deps = (lock as { packages: Record<string, { dependencies?: Record<string, string> }> }).packages[""]!.dependencies
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module", dependencies: deps }, null, 2))
  writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lock, null, 2))
  const installed = await npm(["ci", "--offline", "--no-audit", "--no-fund", ...(options.ignoreScripts === true ? ["--ignore-scripts"] : [])], dir)
  if (installed.code !== 0) throw new Error(`npm ci --offline failed (${installed.code}) in ${dir}:\n${installed.stdout}\n${installed.stderr}`)
  return dir
}
