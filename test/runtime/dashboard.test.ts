// --dashboard: the server listens on 127.0.0.1 only, moves to the next port when its own is taken, serves the
// job's live state while it runs, and is gone when the job ends (or, with --dashboard-keep, at Ctrl-C).
import { request } from "node:http"
import { createServer, connect, type Server } from "node:net"
import { networkInterfaces } from "node:os"
import test from "ava"
import { DashboardUnavailable, InvalidOptions } from "rankflow"
import { parseRuntimeOptions } from "../../src/cli/options.ts"
import { startDashboard, type DashboardState, type FieldPreview } from "../../src/runtime/dashboard.ts"
import { runProgram, startProgram } from "../helpers.ts"

const JOB = "test/fixtures/dashboardJob.ts"
const URL_LINE = /dashboard at (http:\/\/127\.0\.0\.1:(\d+)\/)/

/** A server holding a free port of 127.0.0.1, and the port. */
async function takePort(): Promise<{ server: Server; port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve))
  return { server, port: (server.address() as { port: number }).port }
}

/** Whether a TCP connection to host:port is accepted (false: refused or unreachable). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    socket.setTimeout(3000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })
}

/** GET `path` with a given Host header: the status code. */
function statusWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    req.on("error", reject)
    req.end()
  })
}

test("the dashboard refuses to listen on any address but 127.0.0.1", async (t) => {
  for (const host of ["0.0.0.0", "::", "::1", "localhost", "192.168.1.10"]) {
    const error = await t.throwsAsync(startDashboard({ ranks: 2, port: 0, host }), { instanceOf: DashboardUnavailable })
    t.is(error?.problem, "address", host)
    t.is(error?.host, host)
  }
})

test("the dashboard is reachable on 127.0.0.1 and on no other address of the machine", async (t) => {
  const dashboard = await startDashboard({ ranks: 2, port: 0, title: "probe" })
  try {
    t.regex(dashboard.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetch(dashboard.url)
    t.is(page.status, 200)
    t.regex(await page.text(), /<title>probe · rankflow dashboard<\/title>/)
    t.true(await accepts("127.0.0.1", dashboard.port))
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal && a.family === "IPv4")
      .map((a) => a!.address)
    for (const address of others) t.false(await accepts(address, dashboard.port), `reachable on ${address}`)
    t.false(await accepts("::1", dashboard.port), "reachable on ::1")
    // A page of another site pointed at 127.0.0.1 by its DNS (rebinding) is refused: the Host header names it.
    t.is(await statusWithHost(dashboard.port, "/state", "attacker.example"), 403)
    t.is(await statusWithHost(dashboard.port, "/state", `localhost:${dashboard.port}`), 200)
    t.is((await fetch(new URL("/nothing", dashboard.url))).status, 404)
  } finally {
    await dashboard.close()
  }
  t.false(await accepts("127.0.0.1", dashboard.port), "still listening after close")
})

test("a port in use: the dashboard takes the next free one", async (t) => {
  const taken = await takePort()
  try {
    const dashboard = await startDashboard({ ranks: 1, port: taken.port })
    try {
      t.true(dashboard.port > taken.port && dashboard.port < taken.port + 50, `port ${dashboard.port} after ${taken.port}`)
      t.is((await fetch(new URL("/state", dashboard.url))).status, 200)
    } finally {
      await dashboard.close()
    }
  } finally {
    taken.server.close()
  }
})

test("--dashboard[=PORT] and --dashboard-keep are read and checked", (t) => {
  t.is(parseRuntimeOptions([]).dashboard, undefined)
  t.is(parseRuntimeOptions(["--dashboard"]).dashboard, 8787)
  t.is(parseRuntimeOptions(["--dashboard=9100"]).dashboard, 9100)
  t.is(parseRuntimeOptions(["--dashboard=0"]).dashboard, 0)
  t.is(parseRuntimeOptions(["--no-dashboard"]).dashboard, undefined)
  t.true(parseRuntimeOptions(["--dashboard", "--dashboard-keep"]).dashboardKeep)
  t.false(parseRuntimeOptions(["--dashboard"]).dashboardKeep)
  for (const bad of ["--dashboard=http", "--dashboard=65536", "--dashboard=-1", "--dashboard=08"])
    t.throws(() => parseRuntimeOptions([bad]), { instanceOf: InvalidOptions, message: /--dashboard.*port number/ }, bad)
  t.throws(() => parseRuntimeOptions(["--dashboard-keep"]), { instanceOf: InvalidOptions, message: /--dashboard-keep: needs --dashboard/ })
})

test("a bad --dashboard value exits 2 before any rank starts", async (t) => {
  const bad = await runProgram(JOB, ["--ranks", "2", "--dashboard=web"], 60_000)
  t.is(bad.code, 2, bad.stderr)
  t.regex(bad.stderr, /rankflow: --dashboard: expected true, false or a port number/)
  t.notRegex(bad.stdout, /dashboard-job/)
  const keep = await runProgram(JOB, ["--ranks", "2", "--dashboard-keep"], 60_000)
  t.is(keep.code, 2, keep.stderr)
  t.regex(keep.stderr, /--dashboard-keep: needs --dashboard/)
})

