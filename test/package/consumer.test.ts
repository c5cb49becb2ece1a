// rankflow as a consumer gets it: `npm pack` → an offline install into a fresh project → the
// consumer's own tsc (strict, skipLibCheck off) under NodeNext and Bundler resolution → a 2-rank
// send/recv program and a pipeline, run with tsx and, compiled, with plain node.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test, { type ExecutionContext } from "ava"
import type { Check } from "../../src/runtime/doctor.ts"
import { consumer, npm, pack, run, TSC } from "./project.ts"

const PROGRAMS = ["sendrecv.ts", "pipeline.ts"]
const SENDRECV = /received hello 1,2,3 and 3 × Float64Array: 1.5,2.5,3.5\nsum over 2 ranks: 3\n/
const PIPELINE = /sum of squares below 1000 on 2 ranks: 332833500\n/

const work = mkdtempSync(join(tmpdir(), "rankflow-pack-"))
let project = ""
/** The same tarball installed with `--ignore-scripts`: no addon build (nor esbuild's postinstall). */
let bare = ""
test.after.always(() => {
  rmSync(work, { recursive: true, force: true })
  for (const dir of [project, bare].filter((d) => d !== "")) {
    chmodSync(join(dir, "node_modules"), 0o755)
    rmSync(dir, { recursive: true, force: true })
  }
})

const base = { target: "ES2022", strict: true, skipLibCheck: false, types: ["node"] }
const TSCONFIGS = {
  "tsconfig.nodenext.json": { ...base, module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" },
  // lib DOM too: the declarations must not clash with the DOM's globals (WebAssembly did, TS2352)
  "tsconfig.bundler.json": { ...base, module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM"], noEmit: true },
}

test.before(async (t) => {
  t.timeout(300_000) // a bound against hangs: packing, installing and building the addon take ~30 s
  const tarball = await pack(work)
  ;[project, bare] = await Promise.all([consumer(tarball, { extra: ["@types/node"] }), consumer(tarball, { extra: ["@types/node"], ignoreScripts: true })])
  for (const dir of [project, bare]) {
    for (const file of PROGRAMS) copyFileSync(new URL(`./consumer/${file}`, import.meta.url), join(dir, file))
    for (const [name, compilerOptions] of Object.entries(TSCONFIGS))
      writeFileSync(join(dir, name), JSON.stringify({ compilerOptions, include: PROGRAMS }))
  }
})

/** `rankflow doctor --json` in `dir`: the checks by name. */
async function doctor(dir: string): Promise<Record<string, Check>> {
  const ran = await run(join(dir, "node_modules", ".bin", "rankflow"), ["doctor", "--json"], dir)
  if (ran.code !== 0) throw new Error(`rankflow doctor failed (${ran.code}): ${ran.stderr}`)
  const { checks } = JSON.parse(ran.stdout) as { checks: Check[] }
  return Object.fromEntries(checks.map((c) => [c.name, c]))
}

/** Files (recursively) under `dir`; none when it does not exist. */
const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }) : [])

test.serial("the tarball holds the built package: JavaScript, declarations without internals, the supervisor bundle, the addon prebuilt for this platform", (t) => {
  const dist = join(project, "node_modules", "rankflow", "dist")
  for (const file of ["index.js", "index.d.ts", "index.d.ts.map", "runtime/supervisorSide.bundle.js", "runtime/rankEntry.js", "runtime/rankflow.bundle.js", "runtime/rankEntry.bundle.js", "bin.js"])
    t.true(existsSync(join(dist, file)), file)
  // The package's entry is the rank-side bundle: one file (and its shared chunk) instead of ~60 modules per thread.
  t.regex(readFileSync(join(dist, "index.js"), "utf8"), /export \* from "\.\/runtime\/rankflow\.bundle\.js"/)
  const prebuilds = join(project, "node_modules", "rankflow", "prebuilds", `${process.platform}-${process.arch}`)
  t.true(existsSync(prebuilds) && readdirSync(prebuilds).some((f) => f.endsWith(".napi.glibc.node") || f.endsWith(".napi.musl.node") || f.endsWith(".napi.node")))
  const comm = readFileSync(join(dist, "comm", "comm.d.ts"), "utf8")
  t.regex(comm, /class Comm/)
  t.notRegex(comm, /\b_(finalize|leaveCollective|finishNonblocking|checkCollectiveMessage|collectiveError|isendCollective|irecvCollective)\b/)
  t.notRegex(readFileSync(join(dist, "index.d.ts"), "utf8"), /from "\.[^"]*\.ts"/)
  const manifest = JSON.parse(readFileSync(join(project, "node_modules", "rankflow", "package.json"), "utf8")) as { dependencies: Record<string, string> }
  t.false("ml-matrix" in manifest.dependencies)
})

