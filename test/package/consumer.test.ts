// rankflow as a consumer gets it: `npm pack` → an offline install into a fresh project → the
// consumer's own tsc (strict, skipLibCheck off) under NodeNext and Bundler resolution → a 2-rank
// send/recv program and a pipeline, run with tsx and, compiled, with plain node.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { consumer, pack, run, TSC } from "./project.ts"

const PROGRAMS = ["sendrecv.ts", "pipeline.ts"]
const SENDRECV = /received hello 1,2,3 and 3 × Float64Array: 1.5,2.5,3.5\nsum over 2 ranks: 3\n/
const PIPELINE = /sum of squares below 1000 on 2 ranks: 332833500\n/

const work = mkdtempSync(join(tmpdir(), "rankflow-pack-"))
let project = ""
test.after.always(() => {
  rmSync(work, { recursive: true, force: true })
  if (project !== "") rmSync(project, { recursive: true, force: true })
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
  project = await consumer(tarball, { extra: ["@types/node"] })
  for (const file of PROGRAMS) copyFileSync(new URL(`./consumer/${file}`, import.meta.url), join(project, file))
  for (const [name, compilerOptions] of Object.entries(TSCONFIGS))
    writeFileSync(join(project, name), JSON.stringify({ compilerOptions, include: PROGRAMS }))
})

test.serial("the tarball holds the built package: JavaScript, declarations without internals, the supervisor bundle", (t) => {
  const dist = join(project, "node_modules", "rankflow", "dist")
  for (const file of ["index.js", "index.d.ts", "index.d.ts.map", "runtime/supervisorSide.bundle.js", "runtime/rankEntry.js"])
    t.true(existsSync(join(dist, file)), file)
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

test.serial("with tsx: a 2-rank send/recv program and a pipeline run", async (t) => {
  const tsx = join(project, "node_modules", ".bin", "tsx")
  const sendrecv = await run(tsx, ["sendrecv.ts", "--ranks", "2"], project)
  t.is(sendrecv.code, 0, sendrecv.stderr)
  t.regex(sendrecv.stdout, SENDRECV)
  const pipeline = await run(tsx, ["pipeline.ts", "--ranks", "2"], project)
  t.is(pipeline.code, 0, pipeline.stderr)
  t.regex(pipeline.stdout, PIPELINE)
})

test.serial("compiled by the consumer's tsc: both programs run on plain node", async (t) => {
  const compiled = await run(TSC, ["-p", "tsconfig.nodenext.json"], project)
  t.is(compiled.code, 0, compiled.stdout + compiled.stderr)
  const sendrecv = await run(process.execPath, ["out/sendrecv.js", "--ranks", "2"], project)
  t.is(sendrecv.code, 0, sendrecv.stderr)
  t.regex(sendrecv.stdout, SENDRECV)
  const pipeline = await run(process.execPath, ["out/pipeline.js", "--ranks", "2"], project)
  t.is(pipeline.code, 0, pipeline.stderr)
  t.regex(pipeline.stdout, PIPELINE)
})

test.serial("require(\"rankflow\") from CommonJS loads the ESM package (Node ≥ 20.19: no top-level await in its graph)", async (t) => {
  const required = await run(process.execPath, ["-e", 'const r = require("rankflow"); console.log(typeof r.init, typeof r.Pipeline.run)'], project)
  t.is(required.code, 0, required.stderr)
  t.is(required.stdout, "function function\n")
})
