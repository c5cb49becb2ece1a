// npm install hook: builds the optional native addon (native/kernels.c, native/heap_guard.cc), unless the package
// ships a prebuilt binary for this platform that loads (prebuilds/<platform>-<arch>/, found by
// node-gyp-build; in the repository itself it always compiles).
// Never fails the install: without the addon rankflow copies with
// TypedArray.set, correct but slower for large messages.
// The outcome goes to build/rankflow-native.json (npm hides install output):
// `rankflow doctor` reads it to say why the addon is missing.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(fileURLToPath(import.meta.url)))

/** Records the outcome for `rankflow doctor`; a failure to record is no reason to fail the install. */
function record(built, reason) {
  try {
    mkdirSync(join(root, "build"), { recursive: true })
    const status = { built, reason, node: process.version, platform: `${process.platform}-${process.arch}`, at: new Date().toISOString() }
    writeFileSync(join(root, "build", "rankflow-native.json"), `${JSON.stringify(status, null, 2)}\n`)
  } catch {
    // read-only package directory: doctor then reports that no build was recorded
  }
  if (!built) console.warn(`rankflow: native addon not built (${reason}); large copies will use TypedArray.set`)
}

/** The prebuilt binary for this platform, when the package is installed (not the repository) and it loads. */
function loadablePrebuild() {
  if (!root.includes(`${sep}node_modules${sep}`)) return undefined
  try {
    const require = createRequire(join(root, "package.json"))
    const path = require("node-gyp-build").path(root)
    if (path.startsWith(join(root, "build"))) return undefined
    require(path)
    return path
  } catch {
    return undefined
  }
}

const prebuilt = loadablePrebuild()
if (prebuilt !== undefined) {
  record(false, `not compiled: the prebuilt binary loads (${prebuilt})`)
  process.exit(0)
}
if (process.env.RANKFLOW_NATIVE === "0") {
  record(false, "RANKFLOW_NATIVE=0 was set during install")
  process.exit(0)
}
const gyp = process.env.npm_config_node_gyp
if (gyp === undefined || !existsSync(gyp)) {
  record(false, "node-gyp not found (npm_config_node_gyp is not set: not run by npm?)")
  process.exit(0)
}
// Build against the local Node headers when they are installed (no download needed).
const prefix = join(dirname(process.execPath), "..")
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync(join(prefix, "include/node/node_api.h")) ? prefix : undefined)
/** Runs `node-gyp rebuild`; undefined when it succeeded, else node-gyp's useful lines. */
function rebuild(env) {
  try {
    execFileSync(process.execPath, [gyp, "rebuild", ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 16 << 20,
    })
    return undefined
  } catch (error) {
    // node-gyp prints the compiler's complaint before its own "gyp ERR!" lines: keep the useful tail.
    const noise = /^gyp (info|ERR! (stack|System|command|cwd|node -v|node-gyp -v|\$npm|not ok))/
    const output = `${error.stdout ?? ""}${error.stderr ?? ""}`.split("\n").filter((l) => l.trim() !== "" && !noise.test(l))
    const firstErr = output.findIndex((l) => /error|not found|ERR!/i.test(l))
    const lines = (firstErr < 0 ? output.slice(-15) : output.slice(Math.max(0, firstErr - 2), firstErr + 13)).join("\n")
    return `node-gyp rebuild failed: ${String(error.message).split("\n")[0]}\n${lines}`
  }
}

const failed = rebuild(process.env)
if (failed === undefined) record(true, "built by node-gyp")
else {
  // The heap guard (native/heap_guard.cc) needs V8's C++ headers; the C kernels need only N-API's.
  const plain = rebuild({ ...process.env, GYP_DEFINES: `${process.env.GYP_DEFINES ?? ""} heap_guard=0`.trim() })
  if (plain === undefined) record(true, `built by node-gyp without the heap guard (a rank over its heap limit by one large allocation ends the process); with it: ${failed}`)
  else record(false, failed)
}
