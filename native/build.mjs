// npm install hook: builds the optional native addon (native/kernels.c).
// Never fails the install: without the addon rankflow copies with
// TypedArray.prototype.set, correct but slower for large messages.
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"

if (process.env.RANKFLOW_NATIVE === "0") process.exit(0)
const gyp = process.env.npm_config_node_gyp
if (gyp === undefined) {
  console.warn("rankflow: node-gyp not found; large copies will use TypedArray.set")
  process.exit(0)
}
// Build against the local Node headers when they are installed (no download needed).
const prefix = join(dirname(process.execPath), "..")
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync(join(prefix, "include/node/node_api.h")) ? prefix : undefined)
try {
  execFileSync(process.execPath, [gyp, "rebuild", ...(nodedir === undefined ? [] : [`--nodedir=${nodedir}`])], {
    stdio: ["ignore", "ignore", "pipe"],
  })
} catch (error) {
  console.warn(`rankflow: native copy addon not built (${String(error).split("\n")[0]}); large copies will use TypedArray.set`)
}