for (const config of Object.keys(TSCONFIGS)) {
  test.serial(`the consumer's tsc accepts rankflow's types (${config}, strict, skipLibCheck false)`, async (t) => {
    const checked = await run(TSC, ["--noEmit", "-p", config], project)
    t.is(checked.code, 0, checked.stdout + checked.stderr)
  })
}

/** Runs the send/recv program and the pipeline (`sendrecv`, `pipeline`: their paths) with `command` on 2 ranks; both must print their answer. */
async function runsBoth(t: ExecutionContext, command: string, sendrecv: string, pipeline: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  for (const [program, expected] of [[sendrecv, SENDRECV], [pipeline, PIPELINE]] as const) {
    const ran = await run(command, [program, "--ranks", "2"], project, env)
    t.is(ran.code, 0, ran.stderr)
    t.regex(ran.stdout, expected)
  }
}

test.serial("with tsx: a 2-rank send/recv program and a pipeline run", async (t) => {
  await runsBoth(t, join(project, "node_modules", ".bin", "tsx"), "sendrecv.ts", "pipeline.ts")
})

test.serial("with the package's bin: `rankflow program.ts` runs a TypeScript program without tsx on the main thread", async (t) => {
  const rankflow = join(project, "node_modules", ".bin", "rankflow")
  await runsBoth(t, rankflow, "sendrecv.ts", "pipeline.ts")
  const missing = await run(rankflow, ["nowhere.ts"], project)
  t.is(missing.code, 2)
  t.regex(missing.stderr, /no such program: nowhere\.ts/)
})

test.serial("compiled by the consumer's tsc: both programs run on plain node, building nothing into the bundle cache", async (t) => {
  const compiled = await run(TSC, ["-p", "tsconfig.nodenext.json"], project)
  t.is(compiled.code, 0, compiled.stdout + compiled.stderr)
  const cache = join(work, "compiled-cache")
  await runsBoth(t, process.execPath, "out/sendrecv.js", "out/pipeline.js", { RANKFLOW_CACHE_DIR: cache })
  t.deepEqual(filesUnder(cache), [], "the supervisor comes prebundled in the package")
})

test.serial("RANKFLOW_CACHE_DIR moves the bundle cache of a TypeScript program", async (t) => {
  const cache = join(work, "moved-cache")
  const ran = await run(join(project, "node_modules", ".bin", "tsx"), ["sendrecv.ts", "--ranks", "2"], project, { RANKFLOW_CACHE_DIR: cache })
  t.is(ran.code, 0, ran.stderr)
  t.true(filesUnder(cache).some((f) => f.endsWith("sendrecv.mjs")), filesUnder(cache).join(", "))
})

test.serial("rankflow doctor: the prebuilt addon is loaded (not compiled again); the supervisor bundle, the cache and tsx are found", async (t) => {
  const checks = await doctor(project)
  t.like(checks["native addon"], { ok: true, status: "loaded (prebuilt binary shipped in the package)" })
  const record = JSON.parse(readFileSync(join(project, "node_modules", "rankflow", "build", "rankflow-native.json"), "utf8")) as { reason: string }
  t.regex(record.reason, /not compiled: the prebuilt binary loads/)
  t.like(checks["supervisor bundle"], { ok: true, status: "prebuilt in the package" })
  t.like(checks["bundle cache"], { ok: true, status: "writable" })
  t.true(checks["bundle cache"]!.detail[0]!.startsWith(join(project, "node_modules", ".cache", "rankflow")))
  t.true(checks["TypeScript loader (tsx)"]!.ok)
  t.true(checks["esbuild"]!.ok)
})

