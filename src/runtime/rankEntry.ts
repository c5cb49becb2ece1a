/**
 * What runs first on every rank (a worker thread): records the rank, imports
 * the entry module — whose top level is the SPMD program, as under mpirun —
 * optionally calls one of its exports, and reports the outcome to the
 * supervisor over the control port. A failure aborts the job through shared
 * memory first, so ranks blocked in a receive are released at once rather
 * than when the supervisor gets round to it.
 *
 * Errors outside the program's main flow count too: an unhandled promise
 * rejection or a throwing timer, before or after the program returned, is
 * reported as the rank's failure. A thrown value that is not an Error is
 * shown as it is (util.inspect), without a stack from inside rankflow.
 *
 * Layer: runtime (rank side). Must stay lean: no Effect, no CLI.
 */
import { writeSync } from "node:fs"
import { freemem } from "node:os"
import { inspect } from "node:util"
import { parentPort, workerData } from "node:worker_threads"
import type { AbortReport } from "../comm/comm.ts"
import type { TraceSummary } from "../comm/trace.ts"
import type { ObservationReport } from "./dashboardFeed.ts"
import { abortAll } from "../transport/doorbell.ts"
import { OUT_OF_MEMORY, RANK_STRIDE } from "../transport/memory.ts"
import { native } from "../transport/native.ts"
import { enterDashboard } from "./dashboardFeed.ts"
import { enterRank, worldComm, type RankStart } from "./rankContext.ts"

/** Messages from a rank to the supervisor. */
export type RankReport =
  | { readonly type: "done"; readonly rank: number; readonly result: unknown; readonly trace?: TraceSummary }
  | {
      readonly type: "error"
      readonly rank: number
      readonly name: string
      readonly tag: string | undefined
      readonly message: string
      readonly stack: string
    }
  | AbortReport
  | ObservationReport

/**
 * A worker's stdout is flushed by its event loop, which a rank blocked in a
 * receive never runs: output printed before a hang (or a failure) would be
 * lost. Ranks write straight to the process's descriptors instead, like
 * mpirun'd processes; a line is one write, so lines of different ranks never
 * mix mid-line.
 */
function writeThrough(fd: number): typeof process.stdout.write {
  return ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown): boolean => {
    const data = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : chunk
    for (let offset = 0; offset < data.length; ) {
      try {
        offset += writeSync(fd, data, offset)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error
      }
    }
    const done = typeof encoding === "function" ? encoding : callback
    if (typeof done === "function") (done as () => void)()
    return true
  }) as typeof process.stdout.write
}
process.stdout.write = writeThrough(1)
process.stderr.write = writeThrough(2)

const start = workerData as RankStart
const state = enterRank(start)
enterDashboard()
const port = parentPort!

// Past its heap limit, Node stops a worker after granting it only 16 MiB more: one larger
// allocation (a 100 MB array) is then fatal for the whole process. The addon's callback grants
// enough for it to complete (at most the memory free now), flags the rank in the control block
// for the supervisor, and stops the rank. Without the addon, Node's callback stays.
native?.guardHeap?.(new Int32Array(start.memory.control), (start.rank + 1) * RANK_STRIDE + OUT_OF_MEMORY, freemem())

/** The report of a thrown value: an Error with its own stack, anything else shown as it is. */
function errorReport(error: unknown): Extract<RankReport, { type: "error" }> {
  if (error instanceof Error || (typeof error === "object" && error !== null && typeof (error as Error).stack === "string")) {
    const e = error as Error
    const tag = (e as { _tag?: unknown })._tag
    const name = typeof e.name === "string" ? e.name : "Error"
    const message = typeof e.message === "string" ? e.message : inspect(e.message)
    return { type: "error", rank: start.rank, name, tag: typeof tag === "string" ? tag : undefined, message, stack: e.stack ?? `${name}: ${message}` }
  }
  const shown = inspect(error, { depth: 4, breakLength: Infinity })
  const kind = error === null ? "null" : typeof error
  return {
    type: "error",
    rank: start.rank,
    name: `thrown ${kind}`,
    tag: undefined,
    message: shown,
    stack: `thrown ${kind}: ${shown}\n    (a value that is not an Error carries no stack: throw new Error(...) to see where)`,
  }
}

let failed = false

/**
 * On MPI a failing rank ends the whole job itself: it prints its rank, error
 * and stack (as the supervisor does on threads) and calls MPI_Abort, which
 * stops every process of the job — never the classic hang of a rank waiting
 * for a dead peer.
 */
function failOnMpi(report: Extract<RankReport, { type: "error" }>, links: NonNullable<typeof state.links>): never {
  const cause = `${report.name}: ${report.message}`
  const frames = report.stack.startsWith(cause) ? report.stack.slice(cause.length).replace(/^\n/, "") : report.stack
  process.stderr.write(`rankflow: rank ${links.rank} failed: ${cause}\n${frames === "" ? "" : `${frames}\n`}`)
  return links.abort(1)
}

/** Reports the rank's first failure and releases the other ranks. */
function fail(error: unknown): void {
  if (failed) return
  failed = true
  const report = errorReport(error)
  if (state.links !== undefined) failOnMpi(report, state.links)
  if (report.tag !== "RankAborted") abortAll(start.memory, start.rank)
  port.postMessage(report satisfies RankReport)
}

// Errors outside the program's flow (a rejected promise nobody awaited, a throwing timer),
// also after the program returned: the rank fails, the supervisor is told.
process.on("uncaughtException", fail)
process.on("unhandledRejection", fail)

try {
  // On MPI every process joins the job (MPI_Init, collective) before the program runs, whatever it calls.
  if (start.transport === "mpi") worldComm(state)
  const module = (await import(start.entry)) as Record<string, unknown>
  let result: unknown = undefined
  if (start.exportName !== undefined) {
    const fn = module[start.exportName]
    if (typeof fn !== "function") throw new TypeError(`${start.entry} has no exported function "${start.exportName}"`)
    result = await (fn as (comm: unknown, args: unknown) => unknown)(worldComm(state), start.args)
  }
  state.world?._finalize()
  state.links?.finalize()
  const trace = state.engine?.trace?.summary()
  if (!failed) port.postMessage({ type: "done", rank: start.rank, result, ...(trace === undefined ? {} : { trace }) } satisfies RankReport)
} catch (error) {
  fail(error)
}
