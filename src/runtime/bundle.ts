/**
 * Rank start-up without a TypeScript loader: the supervisor bundles the entry
 * module (and, when rankflow itself runs from source, the rank bootstrap) once
 * with esbuild into plain-JS ESM files in a cache directory, and every rank
 * imports those instead of registering tsx and compiling each .ts file again
 * (~100 ms per worker on this machine).
 *
 * Semantics are kept: dependencies from node_modules stay external (imported
 * by absolute URL, so they resolve exactly as from the source file, wherever
 * the cache is); `import.meta.url`, `.filename` and `.dirname` are each
 * module's original ones, and `import.meta.resolve` resolves relative
 * specifiers against the original file; dynamic imports become lazy chunks, so
 * the supervisor half (Effect) is only ever loaded on the main thread;
 * source maps point stack traces at the .ts files. Anything a bundle could
 * change (CommonJS inputs, a dynamic import or require esbuild cannot follow)
 * falls back to the tsx path, as does any failure: the optimisation never
 * fails a run.
 *
 * Cache: `$RANKFLOW_CACHE_DIR`, else `<nearest node_modules>/.cache/rankflow`
 * (or `rankflow-cache-<uid>` in the OS temp dir, also used when the first
 * choice cannot be written, e.g. a read-only node_modules), keyed
 * by the entry and checked against a content hash of every input, so an edit
 * rebuilds and an unchanged program reuses the bundle. Outputs are written
 * under a temporary name and renamed into place, so concurrent runs never
 * read half-written files.
 *
 * Layer: runtime (supervisor side). Loads esbuild only when it must build.
 */
import { createHash, randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, dirname, extname, join, resolve, sep } from "node:path"
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"
import type * as Esbuild from "esbuild"

/** Bump when the shape of bundles changes, so old cache entries are ignored. */
const FORMAT = 7

/** rankflow's own sources, whose dynamic imports are known to be meant (the bootstrap imports the entry by URL). */
const PACKAGE_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
/**
 * Both src/ and dist/: the bin (dist/bin.js) bundles a program of this
 * repository whose `rankflow` import resolves to src/ (tsconfig `paths`);
 * with dist/ alone, src/'s own dynamic imports refused the bundle and the
 * bin fell back to tsx.
 */
export const OWN_SOURCES: ReadonlyArray<string> = ["src", "dist"].map((dir) => join(PACKAGE_ROOT, dir) + sep)
const isOwnSource = (file: string): boolean => OWN_SOURCES.some((dir) => file.startsWith(dir))

/** Where the ranks' code is, when the entry could be bundled. */
export interface RankBundle {
  readonly _tag: "Bundled"
  /** URL of the bundled entry module. */
  readonly entry: string
  /** URL of the bundled rank bootstrap, when one was asked for. */
  readonly bootstrap: string | undefined
  /** True when an up-to-date bundle was found in the cache. */
  readonly cached: boolean
  /** The directory holding the bundle's files. */
  readonly dir: string
}

/** Why the entry was not bundled (the caller then runs it as it is). */
export interface NotBundled {
  readonly _tag: "NotBundled"
  readonly reason: string
}

/**
 * What the cache remembers about one entry: the content hash of every input,
 * and where the bundle of exactly those inputs is, or why they cannot be
 * bundled (so an unbundlable program does not pay for a build on every run).
 */
interface Manifest {
  readonly inputs: Record<string, string>
  /**
   * Each input's modification time and size when it was read (taken before
   * reading, so an edit during the build shows): an input whose stamp is
   * unchanged is not read and hashed again. Checking the supervisor's ~400
   * inputs by content took ~50 ms of every start from source.
   */
  readonly stamps?: Record<string, string>
  readonly output?: string
  readonly refused?: string
}

const hash = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** A file's modification time and size ("" when it cannot be read). */
const stampOf = (file: string): Promise<string> => stat(file).then((s) => `${s.mtimeMs}:${s.size}`, () => "")

