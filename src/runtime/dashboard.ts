/**
 * The live dashboard (`--dashboard[=PORT]`): a page served on 127.0.0.1 while
 * the job runs, pushed fresh state four times a second over Server-Sent
 * Events (node:http, no dependency). It shows each rank's state (starting,
 * computing, waiting on whom and in which collective, done, failed), rank
 * 0's progress, messages and bytes per second between every pair of ranks,
 * each rank's heap, and a preview of a field the pipeline observes.
 *
 * Everything comes from what the runtime already has: the rank events
 * (progress reports, previews, ends) through `JobWatch`, and counters ranks
 * keep in shared memory — the blocked-on words the deadlock watcher reads,
 * the trace's per-destination counters and a heap figure
 * (dashboardBuffer.ts). Sampling reads them on the supervisor's timer: the
 * ranks do nothing more for it per message or per step.
 *
 * Layer: runtime (supervisor side). Knows no pipeline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { DASHBOARD_PORT } from "../cli/options.ts"
import { COLLECTIVE_NAMES } from "../comm/collectives.ts"
import { DashboardUnavailable } from "../errors.ts"
import { CALL_OP, RANK_STRIDE, type WorldMemory } from "../transport/memory.ts"
import { heapFigures, trafficMatrix } from "./dashboardBuffer.ts"
import { dashboardPage } from "./dashboardPage.ts"
import { sample } from "./deadlock.ts"
import type { RankEvent } from "./rankEvents.ts"
import type { JobWatch } from "./supervisor.ts"

/** The only address the dashboard listens on. */
export const DASHBOARD_HOST = "127.0.0.1"
/** Ports tried from the one asked for upwards, when it is taken. */
const PORT_TRIES = 50
/** How often the page gets fresh state. */
const SAMPLE_MS = 250
/** Larger jobs get no traffic matrix (its ranks² cells, four times a second, would cost the supervisor more than it shows). */
export const MATRIX_MAX_RANKS = 64
/** Rates are taken over this many ticks (one second). */
const RATE_WINDOW_TICKS = 4

export interface DashboardOptions {
  /** Ranks (threads) of the job. */
  readonly ranks: number
  /** The first port to try (0: any free port). */
  readonly port?: number
  /** Must be 127.0.0.1 (the default): any other address is refused. */
  readonly host?: string
  /** Shown as the page's title (the program). */
  readonly title?: string
}

/** What a rank is doing, as the page shows it. */
export type RankActivity = "starting" | "computing" | "waiting" | "done" | "failed" | "stopped"

/** One rank's row. */
export interface RankView {
  readonly rank: number
  readonly state: RankActivity
  /** While waiting: the call ("recv", "send", "probe", "wait"), the rank waited on (-1: any) and the tag. */
  readonly call?: string
  readonly peer?: number
  readonly tag?: number
  /** The collective the rank is in, if any. */
  readonly collective?: string
  /** Heap in use, bytes (0: not yet known). */
  readonly heapBytes: number
  /** Messages and bytes this rank sends per second (all destinations). */
  readonly messagesPerSecond: number
  readonly bytesPerSecond: number
}

/** What the page receives four times a second. */
export interface DashboardState {
  readonly title: string
  readonly ranks: number
  readonly seconds: number
  readonly status: "running" | "succeeded" | "failed"
  readonly message: string
  readonly progress: { readonly label: string; readonly done: number; readonly total: number } | null
  readonly rankViews: ReadonlyArray<RankView>
  /** Messages and bytes per second from rank i to rank j, at i * ranks + j (empty above `MATRIX_MAX_RANKS` ranks). */
  readonly messagesPerSecond: ReadonlyArray<number>
  readonly bytesPerSecond: ReadonlyArray<number>
  /** Messages and bytes sent so far, at i * ranks + j. */
  readonly messages: ReadonlyArray<number>
  readonly bytes: ReadonlyArray<number>
}

/** A field preview as the page draws it. */
export interface FieldPreview {
  readonly label: string
  readonly step: number
  readonly shape: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
}

/** A running dashboard: watch a job with it (`runPool`'s `watch`), then `finish` and `close` it. */
export interface Dashboard extends JobWatch {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string
  readonly port: number
  /** Rank 0's progress report. */
  readonly progress: (label: string, done: number, total: number) => void
  /** The job ended: a last sample, the outcome shown, sampling stopped. */
  readonly finish: (ok: boolean, message: string) => void
  /** Stops serving: open pages are told the job ended, every connection is closed. */
  readonly close: () => Promise<void>
  /** The state the page would get now (tests, and a program's own reports). */
  readonly state: () => DashboardState
}

