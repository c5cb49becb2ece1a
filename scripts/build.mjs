// Builds dist/ for the package (`npm run build`, and `prepack` before `npm pack`/`npm publish`):
//  1. tsc -p tsconfig.build.json: ESM JavaScript, declarations, declaration and source maps
//     (stripInternal keeps `@internal` members out of the public types);
//  2. relative `.ts` specifiers in the declarations become `.js` (tsc rewrites them in the
//     JavaScript only; a consumer's tsc refuses `.ts` imports with TS5097);
//  3. the supervisor's side (Effect, rxjs and rankflow's own supervisor modules) is bundled into
//     one file, dist/runtime/supervisorSide.bundle.js, so that the first run of a compiled-JS
//     consumer does not build it into the cache (see src/runtime/loadSupervisor.ts);
//  4. the rank side — the library every program imports and the rank bootstrap (rankEntry) — is
//     bundled into one shared chunk with two small entries, dist/runtime/rankflow.bundle.js and
//     dist/runtime/rankEntry.bundle.js, with fp-ts's ESM build inlined; dist/index.js re-exports the
//     former. Every thread (the main one and each rank) then loads 2–3 files instead of ~60 modules
//     and fp-ts as CommonJS: ~60 ms less per thread (80 → 20 ms for `import "rankflow"` here).
import { execFileSync } from "node:child_process"
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const dist = join(root, "dist")
const require = createRequire(import.meta.url)

rmSync(dist, { recursive: true, force: true })
execFileSync(join(root, "node_modules", ".bin", process.platform === "win32" ? "tsc.cmd" : "tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" })

chmodSync(join(dist, "bin.js"), 0o755) // `npx rankflow` in this repository runs it directly

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))

// `from "./x.ts"`, `import "./x.ts"`, `import("./x.ts")`, `declare module "./x.ts"`: relative specifiers only.
const TS_SPECIFIER = /((?:from|import|module)\s*\(?\s*")(\.{1,2}\/[^"]*?)\.([cm]?)ts(")/g
for (const file of files(dist).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8")
  const rewritten = text.replace(TS_SPECIFIER, (_, head, path, kind, tail) => `${head}${path}.${kind}js${tail}`)
  if (rewritten !== text) writeFileSync(file, rewritten)
}

// The supervisor bundle: packages bundled in but for esbuild (native) and cli-progress (loaded only
// for --progress), which stay ordinary imports resolved from dist/runtime. Every module that reads
// import.meta.url sits in dist/runtime or dist/transport (the same depth), and the bundle sits in
// dist/runtime, so their relative URLs (rankEntry.js, ../../build/Release) resolve as from the modules.
const esbuild = require("esbuild")

// The ESM builds of rxjs (dist/esm/, tree-shaken: the supervisor bundle 0.70 → 0.34 MB) and fp-ts
// (es6/) instead of the CommonJS ones Node's conditions pick, as src/runtime/bundle.ts's ESM_BUILDS.
const fpTsLib = join(dirname(require.resolve("fp-ts/package.json")), "lib") + sep
const ESM_BUILDS = [
  [fpTsLib, join(dirname(fpTsLib), "es6") + sep],
  [join(dirname(require.resolve("rxjs/package.json")), "dist", "cjs") + sep, join(dirname(require.resolve("rxjs/package.json")), "dist", "esm") + sep],
]
function esmBuilds() {
  return {
    name: "rankflow-esm-builds",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.path.startsWith("node:") || args.pluginData === "inner") return undefined
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "inner" })
        const twin = ESM_BUILDS.find(([cjs]) => resolved.path.startsWith(cjs))
        return twin === undefined ? undefined : { path: twin[1] + resolved.path.slice(twin[0].length) }
      })
    },
  }
}
const side = join(dist, "runtime", "supervisorSide.js")
const result = await esbuild.build({
  entryPoints: [side],
  outfile: join(dist, "runtime", "supervisorSide.bundle.js"),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  conditions: [],
  external: ["esbuild", "cli-progress"],
  keepNames: true,
  metafile: true,
  logLevel: "warning",
  plugins: [esmBuilds()],
  banner: { js: 'import { createRequire as __rankflowRequire } from "node:module"; const require = __rankflowRequire(import.meta.url);' },
})
const outside = Object.keys(result.metafile.inputs).filter(
  (f) => !f.includes("node_modules/") && !/^dist\/(runtime|transport|cli|comm)\//.test(relative(root, join(root, f))),
)
const metaReaders = Object.keys(result.metafile.inputs).filter(
  (f) => !f.includes("node_modules/") && readFileSync(join(root, f), "utf8").includes("import.meta") && !/^dist\/(runtime|transport)\//.test(f),
)
if (metaReaders.length > 0) throw new Error(`the supervisor bundle cannot keep import.meta.url of ${metaReaders.join(", ")}`)
const bundled = readFileSync(join(dist, "runtime", "supervisorSide.bundle.js"), "utf8")
console.log(`build: dist/ written; supervisor bundle ${(bundled.length / 1024).toFixed(0)} kB from ${Object.keys(result.metafile.inputs).length} modules${outside.length ? ` (also ${outside.join(", ")})` : ""}`)