/** The content hash and stamp (taken first) of each input a build read. */
class Inputs {
  readonly digests = new Map<string, string>()
  readonly stamps = new Map<string, string>()
  /** Reads `file` as an input: its stamp, then its content. */
  async read(file: string): Promise<Buffer> {
    const stamp = await stampOf(file)
    const source = await readFile(file)
    this.digests.set(file, hash(source))
    this.stamps.set(file, stamp)
    return source
  }
  /** An input that may be missing: recorded with an empty digest and stamp then. */
  async readIfThere(file: string): Promise<void> {
    await this.read(file).catch(() => {
      this.digests.set(file, "")
      this.stamps.set(file, "")
    })
  }
}

/**
 * Bundles `entry` (a file URL), together with `bootstrap` when given, into
 * plain-JS ESM modules for ranks, or reuses an up-to-date bundle from the
 * cache. Never rejects: any problem resolves to `NotBundled` with the reason.
 * `RANKFLOW_BUNDLE=0` turns bundling off. On success, `entry` is
 * `file:///…/.cache/rankflow/<key>-<inputs hash>/<entry's name>.mjs`.
 */
export async function bundleForRanks(entry: string, bootstrap?: string): Promise<RankBundle | NotBundled> {
  if (!entry.startsWith("file:") || (bootstrap !== undefined && !bootstrap.startsWith("file:"))) return notBundled("not a file URL")
  return bundle({ entry: fileURLToPath(entry), bootstrap: bootstrap === undefined ? undefined : fileURLToPath(bootstrap), packages: "external" })
}

/**
 * The supervisor's side (`supervisorSide`, a file URL) bundled together with
 * the packages it loads (Effect, rxjs): the main thread then imports one
 * file instead of some 400 modules — under tsx each through the loader,
 * ~0.3 s of every start. esbuild and cli-progress (native, CommonJS) stay
 * outside. The URL of the bundle, or undefined when there is none (the
 * caller imports the modules as they are); never rejects.
 */
export async function bundleSupervisor(supervisorSide: string): Promise<string | undefined> {
  if (!supervisorSide.startsWith("file:")) return undefined
  const found = await bundle({ entry: fileURLToPath(supervisorSide), bootstrap: undefined, packages: "inline" })
  return found._tag === "Bundled" ? found.entry : undefined
}

/** The cached bundle of `target`, rebuilt when an input changed; never rejects. */
async function bundle(target: Target): Promise<RankBundle | NotBundled> {
  try {
    if (process.env.RANKFLOW_BUNDLE === "0") return notBundled("RANKFLOW_BUNDLE=0")
    const key = hash([FORMAT, process.version, target.entry, target.bootstrap ?? "", target.packages].join("\0")).slice(0, 16)
    const { dir, fallback } = cacheLocation(target.entry)
    try {
      return await bundleIn(dir, target, key)
    } catch (error) {
      // A read-only node_modules (or cache directory): the per-user one in the OS temp dir instead.
      if (!isUnwritable(error) || fallback === dir) throw error
      return await bundleIn(fallback, target, key)
    }
  } catch (error) {
    return notBundled(error instanceof Error ? error.message : String(error))
  }
}

async function bundleIn(cache: string, target: Target, key: string): Promise<RankBundle | NotBundled> {
  const manifestPath = join(cache, `${key}.json`)
  const manifest = await currentManifest(manifestPath)
  if (manifest !== undefined) {
    // Last used (see prune()); not awaited: a best-effort mark, and the start need not wait for the disk.
    void utimes(manifestPath, new Date(), new Date()).catch(() => undefined)
    return outcome(manifest, cache, target, true)
  }
  return outcome(await build(target, cache, key, manifestPath), cache, target, false)
}

/** Errors that mean "this directory cannot be written" (EEXIST, ENOTDIR: a file stands where a directory should). */
const UNWRITABLE = new Set(["EACCES", "EPERM", "EROFS", "ENOTDIR", "EEXIST"])
const isUnwritable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && UNWRITABLE.has(String((error as { code?: unknown }).code))

/** The files to bundle: the entry, and the rank bootstrap when it is bundled too. */
interface Target {
  readonly entry: string
  readonly bootstrap: string | undefined
  /** Packages from node_modules: imported from their files (ranks), or bundled in (the supervisor, but for NOT_INLINED). */
  readonly packages: "external" | "inline"
}

