// Helpers for running one command across the two namespace "hosts" of
// test/mpi/two-hosts.sh (Open MPI over TCP on a veth pair), for tests and
// benchmarks. Main side only; needs root, iproute2 and Open MPI.
import { execFile, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { limited, ROOT } from "../helpers.ts"

export const TWO_HOSTS_SCRIPT = fileURLToPath(new URL("./two-hosts.sh", import.meta.url))

/** Packets and bytes that crossed the veth pair, as the script reports them on stderr. */
export interface VethCounters {
  readonly aToBPackets: number
  readonly aToBBytes: number
  readonly bToAPackets: number
  readonly bToABytes: number
}

export interface HostsRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** The veth's counters, or undefined when the script did not get as far as running the command. */
  readonly veth: VethCounters | undefined
}

export interface HostsOptions {
  /** MPI processes (default 2): ceil(np/2) on host a, the rest on host b. */
  readonly np?: number
  /** TWO_HOSTS_PREFIX: the namespaces' and hostnames' prefix (default: the script's own, rf<pid>). */
  readonly prefix?: string
  /** A bound against hangs, never a speed limit (default 120 s). */
  readonly timeoutMs?: number
  /** Added to the environment (both hosts see it). */
  readonly env?: NodeJS.ProcessEnv
}

const VETH_LINE = /^two-hosts: veth a->b (\d+) packets (\d+) bytes, b->a (\d+) packets (\d+) bytes$/m

/** The veth counters from the script's stderr. */
export function vethCounters(stderr: string): VethCounters | undefined {
  const m = VETH_LINE.exec(stderr)
  if (m === null) return undefined
  return { aToBPackets: Number(m[1]), aToBBytes: Number(m[2]), bToAPackets: Number(m[3]), bToABytes: Number(m[4]) }
}

/**
 * Runs `command` (argv, working directory the repository root) under mpirun
 * across the two namespace hosts. This is the hook for running rankflow
 * programs across hosts once the MPI transport lands, e.g.
 * `runAcrossHosts(["npx", "tsx", "pipelines/heat.ts", ...], { np: 2 })`.
 * Shares test/helpers.ts's limit on jobs running at once.
 */
export function runAcrossHosts(command: ReadonlyArray<string>, options: HostsOptions = {}): Promise<HostsRun> {
  const env = { ...process.env, ...options.env, ...(options.prefix === undefined ? {} : { TWO_HOSTS_PREFIX: options.prefix }) }
  return limited(() => new Promise((resolve) => {
    execFile(
      TWO_HOSTS_SCRIPT,
      ["-np", String(options.np ?? 2), "--", ...command],
      { cwd: ROOT, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        resolve({ code, stdout, stderr, veth: vethCounters(stderr) })
      },
    )
  }))
}

/** Why this machine cannot run the two hosts (not root, no ip/unshare/mpirun/mpicc), or undefined when it can. */
export function twoHostsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return `network namespaces need root (CI runs as root); this is uid ${process.getuid?.()}`
  for (const [tool, pkg] of [["ip", "iproute2"], ["unshare", "util-linux"], ["mpirun", "openmpi-bin"], ["mpicc", "libopenmpi-dev"]] as const) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} not found (Debian: apt-get install ${pkg}; .ci/run installs it)`
  }
  return undefined
}

/**
 * Compiles a C MPI program with mpicc into a fresh temporary directory;
 * returns the binary's path and a function that removes it.
 */
export function buildMpiProgram(source: string, name: string): { binary: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "rankflow-mpi-c-"))
  const binary = join(dir, name)
  const run = spawnSync("mpicc", ["-O2", "-o", binary, source], { encoding: "utf8" })
  if (run.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`mpicc failed on ${source}: ${run.stderr || run.error?.message}`)
  }
  return { binary, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
