/**
 * The hand-off between the worker bootstrap and the user's module: the
 * bootstrap stores who this rank is before importing the entry, and `init()`
 * finds it here. Kept on `globalThis` under a registered symbol so it is seen
 * even if the entry imports rankflow through another path (source vs built).
 *
 * Layer: runtime (rank side). Loads no Effect.
 */
import "../comm/cart.ts" // adds comm.cart()
import { Comm } from "../comm/comm.ts"
import { Engine } from "../comm/engine.ts"
import type { TraceMode } from "../comm/trace.ts"
import type { Links } from "../transport/channel.ts"
import type { WorldMemory } from "../transport/memory.ts"
import { trafficRow } from "./dashboardBuffer.ts"
import { mpiLinks } from "../transport/mpi.ts"
import { PublishedBell } from "../transport/publishedBell.ts"

/** What a rank learns from the supervisor when it starts (structured-cloneable). */
export interface RankStart {
  readonly rank: number
  readonly size: number
  readonly memory: WorldMemory
  /** URL of the module to import on the rank. */
  readonly entry: string
  /** When set, the rank calls this export of `entry` with (comm, args) and reports its result. */
  readonly exportName?: string
  readonly args?: unknown
  /** URL of tsx's ESM API when the rank must load TypeScript. */
  readonly tsx?: string
  /** URL of the bootstrap module (rankEntry) to import after tsx is registered. */
  readonly bootstrap: string
  /** Per-call limit of blocking communication calls, in seconds. */
  readonly commTimeout?: number
  /** Whether the supervisor draws progress reports (`--progress`). */
  readonly progress?: boolean
  /** Whether to count traffic and waits for the supervisor's trace report (`--trace`); "timeline"/"timeline-all": also when (`--trace=FILE.json`). */
  readonly trace?: TraceMode
  /** `--dashboard`: the buffer this rank publishes its traffic and heap into (dashboardFeed.ts). */
  readonly dashboard?: SharedArrayBuffer
  /**
   * "mpi": this rank is an Open MPI process's one rank (started under
   * mpirun); its rank and size are MPI_COMM_WORLD's, `rank`/`size` above
   * only index it in its process's supervisor (its thread among
   * `ranksPerProcess`).
   */
  readonly transport?: "mpi"
  /** With the MPI transport: rank threads per process (hybrid), default 1. */
  readonly ranksPerProcess?: number
}

interface RankState {
  readonly start: RankStart
  world?: Comm
  engine?: Engine
  /** The MPI transport's links, when this rank runs on it. */
  links?: Links & { readonly rank: number }
}

const KEY = Symbol.for("rankflow.rank")
type Holder = { [KEY]?: RankState }

/** This thread's rank state, or undefined on the supervisor (or any thread rankflow did not start). */
export function rankState(): RankState | undefined {
  return (globalThis as Holder)[KEY]
}

/** Called once by the bootstrap, before the entry module is imported. */
export function enterRank(start: RankStart): RankState {
  const state: RankState = { start }
  ;(globalThis as Holder)[KEY] = state
  return state
}

/** The arguments the supervisor handed this rank (e.g. a pipeline's decoded parameters). */
export function rankArgs(): unknown {
  return rankState()?.start.args
}

/** The world communicator of this rank (created on first use). */
export function worldComm(state: RankState): Comm {
  if (state.world === undefined) {
    const { start } = state
    // The dashboard reads the trace's per-destination counters live: they count in shared memory.
    const traced = start.trace ?? start.dashboard !== undefined
    if (start.transport === "mpi") {
      const perProcess = start.ranksPerProcess ?? 1
      const mpi = mpiLinks(start.memory, start.rank, perProcess)
      // Several rank threads per process: waits are published in its control block, where its supervisor finds
      // wait-for cycles among them. A lone rank thread can be in no such cycle, and publishing costs every wait.
      const links = (state.links = perProcess === 1 ? mpi : { ...mpi, bell: new PublishedBell(mpi.bell, start.memory, start.rank) })
      state.engine = new Engine(start.memory, links.rank, start.commTimeout, traced, links)
    } else state.engine = new Engine(start.memory, start.rank, start.commTimeout, traced)
    if (start.dashboard !== undefined) state.engine.trace?.countInto(trafficRow(start.dashboard, start.size, start.rank))
    state.world = new Comm(state.engine, 0)
  }
  return state.world
}