/** Packages the supervisor's bundle leaves outside: a native binary, and what only --progress loads. */
const NOT_INLINED = new Set(["esbuild", "cli-progress"])

const notBundled = (reason: string): NotBundled => ({ _tag: "NotBundled", reason })

function outcome(manifest: Manifest, cache: string, target: Target, cached: boolean): RankBundle | NotBundled {
  if (manifest.output === undefined) return notBundled(manifest.refused ?? "not bundled")
  const dir = join(cache, manifest.output)
  const url = (name: string): string => pathToFileURL(join(dir, `${name}.mjs`)).href
  return { _tag: "Bundled", entry: url(entryName(target)), bootstrap: target.bootstrap === undefined ? undefined : url(BOOTSTRAP_NAME), cached, dir }
}

/** The bundled entry keeps its file's name (it shows in messages naming the module); the bootstrap has a fixed one. */
const entryName = (target: Target): string => basename(target.entry, extname(target.entry))
const BOOTSTRAP_NAME = "rankflow-rank"

/**
 * `$RANKFLOW_CACHE_DIR` when set, else `.cache/rankflow` in the node_modules
 * nearest to the entry (where tools keep caches), else in the OS temp dir.
 */
export function cacheDirOf(entryPath: string): string {
  return cacheLocation(entryPath).dir
}

/** Where the bundle cache of an entry is, why there, and the directory used when it cannot be written. */
export interface CacheLocation {
  readonly dir: string
  readonly source: "RANKFLOW_CACHE_DIR" | "node_modules" | "temp"
  /** The per-user directory in the OS temp dir, used when `dir` is read-only. */
  readonly fallback: string
}

/** The bundle cache for an entry file: see `cacheDirOf`. */
export function cacheLocation(entryPath: string): CacheLocation {
  const user = typeof process.getuid === "function" ? `-${process.getuid()}` : ""
  const fallback = join(tmpdir(), `rankflow-cache${user}`)
  const configured = process.env.RANKFLOW_CACHE_DIR
  if (configured !== undefined && configured !== "") return { dir: resolve(configured), source: "RANKFLOW_CACHE_DIR", fallback }
  for (let dir = dirname(entryPath); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules"))) return { dir: join(dir, "node_modules", ".cache", "rankflow"), source: "node_modules", fallback }
    if (dirname(dir) === dir) return { dir: fallback, source: "temp", fallback }
  }
}

/** The recorded manifest, if every input still has the content it was built from (and its bundle is there). */
async function currentManifest(manifestPath: string): Promise<Manifest | undefined> {
  let manifest: Manifest
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest
  } catch {
    return undefined
  }
  if (manifest.output !== undefined && !existsSync(join(dirname(manifestPath), manifest.output))) return undefined
  const same = await Promise.all(
    Object.entries(manifest.inputs).map(async ([file, digest]) => {
      const stamp = manifest.stamps?.[file]
      if (stamp !== undefined && stamp !== "" && stamp === (await stampOf(file))) return true
      return digest === (await readFile(file).then(hash, () => ""))
    }),
  )
  return same.every(Boolean) ? manifest : undefined
}

/** esbuild warnings that mean the bundle would not behave like the modules it came from. */
const UNSAFE_WARNINGS = new Set([
  "unsupported-dynamic-import",
  "unsupported-require-call",
  "commonjs-variable-in-esm",
  "import-is-undefined",
  "require-resolve-not-external",
])

type BuildOutput = Esbuild.BuildResult<{ metafile: true; write: false }>

/**
 * esbuild (CommonJS) when installed. Required, not imported: the supervisor's
 * bundle must hold no import() expression, or tsx recompiles the whole file
 * (0.05 → 0.3 s).
 */
function loadEsbuild(): typeof Esbuild | undefined {
  try {
    return createRequire(import.meta.url)("esbuild") as typeof Esbuild
  } catch {
    return undefined
  }
}

