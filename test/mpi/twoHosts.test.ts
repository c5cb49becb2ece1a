// Two hosts on one machine (test/mpi/two-hosts.sh): one Open MPI job across
// two network namespaces over TCP on a veth pair; every process reports its
// own host, the messages cross the veth, and nothing is left behind — after
// success, failure or Ctrl-C. Needs root, iproute2 and Open MPI (CI runs as
// root; .ci/run installs Open MPI): without them these tests FAIL, saying what
// is missing, instead of skipping.
// rankflow's own pipelines run across the two hosts on the MPI transport and
// give the --json record they give on threads.
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test, { type ExecutionContext } from "ava"
import { runProgram } from "../helpers.ts"
import { comparable } from "./mpirun.ts"
import { buildMpiProgram, runAcrossHosts, TWO_HOSTS_SCRIPT, twoHostsUnavailable } from "./twoHosts.ts"

const SOURCE = new URL("../fixtures/mpi/hostsCheck.c", import.meta.url).pathname
const PYTHON = "/usr/bin/python3" // Debian's python, with python3-mpi4py (not a pyenv one)

interface HostsCheck {
  readonly size: number
  readonly hosts: string[]
  readonly trips: number
  readonly pingpong_ok: boolean
  readonly one_way_us: number
  readonly allreduce: number
}

/** A prefix of our own per test, so runs never meet another's namespaces (≤ 12 characters). */
const prefix = (tag: string): string => `rft${process.pid % 100_000}${tag}`

const namespaces = (): string[] =>
  spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((line) => line.split(" ")[0]!)
    .filter((name) => name !== "")

/** Whether process `pid` is still alive (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

let program: { binary: string; remove: () => void } | undefined

/** Fails the test, saying what is missing, when this machine cannot run the two hosts. */
function requireTwoHosts(): string {
  const missing = twoHostsUnavailable()
  if (missing !== undefined) throw new Error(`two hosts unavailable: ${missing}`)
  program ??= buildMpiProgram(SOURCE, "hostsCheck")
  return program.binary
}

test.after.always(() => program?.remove())

function assertNothingLeft(t: ExecutionContext, name: string): void {
  t.false(namespaces().some((ns) => ns.startsWith(`${name}-`)), `namespaces left: ${namespaces().join(" ")}`)
}

test.serial("a C MPI job on 2 processes runs on two hosts: distinct hostnames, right allreduce and ping-pong, 8 B messages cross the veth", async (t) => {
  const binary = requireTwoHosts()
  const name = prefix("c")
  const run = await runAcrossHosts([binary, "2000"], { np: 2, prefix: name })
  t.is(run.code, 0, run.stderr)
  const check = JSON.parse(run.stdout.trim()) as HostsCheck
  t.deepEqual(check.hosts, [`${name}-a`, `${name}-b`])
  t.is(check.allreduce, 3)
  t.true(check.pingpong_ok)
  // Each of the 2000 round trips sends one TCP segment each way over the veth (TCP_NODELAY).
  t.true(run.veth !== undefined && run.veth.aToBPackets >= 2000 && run.veth.bToAPackets >= 2000, run.stderr)
  assertNothingLeft(t, name)
})

test.serial("3 processes (an odd count): two on host a, one on host b, allreduce over both", async (t) => {
  const binary = requireTwoHosts()
  const name = prefix("o")
  const run = await runAcrossHosts([binary, "100"], { np: 3, prefix: name })
  t.is(run.code, 0, run.stderr)
  const check = JSON.parse(run.stdout.trim()) as HostsCheck
  t.deepEqual(check.hosts, [`${name}-a`, `${name}-a`, `${name}-b`])
  t.is(check.allreduce, 6)
  t.true(check.pingpong_ok)
  assertNothingLeft(t, name)
})

