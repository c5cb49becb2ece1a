// npm install hook, second step: builds the optional Open MPI addon (native/mpi/mpi.c) into
// build/mpi/rankflow_mpi.node with Open MPI's compiler wrapper (mpicc) against Node's own
// headers — no download, ~0.3 s. Never fails the install: without it, only the MPI transport
// (`--transport mpi`, runs under mpirun) is unavailable, and it says what is missing.
// The outcome goes to build/mpi/status.json, which `rankflow doctor` and the transport read.
// Also runnable by hand: `node native/mpi/build.mjs`.
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))))
const out = join(root, "build", "mpi")
/** The Debian packages that provide what is missing. */
const PACKAGES = "openmpi-bin libopenmpi-dev"

function record(built, reason, missing) {
  try {
    mkdirSync(out, { recursive: true })
    const status = { built, reason, ...(missing === undefined ? {} : { missing, packages: PACKAGES }), node: process.version, at: new Date().toISOString() }
    writeFileSync(join(out, "status.json"), `${JSON.stringify(status, null, 2)}\n`)
  } catch {
    // read-only package directory: the transport then says no build was recorded
  }
}

/** Runs a command; its stdout, or undefined when it cannot run. */
function run(command, args) {
  try {
    return execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" }).trim()
  } catch {
    return undefined
  }
}

/** Node's N-API headers: the local installation's, else node-gyp's cache. */
function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir === undefined ? undefined : join(process.env.npm_config_nodedir, "include", "node"),
    join(dirname(process.execPath), "..", "include", "node"),
    join(homedir(), ".cache", "node-gyp", process.versions.node, "include", "node"),
  ]
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, "node_api.h")))
}

function build() {
  if (process.env.RANKFLOW_MPI === "0") return record(false, "RANKFLOW_MPI=0 was set during install")
  const mpicc = process.env.MPICC ?? "mpicc"
  const flags = run(mpicc, ["--showme:compile"])
  if (flags === undefined) return record(false, "Open MPI's compiler wrapper mpicc was not found (MPI headers and compiler wrapper)", "mpicc and mpi.h")
  const includes = flags.split(/\s+/).filter((f) => f.startsWith("-I")).map((f) => f.slice(2))
  if (!includes.some((dir) => existsSync(join(dir, "mpi.h")))) return record(false, `mpi.h not found in ${includes.join(", ") || "mpicc's include paths"}`, "mpi.h (MPI headers)")
  const compiler = run(mpicc, ["--showme:command"])
  if (compiler === undefined || run(compiler, ["--version"]) === undefined) return record(false, `the C compiler mpicc wraps (${compiler ?? "unknown"}) does not run`, "a C compiler (gcc)")
  const headers = nodeHeaders()
  if (headers === undefined) return record(false, "Node's headers (node_api.h) were not found next to node or in node-gyp's cache", "Node headers (npx node-gyp install)")
  mkdirSync(out, { recursive: true })
  try {
    execFileSync(mpicc, ["-O2", "-shared", "-fPIC", `-I${headers}`, join(root, "native", "mpi", "mpi.c"), "-o", join(out, "rankflow_mpi.node")], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    record(true, `built with ${mpicc} (${compiler}) against ${headers}`)
  } catch (error) {
    record(false, `${mpicc} failed: ${`${error.stderr ?? ""}`.split("\n").slice(0, 12).join("\n") || error.message}`, "a working MPI compiler")
  }
}

build()