/**
 * Serves the dashboard on 127.0.0.1 at `options.port`, or the next free port
 * above it when taken. Rejects with `DashboardUnavailable` for any other
 * address, or when no port of 50 is free.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? DASHBOARD_HOST
  const first = options.port ?? DASHBOARD_PORT
  if (host !== DASHBOARD_HOST) throw new DashboardUnavailable("address", host, first, `the dashboard serves on ${DASHBOARD_HOST} only (it shows a job's internals)`)
  if (!(Number.isInteger(first) && first >= 0 && first <= 65535)) throw new DashboardUnavailable("ports", host, first, "expected a port in [0, 65535]")
  const live = liveState(options.ranks, options.title ?? "rankflow job")
  const clients = new Set<ServerResponse>()
  const server = createServer((request, response) => serve(request, response, live, clients, server))
  const port = await listen(server, host, first)
  const push = (event: string, data: unknown): void => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    for (const client of clients) client.write(text)
  }
  const timer = setInterval(() => {
    live.tick()
    push("state", live.sample())
  }, SAMPLE_MS)
  timer.unref()
  let closed: Promise<void> | undefined
  return {
    url: `http://${host}:${port}/`,
    port,
    started: (memory, counters) => live.attach(memory, counters),
    event: (event) => {
      live.event(event)
      if (event.kind === "observation") push("preview", live.preview())
    },
    progress: (label, done, total) => live.progress(label, done, total),
    finish: (ok, message) => {
      clearInterval(timer)
      live.finish(ok, message)
      push("state", live.sample())
    },
    state: () => live.sample(),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        clearInterval(timer)
        push("end", {})
        for (const client of clients) client.end()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closed
    },
  }
}

/** Listens at `first`, or the next free port (up to 50 tries); the port it got. */
async function listen(server: Server, host: string, first: number): Promise<number> {
  const tries = first === 0 ? 1 : Math.min(PORT_TRIES, 65536 - first)
  for (let port = first; port < first + tries; port++) {
    const outcome = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (error: NodeJS.ErrnoException): void => resolve(error)
      server.once("error", onError)
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", onError)
        resolve(undefined)
      })
    })
    if (outcome === undefined) {
      const address = server.address()
      return typeof address === "object" && address !== null ? address.port : port
    }
    if (outcome.code !== "EADDRINUSE" && outcome.code !== "EACCES") throw new DashboardUnavailable("listen", host, port, outcome.message)
  }
  throw new DashboardUnavailable("ports", host, first, `no free port from ${first} to ${first + tries - 1}`)
}