/** Builds the bundle (or finds out why there can be none) and records it in the cache. */
async function build(target: Target, cache: string, key: string, manifestPath: string): Promise<Manifest> {
  await mkdir(cache, { recursive: true })
  const esbuild = loadEsbuild()
  if (esbuild === undefined) return { inputs: {}, refused: "esbuild is not installed" } // not recorded: installing it fixes that
  const inputs = new Inputs()
  const externals = new Set<string>()
  // Paths in source maps are relative to the output directory: build for a sibling of the final one (same depth).
  const staging = join(cache, `${key}-${process.pid}-${randomBytes(4).toString("hex")}.tmp`)
  const only = target.packages === "inline" ? NOT_INLINED : undefined
  const result = await esbuild.build(options(target, staging, [externalPackages(externals, only), originalModules(esbuild, inputs)])).then(
    (output) => output,
    (error: Error) => error,
  )
  for (const file of [target.entry, target.bootstrap]) {
    const tsconfig = file === undefined ? undefined : nearestTsconfig(file)
    if (tsconfig !== undefined) await inputs.read(tsconfig)
  }
  for (const file of externals) await inputs.readIfThere(file)
  const recorded = Object.fromEntries([...inputs.digests].sort(([a], [b]) => a.localeCompare(b)))
  const stamps = Object.fromEntries([...inputs.stamps].sort(([a], [b]) => a.localeCompare(b)))
  const refused = result instanceof Error ? result.message : unbundlable(result, target.packages === "inline")
  const manifest: Manifest =
    result instanceof Error || refused !== undefined
      ? { inputs: recorded, stamps, refused: refused ?? "" }
      : { inputs: recorded, stamps, output: await store(result, staging, key, `${key}-${hash(JSON.stringify(recorded)).slice(0, 16)}`) }
  await writeAtomically(manifestPath, JSON.stringify(manifest))
  return manifest
}

function options(target: Target, outdir: string, plugins: Esbuild.Plugin[]): Esbuild.BuildOptions & { metafile: true; write: false } {
  return {
    entryPoints: { [entryName(target)]: target.entry, ...(target.bootstrap === undefined ? {} : { [BOOTSTRAP_NAME]: target.bootstrap }) },
    bundle: true,
    splitting: true, // dynamic imports become chunks loaded on demand: the supervisor's stay unloaded on ranks
    format: "esm",
    platform: "node",
    target: `node${process.versions.node}`,
    conditions: [], // Node's own: import, node, default (no "module")
    outdir,
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    chunkNames: "chunk-[hash]",
    // The supervisor's bundle has none, like the prebuilt one in dist/: Effect reads an Error's
    // stack as it loads, and with source maps on (tsx, the bin) Node then parsed this map of
    // ~400 modules on every start (~50 ms). Its frames are rankflow's and Effect's, not the program's.
    sourcemap: target.packages === "inline" ? false : "linked",
    sourcesContent: false,
    keepNames: true,
    metafile: true,
    write: false,
    logLevel: "silent",
    plugins,
    // Bundled CommonJS may require Node's built-in modules.
    ...(target.packages === "inline" ? { banner: { js: 'import { createRequire as __rankflowRequire } from "node:module"; const require = __rankflowRequire(import.meta.url);' } } : {}),
  }
}

/** Writes the bundle under a temporary name and renames it into place; its directory name. */
async function store(result: BuildOutput, staging: string, key: string, output: string): Promise<string> {
  await mkdir(staging)
  await Promise.all(result.outputFiles.map((f) => writeFile(join(staging, basename(f.path)), f.contents)))
  // When another run got there first, its bundle has the same content: keep it.
  await rename(staging, join(dirname(staging), output)).catch(() => rm(staging, { recursive: true, force: true }))
  await prune(dirname(staging), key, output)
  return output
}

/** Superseded bundles of an entry are kept this long, for runs that may still be loading them. */
const KEEP_OLD_MS = 10 * 60 * 1000
/** An entry whose bundle was not used for this long is removed (its manifest's mtime is its last use). */
const UNUSED_MS = 7 * 24 * 3600 * 1000

/**
 * Keeps the cache small, after each build: removes this entry's superseded
 * bundles and abandoned temporary files once they are old enough, and every
 * entry not run for a week.
 */