test.serial("installed with --ignore-scripts: the prebuilt addon loads; without it programs still run, and doctor says why it is missing", async (t) => {
  const prebuilds = join(bare, "node_modules", "rankflow", "prebuilds")
  t.like((await doctor(bare))["native addon"], { ok: true, status: "loaded (prebuilt binary shipped in the package)" })
  rmSync(prebuilds, { recursive: true }) // as on a platform the package has no binary for
  const checks = await doctor(bare)
  t.false(checks["native addon"]!.ok)
  t.regex(checks["native addon"]!.status, /install script did not run/)
  t.regex(checks["native addon"]!.cost ?? "", /TypedArray\.set/)
  const tsx = await run(join(bare, "node_modules", ".bin", "tsx"), ["sendrecv.ts", "--ranks", "2"], bare)
  t.is(tsx.code, 0, tsx.stderr)
  t.regex(tsx.stdout, SENDRECV)
  const compiled = await run(TSC, ["-p", "tsconfig.nodenext.json"], bare)
  t.is(compiled.code, 0, compiled.stdout + compiled.stderr)
  const pipeline = await run(process.execPath, ["out/pipeline.js", "--ranks", "2"], bare)
  t.is(pipeline.code, 0, pipeline.stderr)
  t.regex(pipeline.stdout, PIPELINE)
})

test.serial("a failed addon build is recorded: doctor shows the compiler's failure without npm's logs; a working compiler then builds it", async (t) => {
  const failed = await npm(["rebuild", "rankflow", "--offline"], bare, { CC: "/bin/false", CXX: "/bin/false" })
  t.is(failed.code, 0, `the install never fails for the addon: ${failed.stderr}`)
  const addon = (await doctor(bare))["native addon"]!
  t.false(addon.ok)
  t.is(addon.status, "not built: the build failed")
  t.true(addon.detail.some((line) => /node-gyp rebuild failed/.test(line)), addon.detail.join("\n"))
  const rebuilt = await npm(["rebuild", "rankflow", "--offline"], bare)
  t.is(rebuilt.code, 0, rebuilt.stderr)
  t.like((await doctor(bare))["native addon"], { ok: true, status: "loaded (built on this machine)" })
})

test.serial("a read-only node_modules: the bundle cache falls back to the OS temp dir and the program runs", async (t) => {
  const temp = mkdtempSync(join(work, "tmp-"))
  // Read-only for a non-root user; for root (who may write anyway) a file where the cache directory would go.
  rmSync(join(bare, "node_modules", ".cache"), { recursive: true, force: true })
  writeFileSync(join(bare, "node_modules", ".cache"), "not a directory")
  chmodSync(join(bare, "node_modules"), 0o555)
  const env = { TMPDIR: temp, RANKFLOW_CACHE_DIR: "" }
  const ran = await run(join(bare, "node_modules", ".bin", "tsx"), ["pipeline.ts", "--ranks", "2"], bare, env)
  t.is(ran.code, 0, ran.stderr)
  t.regex(ran.stdout, PIPELINE)
  const fallback = readdirSync(temp).find((name) => name.startsWith("rankflow-cache"))
  t.truthy(fallback, readdirSync(temp).join(", "))
  t.true(filesUnder(join(temp, fallback!)).some((f) => f.endsWith("pipeline.mjs")))
  const checks = await doctor(bare).finally(() => chmodSync(join(bare, "node_modules"), 0o755))
  t.regex(checks["bundle cache"]!.status, /fallback/)
})

test.serial("require(\"rankflow\") from CommonJS loads the ESM package (Node ≥ 20.19: no top-level await in its graph)", async (t) => {
  const required = await run(process.execPath, ["-e", 'const r = require("rankflow"); console.log(typeof r.init, typeof r.Pipeline.run)'], project)
  t.is(required.code, 0, required.stderr)
  t.is(required.stdout, "function function\n")
})
