// Ranks run a bundle of the entry (plain JS, no tsx): built once, reused, faithful to the sources, and never fatal.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join, sep } from "node:path"
import { pathToFileURL } from "node:url"
import test from "ava"
import { RankFailed, runRanks } from "rankflow"
import { bundleForRanks, cacheDirOf, OWN_SOURCES } from "../../src/runtime/bundle.ts"
import { ROOT } from "../helpers.ts"

// This file's bundles go to a cache of its own, removed at the end (the variable is read per run, in this process only).
const CACHE = mkdtempSync(join(tmpdir(), "rankflow-bundle-cache-"))
process.env.RANKFLOW_CACHE_DIR = CACHE
test.after.always(() => rmSync(CACHE, { recursive: true, force: true }))

const BOOTSTRAP = pathToFileURL(join(ROOT, "src/runtime/rankEntry.ts")).href
const INDEX = JSON.stringify(join(ROOT, "src/index.ts"))

/**
 * Writes `files` into a fresh ESM package outside the repository; the first
 * file's URL.
 */
function program(files: Record<string, string>): { url: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-bundle-test-"))
  for (const [name, text] of Object.entries({ ...files, "package.json": '{ "type": "module" }' })) writeFileSync(join(dir, name), text)
  return { url: pathToFileURL(join(dir, Object.keys(files)[0]!)).href, dir }
}

/** A rank function that tells whether its code came from a bundle: without source maps, its frames name the bundled file. */
const WHERE = `
import { SUM, type Comm } from ${INDEX}
import { readFileSync } from "node:fs"
export function where(comm: Comm): { bundled: boolean; url: string; data: string; sum: number } {
  process.setSourceMapsEnabled(false)
  const frame = new Error().stack!.split("\\n")[1]!
  process.setSourceMapsEnabled(true)
  const data = readFileSync(new URL("./data.txt", import.meta.url), "utf8")
  return { bundled: /\\.mjs:\\d+/.test(frame), url: import.meta.url, data, sum: comm.allreduce(comm.rank, SUM) }
}
export function fails(comm: Comm): void {
  if (comm.rank === 1) throw new Error("failing on purpose")
}
`