async function prune(cache: string, key: string, keep: string): Promise<void> {
  const now = Date.now()
  const age = async (name: string): Promise<number> => now - ((await stat(join(cache, name)).catch(() => undefined))?.mtimeMs ?? now)
  const names = await readdir(cache)
  const unused = new Set<string>()
  for (const name of names) {
    const owner = name.slice(0, -".json".length)
    if (name.endsWith(".json") && owner !== key && (await age(name)) > UNUSED_MS) unused.add(owner)
  }
  for (const name of names) {
    const owner = name.split(/[-.]/)[0]!
    const superseded = owner === key && name !== keep && name !== `${key}.json`
    const stale = ((superseded || name.endsWith(".tmp")) && (await age(name)) > KEEP_OLD_MS) || unused.has(owner)
    if (stale) await rm(join(cache, name), { recursive: true, force: true })
  }
}

/**
 * Why this build's output cannot stand in for the original modules, if it
 * cannot. CommonJS packages are refused for ranks (whose packages stay
 * outside, so one would have been bundled by mistake); the supervisor's
 * bundle takes them in (rxjs is CommonJS for Node), with `require` at hand.
 */
function unbundlable(result: BuildOutput, commonJsAllowed: boolean): string | undefined {
  const at = (w: Esbuild.Message): string => resolve(w.location?.file ?? "?")
  const warning = result.warnings.find((w) => UNSAFE_WARNINGS.has(w.id) && !isOwnSource(at(w)))
  if (warning !== undefined) return `${at(warning)}: ${warning.text}`
  if (commonJsAllowed) return undefined
  const commonJs = Object.keys(result.metafile.inputs).find((file) => result.metafile.inputs[file]!.format === "cjs")
  return commonJs === undefined ? undefined : `${commonJs} is CommonJS`
}

