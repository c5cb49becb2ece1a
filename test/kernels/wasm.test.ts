// The committed WebAssembly modules (src/kernels/*.wasm.ts) are what their
// .wat sources assemble to with scripts/build-wasm.ts: nobody edits the bytes
// by hand, and a .wat change without a rebuild fails here.
import { readFileSync } from "node:fs"
import test from "ava"
import { generated, watFiles } from "../../scripts/build-wasm.ts"

test("every src/kernels/*.wat has a committed .wasm.ts equal to a fresh build", async (t) => {
  t.true(watFiles().some((f) => f.endsWith("/dense.wat")))
  for (const { path, source } of await generated()) t.is(readFileSync(path, "utf8"), source, `${path} is stale: run npx tsx scripts/build-wasm.ts`)
})

test("the committed module compiles and exports the kernels", async (t) => {
  const { denseWasm } = await import("../../src/kernels/dense.wasm.ts")
  const wasm = (globalThis as unknown as { WebAssembly: { Module: { new (b: Uint8Array): object; exports(m: object): Array<{ name: string }> } } }).WebAssembly
  const names = wasm.Module.exports(new wasm.Module(Buffer.from(denseWasm, "base64"))).map((e) => e.name)
  t.deepEqual(names.sort(), ["dgemm", "dgemv", "workspaceBytes"])
})
