/**
 * The optional Open MPI addon (`native/mpi/mpi.c`, built by
 * `native/mpi/build.mjs` at install into `build/mpi/`): loaded only when the
 * MPI transport is asked for, never by the threads transport. When it is
 * missing or does not load, `mpiAddon()` throws `MpiUnavailable` naming what
 * is missing — from the build's record (`build/mpi/status.json`) or the
 * loader's error — and the Debian packages that provide it.
 *
 * Layer: transport.
 */
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { MpiUnavailable } from "../errors.ts"
import type { TypedArray } from "./ring.ts"

/** The addon's calls (see native/mpi/mpi.c for what each does in MPI terms). */
export interface MpiAddon {
  /**
   * Once per rank thread: MPI_Init_thread (first thread of the process) and the job's RMA
   * window over `heap`; [process rank, processes, thread level, compact payload bytes]. The last is
   * the largest payload `send` takes as a compact frame (header in the MPI tag), or -1 when compact
   * frames are off (hybrid runs, or an MPI whose tags stop below 2^31 - 1). `perProcess`: rank threads per process.
   */
  init(heap: Uint8Array, perProcess: number): [number, number, number, number]
  /**
   * Once per rank thread: the buffer small frames are written into before `send`, and where `waitAny` reports arrivals
   * (one int32 per slot), followed by `waitInto`'s 8 arm words (slot, context, tag, kind, max bytes; delivered bytes or -1, delivered tag).
   */
  bindThread(outStaging: ArrayBuffer, arrivals: Int32Array): void
  /**
   * Sends the small frame in the thread's outgoing staging buffer: int32 destination process, MPI tag and frame bytes first, the frame from byte 16.
   * A compact frame (MPI tag from `compactTag`) is its payload alone.
   */
  send(): void
  sendLarge(dest: number, mpiTag: number, context: number, tag: number, kind: number, payload: TypedArray, bytes: number): number
  testSend(handle: number): boolean
  /** `waitAny` with the receive in the arm words armed: a matching small frame of its slot is copied into `dest` (see native/mpi/mpi.c, Armed). */
  waitInto(dest: TypedArray, nanos: number): boolean
  /** Binds receive slot `slot` to frames from `source` on `mpiTag`, received into `staging` (kept alive by the caller). */
  bind(slot: number, source: number, mpiTag: number, staging: ArrayBuffer): void
  /** 0 while nothing has arrived, else the byte length of the frame now in the slot's staging buffer. */
  probe(slot: number): number
  /**
   * Polls the thread's posted receives, large sends and allgather in C for up to `nanos`: true once
   * one completes (a receive's byte length is then in `arrivals[slot]`, instead of probe's answer).
   */
  waitAny(nanos: number): boolean
  /** True when another frame is queued behind the one in staging. */
  pending(slot: number): boolean
  recvPayload(source: number, mpiTag: number, dest: TypedArray, byteOffset: number, bytes: number): void
  fetchAndAddInt32(targetProcess: number, index: number, value: number): number
  /**
   * Binds an allgather of `send`'s bytes among processes `processes` (null: all) into `recv`, in that
   * order, with MPI tag `tag` (checked once; the addon keeps both buffers alive), and returns the
   * function that runs it with `send`'s current bytes, polling for about `nanos` (in C): true once
   * complete. One at a time per thread.
   */
  allgatherBind(tag: number, processes: Int32Array | null, send: Uint8Array, recv: Uint8Array, nanos: number): () => boolean
  /** Polls the allgather in flight for up to `nanos` (in C); true once it is complete. */
  allgatherTest(nanos: number): boolean
  abort(code: number): never
  finalize(): void
  finalized(): boolean
  initialized(): boolean
  yieldThread(): void
  wtime(): number
}

/** The package's root: two levels up from this module, in src/transport and dist/transport alike. */
const ROOT = new URL("../../", import.meta.url)
/** Where the install script puts the addon and its record. */
export const MPI_ADDON_PATH = fileURLToPath(new URL("build/mpi/rankflow_mpi.node", ROOT))
export const MPI_BUILD_RECORD = fileURLToPath(new URL("build/mpi/status.json", ROOT))

/** What the install script recorded about building the addon, when it ran. */
export interface MpiBuildRecord {
  readonly built: boolean
  readonly reason: string
  readonly missing?: string
}

export function mpiBuildRecord(): MpiBuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(MPI_BUILD_RECORD, "utf8")) as MpiBuildRecord
  } catch {
    return undefined
  }
}

let loaded: MpiAddon | undefined

/**
 * The addon, loaded on first use; throws `MpiUnavailable` when it was not
 * built (naming what the build found missing) or does not load (a missing
 * libmpi: the Open MPI runtime).
 */
export function mpiAddon(): MpiAddon {
  if (loaded !== undefined) return loaded
  if (process.env.RANKFLOW_MPI === "0") throw new MpiUnavailable("the MPI addon", "RANKFLOW_MPI=0 disables it")
  if (!existsSync(MPI_ADDON_PATH)) {
    const record = mpiBuildRecord()
    if (record === undefined) throw new MpiUnavailable("the MPI addon", `${MPI_ADDON_PATH} was never built (the install script did not run)`)
    throw new MpiUnavailable(record.missing ?? "the MPI addon", record.reason)
  }
  try {
    loaded = createRequire(import.meta.url)(MPI_ADDON_PATH) as MpiAddon
    return loaded
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error)
    const runtime = /libmpi|libopen-(rte|pal)|cannot open shared object/.test(message)
    throw new MpiUnavailable(runtime ? "libmpi (the Open MPI runtime)" : "a loadable MPI addon", message)
  }
}

/** The addon if it loads, else the reason it does not (for `rankflow doctor`). */
export function probeMpiAddon(): { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: MpiUnavailable } {
  try {
    mpiAddon()
    return { ok: true, path: MPI_ADDON_PATH }
  } catch (error) {
    if (error instanceof MpiUnavailable) return { ok: false, error }
    throw error
  }
}

/** True when this process was started by Open MPI's mpirun (its environment says so). */
export function underMpirun(): boolean {
  return process.env.OMPI_COMM_WORLD_SIZE !== undefined && process.env.OMPI_COMM_WORLD_RANK !== undefined
}

/** This process's rank and the job's size, from mpirun's environment (before MPI_Init). */
export function mpirunWorld(): { readonly rank: number; readonly size: number } {
  return { rank: Number(process.env.OMPI_COMM_WORLD_RANK ?? 0), size: Number(process.env.OMPI_COMM_WORLD_SIZE ?? 1) }
}