// The rank side. Packages stay outside (resolved from dist/runtime, as from the modules) but fp-ts,
// whose ESM build (es6/) replaces its CommonJS one (lib/). Dynamic imports of rankflow's own
// modules (the supervisor's side, the bundler) stay outside too, re-pathed from dist/runtime: ranks
// never load them. As for the supervisor bundle, every import.meta reader sits at dist/runtime's depth.
const runtime = join(dist, "runtime")
const rankSide = await esbuild.build({
  entryPoints: { "rankflow.bundle": join(dist, "index.js"), "rankEntry.bundle": join(runtime, "rankEntry.js") },
  outdir: runtime,
  bundle: true,
  splitting: true,
  chunkNames: "rankflow.chunk-[hash]",
  format: "esm",
  platform: "node",
  target: "node20.19",
  conditions: [],
  keepNames: true,
  metafile: true,
  // No source map, like the supervisor bundle: with source maps on (the bin and tsx turn them on,
  // on every rank too) Node reads and parses a bundle's map as it loads it, ~15 ms per thread for
  // this one (measured: 45 ms CPU more for a 2-rank hello with --enable-source-maps). rankflow's
  // frames then name the bundle's lines (function names are kept); the program's own frames are
  // mapped as before (its bundle has a map).
  logLevel: "warning",
  plugins: [
    {
      name: "rankflow-rank-side",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, async (args) => {
          if (args.path.startsWith("node:") || args.pluginData === "inner") return undefined
          const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "inner" })
          if (resolved.path.startsWith(fpTsLib)) return { path: join(dirname(fpTsLib), "es6", resolved.path.slice(fpTsLib.length)) }
          return { path: args.path, external: true }
        })
        build.onResolve({ filter: /^\./ }, (args) => {
          if (args.kind !== "dynamic-import") return undefined
          const target = relative(runtime, join(args.resolveDir, args.path)).split(sep).join("/")
          return { path: target.startsWith(".") ? target : `./${target}`, external: true }
        })
      },
    },
  ],
})
const rankInputs = Object.keys(rankSide.metafile.inputs).filter((f) => !f.includes("node_modules/"))
const rankMetaReaders = rankInputs.filter((f) => readFileSync(join(root, f), "utf8").includes("import.meta") && !/^dist\/(runtime|transport)\//.test(f))
if (rankMetaReaders.length > 0) throw new Error(`the rank-side bundle cannot keep import.meta.url of ${rankMetaReaders.join(", ")}`)
const fpTsCommonJs = Object.keys(rankSide.metafile.inputs).filter((f) => f.includes("node_modules/fp-ts/lib/"))
if (fpTsCommonJs.length > 0) throw new Error(`the rank-side bundle took fp-ts's CommonJS build: ${fpTsCommonJs.join(", ")}`)
writeFileSync(join(dist, "index.js"), '// The package\'s entry: the rank-side bundle (scripts/build.mjs), one file instead of ~60 modules.\nexport * from "./runtime/rankflow.bundle.js"\n')
rmSync(join(dist, "index.js.map"), { force: true })
const rankBytes = Object.values(rankSide.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
console.log(`build: rank-side bundle ${(rankBytes / 1024).toFixed(0)} kB from ${rankInputs.length} modules and fp-ts's ESM build`)

const addon = join(root, "build", "Release", "rankflow_native.node")
const sources = ["native/kernels.c", "native/heap_guard.cc", "binding.gyp"].map((f) => join(root, f))
if (!existsSync(addon) || sources.some((source) => statSync(addon).mtimeMs < statSync(source).mtimeMs))
  execFileSync(process.execPath, [join(root, "native", "build.mjs")], { stdio: "inherit" })
const prebuilds = join(root, "prebuilds")
rmSync(prebuilds, { recursive: true, force: true })
if (existsSync(addon)) {
  const libc = process.platform !== "linux" ? "" : process.report.getReport().header.glibcVersionRuntime === undefined ? ".musl" : ".glibc"
  const target = join(prebuilds, `${process.platform}-${process.arch}`, `rankflow_native.napi${libc}.node`)
  mkdirSync(dirname(target), { recursive: true })
  copyFileSync(addon, target)
  console.log(`build: prebuilt addon ${relative(root, target)}`)
} else console.warn("build: no native addon built here (see build/rankflow-native.json): the package ships no prebuilt binary")