test.serial("mpi4py runs across the two hosts as well", async (t) => {
  requireTwoHosts()
  const probe = spawnSync(PYTHON, ["-c", "from mpi4py import MPI"], { encoding: "utf8" })
  t.is(probe.status, 0, `mpi4py missing for ${PYTHON} (Debian: apt-get install python3-mpi4py): ${probe.stderr}`)
  const name = prefix("p")
  const script = [
    "import json",
    "from mpi4py import MPI",
    "c = MPI.COMM_WORLD",
    "hosts = c.gather(MPI.Get_processor_name(), root=0)",
    "total = c.allreduce(float(c.rank + 1))",
    "peer = c.sendrecv(c.rank, dest=1 - c.rank, source=1 - c.rank)",
    "if c.rank == 0: print(json.dumps({'hosts': hosts, 'allreduce': total, 'peer': peer}))",
  ].join("\n")
  const run = await runAcrossHosts([PYTHON, "-c", script], { np: 2, prefix: name })
  t.is(run.code, 0, run.stderr)
  t.deepEqual(JSON.parse(run.stdout.trim()), { hosts: [`${name}-a`, `${name}-b`], allreduce: 3, peer: 1 })
  t.true(run.veth !== undefined && run.veth.aToBPackets > 0 && run.veth.bToAPackets > 0, run.stderr)
  assertNothingLeft(t, name)
})

test.serial("a process failing on host b ends the job on host a too: non-zero status, nothing left behind", async (t) => {
  requireTwoHosts()
  const name = prefix("f")
  // Rank 1 (host b) exits 3 at once; rank 0 (host a) would sleep for 300 s unless mpirun ends it.
  const command = ["/bin/sh", "-c", 'if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then exit 3; else exec sleep 300; fi']
  const run = await runAcrossHosts(command, { np: 2, prefix: name, timeoutMs: 120_000 })
  t.not(run.code, 0)
  t.not(run.code, -1, "killed by the hang bound: mpirun did not end rank 0")
  t.regex(run.stderr, /exit(ed)? (code|status)|non-zero/i)
  assertNothingLeft(t, name)
})