test("--dashboard on a port in use serves on the next free port and says so", async (t) => {
  const taken = await takePort()
  try {
    const run = await runProgram(JOB, ["--ranks", "2", `--dashboard=${taken.port}`, "--steps", "10", "--pause", "0"], 120_000)
    t.is(run.code, 0, run.stderr)
    const line = run.stderr.match(URL_LINE)
    t.truthy(line, run.stderr)
    t.not(Number(line![2]), taken.port)
    t.regex(run.stderr, new RegExp(`\\(port ${taken.port} is in use\\)`))
  } finally {
    taken.server.close()
  }
})

test("while the job runs the dashboard serves its state; when it ends the server is gone", async (t) => {
  const job = startProgram(JOB, ["--ranks", "3", "--threads", "3", "--dashboard=0", "--steps", "300", "--pause", "60"], 120_000)
  const [, url, port] = await job.waitFor(URL_LINE, 60_000)
  // Poll until the job is well under way: every rank started, rank 0 reported progress and a preview arrived.
  let state: DashboardState & { preview: FieldPreview | null } | undefined
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    state = (await (await fetch(new URL("/state", url))).json()) as typeof state
    for (const v of state!.rankViews) seen.add(v.state === "waiting" ? `waiting on ${v.peer}` : v.state)
    if (state!.status !== "running" || ((state!.progress?.done ?? 0) > 30 && state!.preview !== null && seen.has("computing") && [...seen].some((s) => s.startsWith("waiting")))) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.is(state!.status, "running", "the job ended before the dashboard showed it under way")
  t.is(state!.ranks, 3)
  t.deepEqual(state!.rankViews.map((v) => v.rank), [0, 1, 2])
  t.true(state!.rankViews.every((v) => v.heapBytes > 1024 * 1024), JSON.stringify(state!.rankViews))
  t.like(state!.progress, { label: "steps", total: 300 })
  // Rank 0 pauses at each observation: the others wait on their neighbour in the row of ranks.
  t.true([...seen].some((s) => /^waiting on [01]$/.test(s)), [...seen].join(", "))
  // Halo exchanges go between neighbours, 0 ↔ 1 and 1 ↔ 2 (the gather adds 2 → 0); nothing to oneself.
  const sent = (from: number, to: number): number => state!.messages[from * 3 + to]!
  t.true(sent(0, 1) > 0 && sent(1, 0) > 0 && sent(1, 2) > 0 && sent(2, 1) > 0, JSON.stringify(state!.messages))
  t.true(state!.bytes[0 * 3 + 1]! >= 64 * 8 * sent(0, 1) * 0.5, "bytes go with the messages")
  t.is(sent(0, 0), 0)
  // The preview: the 64 × 64 field at a step the loop observes (every 5), its hot spot in it.
  const preview = state!.preview!
  t.deepEqual(preview.shape, [64, 64])
  t.is(preview.step % 5, 0)
  t.true(Math.max(...preview.values) > 0.05 && Math.min(...preview.values) >= 0)
  const end = await job.done
  t.is(end.code, 0, end.stderr)
  t.regex(end.stdout, /dashboard-job: 3 ranks/)
  t.false(await accepts("127.0.0.1", Number(port)), "the dashboard still listens after the job ended")
})

test("--dashboard-keep serves the finished job's page until Ctrl-C, then exits with the job's code", async (t) => {
  const job = startProgram(JOB, ["--ranks", "2", "--dashboard=0", "--dashboard-keep", "--steps", "20", "--pause", "0"], 120_000)
  const [, url, port] = await job.waitFor(URL_LINE, 60_000)
  await job.waitFor(/dashboard kept at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to exit\)/, 60_000)
  const state = (await (await fetch(new URL("/state", url))).json()) as DashboardState
  t.is(state.status, "succeeded")
  t.deepEqual(state.rankViews.map((v) => v.state), ["done", "done"])
  t.like(state.progress, { done: 20, total: 20 })
  t.is(job.child.exitCode, null, "exited without Ctrl-C")
  job.child.kill("SIGINT")
  const end = await job.done
  t.is(end.code, 0, end.stderr)
  t.false(await accepts("127.0.0.1", Number(port)))
})

test("a failed job: the kept page shows it failed, which rank failed and why", async (t) => {
  const job = startProgram("test/fixtures/throwing-rank.ts", ["--ranks", "3", "--dashboard=0", "--dashboard-keep"], 120_000)
  const [, url] = await job.waitFor(URL_LINE, 60_000)
  await job.waitFor(/dashboard kept at/, 60_000)
  const state = (await (await fetch(new URL("/state", url))).json()) as DashboardState
  t.is(state.status, "failed")
  t.regex(state.message, /rank 1 failed|boom in rank 1/)
  t.is(state.rankViews[1]!.state, "failed")
  t.true(state.rankViews.filter((v) => v.rank !== 1).every((v) => v.state === "stopped" || v.state === "failed"), JSON.stringify(state.rankViews))
  job.child.kill("SIGINT")
  const end = await job.done
  t.is(end.code, 1, end.stderr)
  t.regex(end.stderr, /rankflow: rank 1 failed: Error: boom in rank 1/)
})