test("a TypeScript entry is bundled once, reused while unchanged, rebuilt when edited", async (t) => {
  const { url, dir } = program({ "entry.ts": WHERE, "data.txt": "next to the source" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = await bundleForRanks(url, BOOTSTRAP)
  const second = await bundleForRanks(url, BOOTSTRAP)
  t.like(first, { _tag: "Bundled", cached: false })
  t.like(second, { _tag: "Bundled", cached: true })
  if (first._tag !== "Bundled" || second._tag !== "Bundled") return
  t.is(second.dir, first.dir)
  t.is(dirname(first.dir), CACHE)
  writeFileSync(new URL(url), `${WHERE}\nexport const edited = true\n`)
  const third = await bundleForRanks(url, BOOTSTRAP)
  t.like(third, { _tag: "Bundled", cached: false })
  if (third._tag === "Bundled") t.not(third.dir, first.dir)
})

test("inputs are checked by stamp, then content: a touched but unchanged file keeps the bundle, a same-size edit rebuilds it", async (t) => {
  const { url, dir } = program({ "entry.ts": `${WHERE}\nexport const version = "A"\n`, "data.txt": "next to the source" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = await bundleForRanks(url, BOOTSTRAP)
  if (first._tag !== "Bundled") return t.fail(first.reason)
  const later = new Date(Date.now() + 5000)
  utimesSync(new URL(url), later, later) // a new stamp, the same content: hashed, found unchanged
  t.like(await bundleForRanks(url, BOOTSTRAP), { _tag: "Bundled", cached: true, dir: first.dir })
  writeFileSync(new URL(url), `${WHERE}\nexport const version = "B"\n`) // same size, new stamp
  const edited = await bundleForRanks(url, BOOTSTRAP)
  t.like(edited, { _tag: "Bundled", cached: false })
  if (edited._tag === "Bundled") t.not(edited.dir, first.dir)
})

test("ranks run the bundle with each module's own import.meta.url, and stacks point at the .ts source", async (t) => {
  const { url, dir } = program({ "entry.ts": WHERE, "data.txt": "next to the source" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const results = await runRanks({ ranks: 3, module: url, export: "where", timeoutSeconds: 60 })
  t.deepEqual(results, [0, 1, 2].map(() => ({ bundled: true, url, data: "next to the source", sum: 3 })))
  const error = await t.throwsAsync(runRanks({ ranks: 2, module: url, export: "fails", timeoutSeconds: 60 }), { instanceOf: RankFailed })
  t.regex(error!.failures[0]!.stack, /Error: failing on purpose\n\s+at fails \(.*entry\.ts:12:\d+\)/)
})

test("concurrent runs of a new entry all get one complete bundle", async (t) => {
  const { url, dir } = program({ "entry.ts": WHERE, "data.txt": "" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bundles = await Promise.all([0, 1, 2, 3].map(() => bundleForRanks(url, BOOTSTRAP)))
  const dirs = new Set(bundles.map((b) => (b._tag === "Bundled" ? b.dir : b.reason)))
  t.is(dirs.size, 1)
  const results = await runRanks<{ bundled: boolean }>({ ranks: 2, module: url, export: "where", timeoutSeconds: 60 })
  t.deepEqual(results.map((r) => r.bundled), [true, true])
})

test("bundles are cached in the node_modules nearest to the entry, else in the OS temp dir", (t) => {
  delete process.env.RANKFLOW_CACHE_DIR // synchronously restored: the other tests of this file never see it unset
  try {
    t.is(cacheDirOf(join(ROOT, "examples/hello.ts")), join(ROOT, "node_modules/.cache/rankflow"))
    t.is(cacheDirOf("/no/such/dir/entry.ts"), join(tmpdir(), `rankflow-cache-${process.getuid!()}`))
  } finally {
    process.env.RANKFLOW_CACHE_DIR = CACHE
  }
})

test("a cache that cannot be written (read-only node_modules) falls back to the per-user one in the OS temp dir", async (t) => {
  const { url, dir } = program({ "entry.ts": WHERE, "data.txt": "" })
  const temp = mkdtempSync(join(tmpdir(), "rankflow-bundle-tmp-"))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.teardown(() => rmSync(temp, { recursive: true, force: true }))
  mkdirSync(join(dir, "node_modules"))
  writeFileSync(join(dir, "node_modules", ".cache"), "a file where the cache directory would go") // unwritable even for root
  const tmp = process.env.TMPDIR
  delete process.env.RANKFLOW_CACHE_DIR // both read synchronously by bundleForRanks, then restored before any other test runs
  process.env.TMPDIR = temp
  const pending = bundleForRanks(url, BOOTSTRAP)
  process.env.RANKFLOW_CACHE_DIR = CACHE
  if (tmp === undefined) delete process.env.TMPDIR
  else process.env.TMPDIR = tmp
  const bundled = await pending
  t.like(bundled, { _tag: "Bundled", cached: false })
  if (bundled._tag === "Bundled") t.is(dirname(bundled.dir), join(temp, `rankflow-cache-${process.getuid!()}`))
})

test("ranks do not load Effect or rxjs: the bundle's statically imported files never import them", async (t) => {
  const bundle = await bundleForRanks(pathToFileURL(join(ROOT, "examples/hello.ts")).href, BOOTSTRAP)
  if (bundle._tag !== "Bundled") return t.fail(bundle.reason)
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(join(bundle.dir, file), "utf8")
    t.notRegex(text, /^import[^;]*from "[^"]*node_modules\/(effect|rxjs)\//m, file)
    for (const m of text.matchAll(/^import (?:[^;]*? from )?"\.\/([^"]+)"/gm)) visit(m[1]!)
  }
  visit("hello.mjs")
  visit("rankflow-rank.mjs")
  const all = readFileSync(join(bundle.dir, "hello.mjs"), "utf8")
  t.regex(all, /await import\("\.\/chunk-[^"]+\.mjs"\)/) // the supervisor half is a chunk loaded on demand
  t.true(seen.size >= 2)
})

test("rankflow's own sources, whose dynamic imports are meant, are both src/ and dist/ (the bin runs from dist/ and bundles programs importing src/)", (t) => {
  t.deepEqual([...OWN_SOURCES].sort(), [join(ROOT, "dist") + sep, join(ROOT, "src") + sep])
})

test("ranks load no CommonJS fp-ts: its ESM build (es6/) is bundled in instead of importing lib/ from node_modules", async (t) => {
  const bundle = await bundleForRanks(pathToFileURL(join(ROOT, "examples/hello.ts")).href, BOOTSTRAP)
  if (bundle._tag !== "Bundled") return t.fail(bundle.reason)
  const files = readdirSync(bundle.dir).filter((f) => f.endsWith(".mjs"))
  const texts = files.map((f) => readFileSync(join(bundle.dir, f), "utf8"))
  for (const [i, text] of texts.entries()) t.notRegex(text, /(from |import\()"[^"]*node_modules\/fp-ts\//, files[i])
  t.true(texts.some((text) => /fp-ts\/es6\/Monoid\.js/.test(text)), "fp-ts's Monoid (comm/ops.ts) is bundled from its ESM build")
})

test("an entry that cannot be bundled (computed dynamic import) runs through tsx, and the verdict is cached", async (t) => {
  const { url, dir } = program({
    "entry.ts": `
import type { Comm } from ${INDEX}
const helper = ["./helper", "ts"].join(".")
export async function load(comm: Comm): Promise<number> {
  const { value } = (await import(new URL(helper, import.meta.url).href)) as { value: number }
  return value + comm.rank
}
`,
    "helper.ts": "export const value: number = 40\n",
  })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const verdict = await bundleForRanks(url, BOOTSTRAP)
  t.like(verdict, { _tag: "NotBundled" })
  t.regex(verdict._tag === "NotBundled" ? verdict.reason : "", /dynamic import of a computed specifier/)
  t.deepEqual(await bundleForRanks(url, BOOTSTRAP), verdict)
  t.deepEqual(await runRanks({ ranks: 2, module: url, export: "load", timeoutSeconds: 60 }), [40, 41])
})

test("a syntax error esbuild rejects is not the optimisation's to report: the run fails as it would under tsx", async (t) => {
  const { url, dir } = program({ "entry.ts": "export const broken = (comm: unknown) => {\n" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  t.like(await bundleForRanks(url, BOOTSTRAP), { _tag: "NotBundled" })
  const error = await t.throwsAsync(runRanks({ ranks: 1, module: url, export: "broken", timeoutSeconds: 60 }), { instanceOf: RankFailed })
  t.regex(error!.message, /rank 0 failed/)
})

test("a build prunes the cache: superseded bundles of its entry and entries unused for a week go, the rest stays", async (t) => {
  const { url, dir } = program({ "entry.ts": WHERE, "data.txt": "" })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const old = (days: number): Date => new Date(Date.now() - days * 24 * 3600 * 1000)
  const fake = (name: string, days: number): string => {
    const path = join(CACHE, name)
    mkdirSync(path, { recursive: true })
    utimesSync(path, old(days), old(days))
    return path
  }
  const first = await bundleForRanks(url, BOOTSTRAP)
  if (first._tag !== "Bundled") return t.fail(first.reason)
  const key = basename(first.dir).split("-")[0]!
  const superseded = fake(`${key}-0000000000000000`, 1)
  const recent = fake(`${key}-1111111111111111`, 0)
  const abandoned = fake(`${key}-123-abcd.tmp`, 1)
  writeFileSync(join(CACHE, "feedfeedfeedfeed.json"), "{}")
  utimesSync(join(CACHE, "feedfeedfeedfeed.json"), old(8), old(8))
  const unused = fake("feedfeedfeedfeed-2222222222222222", 8)
  const used = fake("beefbeefbeefbeef-3333333333333333", 8) // no manifest of its own: not an entry's last use to judge
  writeFileSync(new URL(url), `${WHERE}\nexport const edited = 1\n`)
  const second = await bundleForRanks(url, BOOTSTRAP)
  t.like(second, { _tag: "Bundled", cached: false })
  t.deepEqual(
    [superseded, recent, abandoned, unused, used, first.dir].map((p) => existsSync(p)),
    [false, true, false, false, true, true],
  )
})

test("the supervisor's side is one bundled file with Effect and rxjs inside and no import() for tsx to recompile, and it loads", async (t) => {
  const { bundleSupervisor } = await import("../../src/runtime/bundle.ts")
  const url = await bundleSupervisor(pathToFileURL(join(ROOT, "src/runtime/supervisorSide.ts")).href)
  t.truthy(url, "the supervisor side could not be bundled")
  const esbuild = await import("esbuild")
  // esbuild's parser tells import() expressions from the text "import(" in strings (the worker's boot code has some).
  const scan = await esbuild.build({ entryPoints: [new URL(url!).pathname], bundle: true, write: false, metafile: true, logLevel: "silent", platform: "node", format: "esm", external: ["*"] })
  const imports = Object.values(scan.metafile.inputs).flatMap((input) => input.imports)
  t.deepEqual(imports.filter((i) => i.kind === "dynamic-import"), [])
  t.false(imports.some((i) => /(^|\/)(effect|rxjs)(\/|$)/.test(i.path)), "Effect and rxjs are inside the bundle")
  // rxjs and fp-ts come from their ESM builds (tree-shaken), not the CommonJS ones Node's conditions pick.
  const text = readFileSync(new URL(url!), "utf8")
  t.regex(text, /node_modules\/rxjs\/dist\/esm\//)
  t.notRegex(text, /node_modules\/(rxjs\/dist\/cjs|fp-ts\/lib)\//)
  const side = (await import(url!)) as typeof import("../../src/runtime/supervisorSide.ts")
  t.is(typeof side.superviseMain, "function")
})

test("a program's own rankflow errors are recognised by the bundled supervisor (another copy of the classes)", async (t) => {
  const { isRankflowError, InvalidOptions } = await import("rankflow")
  const { bundleSupervisor } = await import("../../src/runtime/bundle.ts")
  const url = await bundleSupervisor(pathToFileURL(join(ROOT, "src/runtime/supervisorSide.ts")).href)
  const side = (await import(url!)) as typeof import("../../src/runtime/supervisorSide.ts")
  const theirs = (() => {
    try {
      side.decodePositiveInt("ranks", "zero")
    } catch (e) {
      return e
    }
  })()
  t.false(theirs instanceof InvalidOptions) // a different class object…
  t.true(isRankflowError(theirs)) // …still recognised, as the supervisor recognises ours
  t.true(isRankflowError(new InvalidOptions("--x", "bad")))
  t.false(isRankflowError(Object.assign(new Error("imitation"), { _tag: "InvalidOptions" })))
})