// SIGINT to the script alone (a supervisor's kill), and to its whole process group (a terminal's Ctrl-C: mpirun gets it too).
for (const [tag, group] of [["k", false], ["g", true]] as const) {
  test.serial(`Ctrl-C midway (${group ? "to the process group" : "to the script"}) ends every process of both hosts and removes the namespaces, the veth and the temporary files`, async (t) => {
    requireTwoHosts()
    const name = prefix(tag)
    const temp = mkdtempSync(join(tmpdir(), "rankflow-two-hosts-"))
    try {
      const child = spawn(TWO_HOSTS_SCRIPT, ["-np", "2", "--", "/bin/sh", "-c", "sleep 300"], {
        env: { ...process.env, TWO_HOSTS_PREFIX: name, TMPDIR: temp },
        stdio: ["ignore", "ignore", "pipe"],
        detached: group,
      })
      let stderr = ""
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      // Wait (bound 60 s against a hang) until both hosts run their `sleep`.
      const pidsIn = (ns: string): number[] =>
        spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout.split("\n").filter((s) => s !== "").map(Number)
      const sleepingIn = (ns: string): boolean => pidsIn(ns).some((pid) => alive(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sleep\0"))
      const deadline = Date.now() + 60_000
      while (!(sleepingIn(`${name}-a`) && sleepingIn(`${name}-b`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      const pids = [...pidsIn(`${name}-a`), ...pidsIn(`${name}-b`)]
      t.true(sleepingIn(`${name}-a`) && sleepingIn(`${name}-b`), `the job did not start on both hosts: ${stderr}`)
      t.true(readdirSync(temp).length > 0) // the hostfile and agent live here while it runs

      if (group) process.kill(-child.pid!, "SIGINT")
      else child.kill("SIGINT")
      t.is(await exited, 130, stderr)
      assertNothingLeft(t, name)
      t.deepEqual(pids.filter(alive), [], "processes of the two hosts still running")
      t.deepEqual(readdirSync(temp), [], "temporary files left")
    } finally {
      rmSync(temp, { recursive: true, force: true })
    }
  })
}

test.serial("bad arguments exit 2 before any namespace exists", async (t) => {
  const name = prefix("u")
  for (const args of [["-np", "1", "true"], ["-np", "two", "true"], ["--bogus", "true"], []]) {
    const run = spawnSync(TWO_HOSTS_SCRIPT, args, { encoding: "utf8", env: { ...process.env, TWO_HOSTS_PREFIX: name } })
    t.is(run.status, 2, `${args.join(" ")}: ${run.stderr}`)
    t.regex(run.stderr, /usage|-np takes/)
  }
  const badPrefix = spawnSync(TWO_HOSTS_SCRIPT, ["true"], { encoding: "utf8", env: { ...process.env, TWO_HOSTS_PREFIX: "Not/A/Name" } })
  t.is(badPrefix.status, 2)
  t.regex(badPrefix.stderr, /TWO_HOSTS_PREFIX must be/)
  assertNothingLeft(t, name)
  t.false(existsSync(`/run/netns/${name}-a`))
})

test.serial("a prefix another run is using is refused (exit 3) and that run's namespace is left alone", (t) => {
  requireTwoHosts()
  const name = prefix("d")
  t.is(spawnSync("ip", ["netns", "add", `${name}-a`]).status, 0)
  try {
    const run = spawnSync(TWO_HOSTS_SCRIPT, ["true"], { encoding: "utf8", env: { ...process.env, TWO_HOSTS_PREFIX: name } })
    t.is(run.status, 3)
    t.regex(run.stderr, new RegExp(`namespace ${name}-a exists already`))
    t.true(namespaces().includes(`${name}-a`))
    t.false(namespaces().includes(`${name}-b`))
  } finally {
    spawnSync("ip", ["netns", "del", `${name}-a`])
  }
})


for (const [name, np, args] of [
  ["heat", 2, ["--t", "0.01"]],
  ["heat2d", 3, ["--n", "99", "--steps", "50"]],
] as const) {
  test.serial(`rankflow's ${name} on ${np} MPI processes across the two hosts gives the --json record (fingerprint included) of ${np} threads`, async (t) => {
    requireTwoHosts()
    const script = `pipelines/${name}.ts`
    const threads = await runProgram(script, ["--ranks", String(np), "--threads", String(np), "--json", ...args])
    t.is(threads.code, 0, threads.stderr)
    const label = prefix(name.slice(0, 2))
    const hosts = await runAcrossHosts([process.execPath, "--import=tsx", script, "--json", ...args], { np, prefix: label, timeoutMs: 240_000 })
    t.is(hosts.code, 0, hosts.stderr)
    t.deepEqual(comparable(hosts.stdout, `${name} across hosts`), comparable(threads.stdout, `${name} on threads`))
    t.like(comparable(threads.stdout, name), { ok: true, ranks: np })
    // Rank 0 is on host a, the last rank on host b: their messages crossed the veth.
    t.true((hosts.veth?.aToBPackets ?? 0) > 10 && (hosts.veth?.bToAPackets ?? 0) > 10, hosts.stderr)
    assertNothingLeft(t, label)
  })
}

test.serial("across the two hosts (no one-sided windows over TCP), a dynamic distribution fails loudly, naming why, and leaves nothing behind", async (t) => {
  requireTwoHosts()
  const label = prefix("dy")
  const run = await runAcrossHosts([process.execPath, "--import=tsx", "pipelines/mandelbrot.ts", "--width", "60", "--height", "40", "--distribution", "dynamic"], { np: 2, prefix: label, timeoutMs: 240_000 })
  t.not(run.code, 0, run.stdout)
  t.regex(run.stderr, /rankflow: rank \d failed: .*no one-sided windows/)
  assertNothingLeft(t, label)
})