async function writeAtomically(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`
  await writeFile(temp, data)
  await rename(temp, path)
}

/** The tsconfig.json nearest to a file: it decides `paths` resolution and how its TypeScript is compiled. */
function nearestTsconfig(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, "tsconfig.json")
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * Packages stay outside the bundle, imported by the absolute URL esbuild
 * resolves them to from the importing file (Node's conditions), so each
 * resolves as it did from the source and the bundle may live anywhere.
 * Bare specifiers that resolve into the project (tsconfig `paths`) are bundled.
 * With `only`, just those packages stay outside; the others are bundled in.
 */
function externalPackages(externals: Set<string>, only?: ReadonlySet<string>): Esbuild.Plugin {
  return {
    name: "rankflow-external-packages",
    setup(build) {
      build.onResolve({ filter: /^[^./]|^\.[^./]|^\.\.[^/]/ }, async (args) => {
        if (args.pluginData === "inner" || args.path.startsWith("node:")) return undefined
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: "inner",
        })
        if (resolved.errors.length > 0 || resolved.external || !resolved.path.includes(`${sep}node_modules${sep}`))
          return undefined
        const esm = esmTwin(resolved.path, only === undefined)
        if (esm !== undefined) return { path: esm }
        if (only !== undefined && !only.has(args.path.split("/")[0]!)) return undefined
        externals.add(resolved.path)
        return { path: pathToFileURL(resolved.path).href, external: true }
      })
    },
  }
}

/**
 * Packages whose CommonJS files (what Node's conditions pick) have an ESM
 * build beside them, file for file, that a bundle can take instead:
 * - fp-ts's `lib/` → `es6/` (Node cannot load es6/ itself: no `exports`, no
 *   `"type": "module"`): a rank then loads no CommonJS (~20 ms per rank:
 *   Node's CommonJS loader and export lexer);
 * - rxjs's `dist/cjs/` → `dist/esm/` (the supervisor's bundle only): the
 *   ESM build is tree-shaken to the few operators used, which halves the
 *   bundle (0.70 → 0.34 MB) and its load.
 */
const ESM_BUILDS: ReadonlyArray<{ readonly cjs: string; readonly esm: string; readonly ranks: boolean }> = [
  { cjs: `${sep}node_modules${sep}fp-ts${sep}lib${sep}`, esm: `${sep}node_modules${sep}fp-ts${sep}es6${sep}`, ranks: true },
  { cjs: `${sep}node_modules${sep}rxjs${sep}dist${sep}cjs${sep}`, esm: `${sep}node_modules${sep}rxjs${sep}dist${sep}esm${sep}`, ranks: false },
]

/** The ESM twin of a package's CommonJS file (see ESM_BUILDS), when there is one. */
function esmTwin(path: string, forRanks: boolean): string | undefined {
  for (const { cjs, esm, ranks } of ESM_BUILDS) {
    const at = path.lastIndexOf(cjs)
    if (at < 0 || (forRanks && !ranks)) continue
    const twin = path.slice(0, at) + esm + path.slice(at + cjs.length)
    if (existsSync(twin)) return twin
  }
  return undefined
}

const LOADERS: Record<string, Esbuild.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".jsx": "jsx",
  ".json": "json",
}

/**
 * Loads every bundled file itself: records the content hash of exactly what
 * went into the bundle, refuses modules whose dynamic imports esbuild cannot
 * follow, and gives each module its own `import.meta` values.
 */
function originalModules(esbuild: typeof Esbuild, inputs: Inputs): Esbuild.Plugin {
  return {
    name: "rankflow-original-modules",
    setup(build) {
      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        const source = await inputs.read(args.path)
        const loader = LOADERS[extname(args.path)] ?? "default"
        if (loader === "json" || loader === "default") return { contents: source, loader }
        const text = source.toString("utf8")
        if (!isOwnSource(args.path) && (await importsComputed(esbuild, text, loader)))
          return { errors: [{ text: "a dynamic import of a computed specifier cannot be bundled (it may load TypeScript at run time)" }] }
        if (!text.includes("import.meta")) return { contents: source, loader }
        const tsconfig = nearestTsconfig(args.path)
        const tsconfigRaw = tsconfig === undefined ? undefined : (await inputs.read(tsconfig)).toString("utf8")
        return { contents: await withOwnImportMeta(esbuild, { text, path: args.path, loader, tsconfigRaw }), loader: "js" }
      })
    },
  }
}

/**
 * True when the module has an `import(…)` whose specifier is not a plain
 * string literal: the bundle leaves it to run time, where a rank without tsx
 * could not load a .ts file. Checked on the compiled JS (no comments or
 * types); an `import(` inside a string counts too, which only costs the
 * optimisation.
 */
async function importsComputed(esbuild: typeof Esbuild, text: string, loader: Esbuild.Loader): Promise<boolean> {
  if (!/\bimport\s*\(/.test(text)) return false
  const { code } = await esbuild.transform(text, { loader, format: "esm", target: `node${process.versions.node}` })
  return /(?<![.\w$])import\s*\((?!\s*"[^"\\$]*"\s*[,)])/.test(code)
}

/** One module's source, to compile on its own. */
interface Module {
  readonly text: string
  readonly path: string
  readonly loader: Esbuild.Loader
  /** Its tsconfig.json, for the compiler options that change how TypeScript compiles (`extends` is not followed). */
  readonly tsconfigRaw: string | undefined
}

/**
 * Compiles one module with its own `import.meta.url`/`filename`/`dirname` as
 * constants, and `import.meta.resolve` resolving relative specifiers against
 * its original URL (bare ones resolve from the bundle, which sits in the
 * project's node_modules). The inline source map lets esbuild map the bundle
 * back to the original file.
 */
async function withOwnImportMeta(esbuild: typeof Esbuild, { text, path, loader, tsconfigRaw }: Module): Promise<string> {
  const url = pathToFileURL(path).href
  const resolver = "__rankflowImportMetaResolve"
  const usesResolve = text.includes("import.meta.resolve")
  const result = await esbuild.transform(text, {
    loader,
    ...(tsconfigRaw === undefined ? {} : { tsconfigRaw }),
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: path,
    sourcemap: "inline",
    define: {
      "import.meta.url": JSON.stringify(url),
      "import.meta.filename": JSON.stringify(path),
      "import.meta.dirname": JSON.stringify(dirname(path)),
      ...(usesResolve ? { "import.meta.resolve": resolver } : {}),
    },
    ...(usesResolve
      ? {
          banner: `const ${resolver} = (s) => /^(\\.{0,2}\\/|[a-z][a-z0-9+.-]*:)/i.test(s) ? new URL(s, ${JSON.stringify(url)}).href : import.meta.resolve(s);`,
        }
      : {}),
  })
  return result.code
}