/** The page, its state as JSON, and the event stream; nothing else. Requests naming another host are refused (DNS rebinding). */
function serve(request: IncomingMessage, response: ServerResponse, live: LiveState, clients: Set<ServerResponse>, server: Server): void {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const hostHeader = request.headers.host ?? ""
  if (hostHeader !== `${DASHBOARD_HOST}:${port}` && hostHeader !== `localhost:${port}`) {
    response.writeHead(403, { "content-type": "text/plain" }).end("the dashboard answers requests for 127.0.0.1 only\n")
    return
  }
  const path = (request.url ?? "/").split("?")[0]
  if (request.method !== "GET") {
    response.writeHead(405, { allow: "GET" }).end()
  } else if (path === "/") {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(dashboardPage(live.title))
  } else if (path === "/state") {
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ ...live.sample(), preview: live.preview() }))
  } else if (path === "/events") {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" })
    response.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(live.sample())}\n\n`)
    const preview = live.preview()
    if (preview !== null) response.write(`event: preview\ndata: ${JSON.stringify(preview)}\n\n`)
    clients.add(response)
    request.on("close", () => clients.delete(response))
  } else {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
  }
}

interface LiveState {
  readonly title: string
  attach(memory: WorldMemory, counters: SharedArrayBuffer): void
  event(event: RankEvent): void
  progress(label: string, done: number, total: number): void
  finish(ok: boolean, message: string): void
  /** Reads the counters: rates over the last second. */
  tick(): void
  sample(): DashboardState
  preview(): FieldPreview | null
}

/** The job as last sampled: ends from rank events, the rest read from shared memory on each sample. */
function liveState(ranks: number, title: string): LiveState {
  const t0 = performance.now()
  const ended: Array<RankActivity | undefined> = new Array(ranks).fill(undefined)
  let memory: WorldMemory | undefined
  let control: Int32Array | undefined
  let traffic: Float64Array | undefined
  let heap: Float64Array | undefined
  let status: DashboardState["status"] = "running"
  let message = ""
  let progress: DashboardState["progress"] = null
  let preview: FieldPreview | null = null
  // The counts of the last ticks (a ring, preallocated): rates are taken over the last second. Above
  // MATRIX_MAX_RANKS only each rank's sums are kept: [messages, bytes] per rank instead of per pair.
  const matrix = ranks <= MATRIX_MAX_RANKS
  const width = matrix ? ranks * ranks * 2 : ranks * 2
  const history = Array.from({ length: RATE_WINDOW_TICKS + 1 }, () => ({ at: t0, counts: new Float64Array(width) }))
  let newest = 0
  const rates = new Float64Array(width)
  /** What `rank` sends per second, to all ranks: [messages, bytes]. */
  const sentBy = (rank: number): readonly [number, number] => {
    if (!matrix) return [rates[2 * rank]!, rates[2 * rank + 1]!]
    let messages = 0
    let bytes = 0
    for (let to = 0; to < ranks; to++) {
      messages += rates[2 * (rank * ranks + to)]!
      bytes += rates[2 * (rank * ranks + to) + 1]!
    }
    return [messages, bytes]
  }
  /** The state at the job's end, once it ended: sampling stops there. */
  let final: DashboardState | undefined
  /** Reads the counters (on the sampling timer; a page's request only reads the rates): rates over the last second. */
  const tick = (): void => {
    const now = performance.now()
    if (traffic === undefined) return
    newest = (newest + 1) % history.length
    const latest = history[newest]!
    const oldest = history[(newest + 1) % history.length]!
    latest.at = now
    const counts = latest.counts
    if (matrix) counts.set(traffic)
    else {
      counts.fill(0)
      for (let k = 0; k < ranks * ranks; k++) {
        const from = Math.floor(k / ranks)
        counts[2 * from] = counts[2 * from]! + traffic[2 * k]!
        counts[2 * from + 1] = counts[2 * from + 1]! + traffic[2 * k + 1]!
      }
    }
    const seconds = Math.max(1e-3, (now - oldest.at) / 1000)
    for (let k = 0; k < width; k++) rates[k] = Math.max(0, (counts[k]! - oldest.counts[k]!) / seconds)
  }
  const sample = (): DashboardState => {
    const now = performance.now()
    const rankViews = Array.from({ length: ranks }, (_, rank) => rankView(rank, ended[rank], memory, control, heap, sentBy(rank)))
    const counts = history[newest]!.counts
    return {
      title,
      ranks,
      seconds: (now - t0) / 1000,
      status,
      message,
      progress,
      rankViews,
      messagesPerSecond: matrix ? everyOther(rates, 0) : [],
      bytesPerSecond: matrix ? everyOther(rates, 1) : [],
      messages: matrix ? everyOther(counts, 0) : [],
      bytes: matrix ? everyOther(counts, 1) : [],
    }
  }
  return {
    title,
    attach(m, counters) {
      memory = m
      control = new Int32Array(m.control)
      traffic = trafficMatrix(counters, ranks)
      heap = heapFigures(counters, ranks)
    },
    event(event) {
      switch (event.kind) {
        case "observation":
          preview = { label: event.label, step: event.step, shape: [...event.shape], values: Array.from(event.values) }
          return
        case "progress":
          return
        case "done":
          ended[event.rank] ??= "done"
          return
        case "failed":
        case "outOfMemory":
          ended[event.rank] = "failed"
          return
        case "aborted":
        case "abort":
          ended[event.rank] ??= "stopped"
          return
        case "exited":
          ended[event.rank] ??= event.code === 0 ? "done" : "failed"
      }
    },
    progress(label, done, total) {
      progress = { label, done, total }
    },
    finish(ok, text) {
      status = ok ? "succeeded" : "failed"
      message = text
      for (let r = 0; r < ranks; r++) ended[r] ??= ok ? "done" : "stopped"
      tick()
      final ??= sample()
    },
    tick,
    preview: () => preview,
    sample: () => final ?? sample(),
  }
}

/** One rank's row, read from the control block and the dashboard buffer. */
function rankView(
  rank: number,
  end: RankActivity | undefined,
  memory: WorldMemory | undefined,
  control: Int32Array | undefined,
  heap: Float64Array | undefined,
  [messagesPerSecond, bytesPerSecond]: readonly [number, number],
): RankView {
  const heapBytes = heap?.[rank] ?? 0
  const common = { rank, heapBytes, messagesPerSecond, bytesPerSecond }
  if (end !== undefined) return { ...common, state: end }
  if (memory === undefined || control === undefined || heapBytes === 0) return { ...common, state: "starting" }
  const op = Atomics.load(control, (rank + 1) * RANK_STRIDE + CALL_OP)
  const collective = op > 0 ? { collective: COLLECTIVE_NAMES[op - 1] ?? "collective" } : {}
  const blocked = sample(control, rank).blocked
  if (blocked === undefined) return { ...common, ...collective, state: "computing" }
  return { ...common, ...collective, state: "waiting", call: blocked.call, peer: blocked.peer, tag: blocked.tag }
}

/** The messages (0) or bytes (1) of an interleaved [messages, bytes] array. */
function everyOther(pairs: Float64Array, which: 0 | 1): number[] {
  const out = new Array<number>(pairs.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = pairs[2 * i + which]!
  return out
}
