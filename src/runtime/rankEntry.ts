/**
 * What runs first on every rank (a worker thread): records the rank, imports
 * the entry module — whose top level is the SPMD program, as under mpirun —
 * optionally calls one of its exports, and reports the outcome to the
 * supervisor over the control port. A failure aborts the job through shared
 * memory first, so ranks blocked in a receive are released at once rather
 * than when the supervisor gets round to it.
 *
 * Layer: runtime (rank side). Must stay lean: no Effect, no CLI.
 */
import { parentPort, workerData } from "node:worker_threads"
import { abortAll } from "../transport/doorbell.ts"
import { enterRank, worldComm, type RankStart } from "./rankContext.ts"

/** Messages from a rank to the supervisor. */
export type RankReport =
  | { readonly type: "done"; readonly rank: number; readonly result: unknown }
  | {
      readonly type: "error"
      readonly rank: number
      readonly name: string
      readonly tag: string | undefined
      readonly message: string
      readonly stack: string
    }

const start = workerData as RankStart
const state = enterRank(start)
const port = parentPort!

try {
  const module = (await import(start.entry)) as Record<string, unknown>
  let result: unknown = undefined
  if (start.exportName !== undefined) {
    const fn = module[start.exportName]
    if (typeof fn !== "function") throw new TypeError(`${start.entry} has no exported function "${start.exportName}"`)
    result = await (fn as (comm: unknown, args: unknown) => unknown)(worldComm(state), start.args)
  }
  port.postMessage({ type: "done", rank: start.rank, result } satisfies RankReport)
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error))
  const tag = (e as { _tag?: unknown })._tag
  if (tag !== "RankAborted") abortAll(start.memory, start.rank)
  port.postMessage({
    type: "error",
    rank: start.rank,
    name: e.name,
    tag: typeof tag === "string" ? tag : undefined,
    message: e.message,
    stack: e.stack ?? `${e.name}: ${e.message}`,
  } satisfies RankReport)
}
