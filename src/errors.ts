/**
 * Tagged errors shared by every layer. Each carries the data that explains it
 * (rank, operation, sizes) so callers match on `_tag` and fields, never on
 * message text. Plain classes on purpose: this module loads on ranks, which
 * must not pay for importing Effect (Effect's `catchTag` matches `_tag` all
 * the same).
 *
 * Layer: shared by all; imports only the byte formatter (a pure leaf).
 */
import { formatBytes } from "./comm/units.ts"

const BRAND = Symbol.for("rankflow.error")

/** Base class of every error rankflow throws; `_tag` names the case. */
export abstract class RankflowError extends Error {
  abstract readonly _tag: string
  /** Marks rankflow's errors for `isRankflowError`, whichever copy of the module made them. */
  readonly [BRAND] = true
}

/**
 * Whether `e` is an error rankflow threw — also when another copy of this
 * module made it (the supervisor's bundle, or dist/ beside src/), where
 * `instanceof` cannot tell.
 *
 * @example
 * ```ts
 * import { init, isRankflowError } from "rankflow"
 * const comm = await init()
 * try {
 *   comm.send(1, comm.size) // no such rank
 * } catch (e) {
 *   if (isRankflowError(e)) console.log(e._tag) // InvalidArgument
 * }
 * ```
 */
export function isRankflowError(e: unknown): e is RankflowError {
  return e instanceof Error && (e as { [BRAND]?: unknown })[BRAND] === true
}

/**
 * A call received an argument it cannot use (rank out of range, bad tag, …).
 *
 * @example
 * ```ts
 * import { InvalidArgument } from "rankflow"
 * const e = new InvalidArgument("send", "dest", 9, "must be a rank in [0, 4)")
 * console.log(e.message) // send: dest = 9 must be a rank in [0, 4)
 * ```
 */
export class InvalidArgument extends RankflowError {
  readonly _tag = "InvalidArgument"
  constructor(
    /** The call that refused it, e.g. `"send"`. */
    readonly op: string,
    /** The argument's name, e.g. `"dest"`. */
    readonly argument: string,
    /** The value given. */
    readonly value: unknown,
    /** What the value must be instead. */
    readonly detail: string,
  ) {
    super(`${op}: ${argument} = ${String(value)} ${detail}`)
    this.name = "InvalidArgument"
  }
}

/** A message was larger than the buffer given to `recvInto` (MPI_ERR_TRUNCATE). */
export class RecvTruncated extends RankflowError {
  readonly _tag = "RecvTruncated"
  constructor(
    /** The receiving rank. */
    readonly rank: number,
    /** The rank the message came from. */
    readonly source: number,
    /** The message's tag. */
    readonly tag: number,
    /** Size of the message, in bytes. */
    readonly messageBytes: number,
    /** Size of the buffer given to `recvInto`, in bytes. */
    readonly bufferBytes: number,
  ) {
    super(
      `rank ${rank}: recvInto: message from rank ${source} (tag ${tag}) has ${messageBytes} bytes, ` +
        `the buffer only ${bufferBytes}`,
    )
    this.name = "RecvTruncated"
  }
}

/** `recvInto` got a message whose element type differs from the buffer's. */
export class RecvTypeMismatch extends RankflowError {
  readonly _tag = "RecvTypeMismatch"
  constructor(
    /** The receiving rank. */
    readonly rank: number,
    /** The rank the message came from. */
    readonly source: number,
    /** The message's tag. */
    readonly tag: number,
    /** The buffer's type, e.g. `"Float64Array"`. */
    readonly expected: string,
    /** The message's type, e.g. `"Int32Array"` or `"serialized object"`. */
    readonly received: string,
  ) {
    super(
      `rank ${rank}: recvInto: buffer is ${expected} but the message from rank ${source} (tag ${tag}) is ${received}`,
    )
    this.name = "RecvTypeMismatch"
  }
}

/** A value could not be serialized for sending (functions, class instances with native state, …). */
export class NotSerializable extends RankflowError {
  readonly _tag = "NotSerializable"
  constructor(
    /** The sending rank. */
    readonly rank: number,
    /** The call that tried to send it. */
    readonly op: string,
    /** The value's type (its constructor's name, or `typeof`). */
    readonly valueType: string,
    /** Why v8's serializer refused it. */
    readonly reason: string,
  ) {
    super(`rank ${rank}: ${op}: cannot send a value of type ${valueType}: ${reason}`)
    this.name = "NotSerializable"
  }
}

/** A message exceeds what one transport frame can carry (4 GiB − 1 bytes). */
export class MessageTooLarge extends RankflowError {
  readonly _tag = "MessageTooLarge"
  constructor(
    /** The sending rank. */
    readonly rank: number,
    /** The message's size, in bytes. */
    readonly bytes: number,
    /** The largest message a frame carries, in bytes. */
    readonly limit: number,
  ) {
    super(`rank ${rank}: message of ${bytes} bytes exceeds the limit of ${limit} bytes (4 GiB − 1) for one message; send it in parts`)
    this.name = "MessageTooLarge"
  }
}

/**
 * Thrown inside a rank that was blocked (or next calls into comm) after the
 * job was aborted because another rank failed. Its own stack is not the cause:
 * the supervisor reports the failing rank's error instead.
 */
export class RankAborted extends RankflowError {
  readonly _tag = "RankAborted"
  constructor(
    /** The rank that was stopped. */
    readonly rank: number,
    /** The rank whose failure aborted the job, or -1 when the supervisor stopped it. */
    readonly failedRank: number,
  ) {
    super(
      failedRank >= 0
        ? `rank ${rank}: aborted because rank ${failedRank} failed`
        : `rank ${rank}: aborted by the supervisor`,
    )
    this.name = "RankAborted"
  }
}

/** What the supervisor knows about one rank's failure. */
export interface RankFailure {
  /** The rank that failed. */
  readonly rank: number
  /** The error's name (its class). */
  readonly name: string
  /** The error's message. */
  readonly message: string
  /** The error's stack, as printed on the rank. */
  readonly stack: string
}

/** The job failed: one or more ranks threw. `failures[0]` is the first one seen. */
export class RankFailed extends RankflowError {
  readonly _tag = "RankFailed"
  constructor(
    /** Every failed rank's error, the first one seen first. */
    readonly failures: ReadonlyArray<RankFailure>,
  ) {
    const first = failures[0]
    super(
      first === undefined
        ? "a rank failed"
        : `rank ${first.rank} failed: ${first.name}: ${first.message}` +
            (failures.length > 1 ? ` (and ${failures.length - 1} more rank(s) failed)` : ""),
    )
    this.name = "RankFailed"
  }
}

/**
 * A rank's thread ended without finishing its program: `process.exit` inside
 * a rank (which ends only that rank's thread; `comm.abort(code, reason)` ends
 * the job), or a top-level await that can never settle (exit code 13).
 */
export class RankExited extends RankflowError {
  readonly _tag = "RankExited"
  constructor(
    /** The rank whose thread ended. */
    readonly rank: number,
    /** The thread's exit code. */
    readonly exitCode: number,
  ) {
    super(
      `rank ${rank} exited with code ${exitCode} before finishing` +
        (exitCode === 13
          ? " (its top-level await never settled: nothing was left to wait for)"
          : " (process.exit in a rank ends only its thread: end the job with comm.abort(code, reason))"),
    )
    this.name = "RankExited"
  }
}

/** The whole run exceeded its time limit. */
export class JobTimeout extends RankflowError {
  readonly _tag = "JobTimeout"
  constructor(
    /** The time limit, in seconds. */
    readonly seconds: number,
    /** The ranks still running when it expired. */
    readonly pending: ReadonlyArray<number>,
  ) {
    super(`the run exceeded its time limit of ${seconds} s; ranks still running: ${pending.join(", ")}`)
    this.name = "JobTimeout"
  }
}

/** The run was interrupted (Ctrl-C / SIGTERM). */
export class JobInterrupted extends RankflowError {
  readonly _tag = "JobInterrupted"
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`)
    this.name = "JobInterrupted"
  }
}

/** Command-line or launch options were rejected before any rank started. */
export class InvalidOptions extends RankflowError {
  readonly _tag = "InvalidOptions"
  constructor(
    /** The option, e.g. `"--ranks"` (empty when the problem is not one option's). */
    readonly option: string,
    /** What is wrong and what is allowed. */
    readonly detail: string,
  ) {
    super(option === "" ? detail : `${option}: ${detail}`)
    this.name = "InvalidOptions"
  }
}

/** What one rank called: a collective's name, root and sequence number on its communicator. */
export interface CollectiveCall {
  /** The collective's name, e.g. `"bcast"`. */
  readonly op: string
  /** Its root rank (0 for rootless collectives). */
  readonly root: number
  /** Its sequence number among the communicator's collectives. */
  readonly seq: number
}

/**
 * Ranks entered different collectives, with different roots, or with
 * incompatible contributions (sizes, types). Raised by the rank that sees the
 * other's message, naming both calls, at the call and before any rank returns
 * a value from it; a rank that sees different calls tells every other rank,
 * which raise it too, each naming its own call and the one that differs.
 */
export class CollectiveMismatch extends RankflowError {
  readonly _tag = "CollectiveMismatch"
  constructor(
    /** The rank that noticed the mismatch. */
    readonly rank: number,
    /** The rank whose message did not match. */
    readonly peer: number,
    /** What this rank called. */
    readonly mine: CollectiveCall,
    /** What the peer called, when its message says so. */
    readonly theirs: CollectiveCall | undefined,
    /** What differs (the call, the root, the sizes or types). */
    readonly detail: string,
  ) {
    const call = (c: CollectiveCall): string =>
      c.seq < 0 || c.op.startsWith("the end") ? c.op : `${c.op} (root ${c.root}, collective #${c.seq})`
    super(
      theirs === undefined
        ? `rank ${rank}: collective mismatch with rank ${peer} in ${call(mine)}: ${detail}`
        : `rank ${rank}: collective mismatch: this rank called ${call(mine)} but rank ${peer} called ${call(theirs)}`,
    )
    this.name = "CollectiveMismatch"
  }
}

/** One rank's part in a deadlock: what it is blocked in and on whom. */
export interface BlockedRank {
  /** The blocked rank. */
  readonly rank: number
  /** "recv", "send", "probe" or "wait". */
  readonly call: string
  /** The rank it waits for (-1: any source). */
  readonly peer: number
  /** The tag it waits for (-1: any tag). */
  readonly tag: number
  /** The collective it is in, if any. */
  readonly collective: CollectiveCall | undefined
}

/** Every live rank is blocked in a communication call and none can proceed. */
export class DeadlockDetected extends RankflowError {
  readonly _tag = "DeadlockDetected"
  constructor(
    /** What each blocked rank waits in, and for whom. */
    readonly blocked: ReadonlyArray<BlockedRank>,
    /** A wait-for cycle (ranks in order, each waiting for the next), or empty if ranks wait on ranks that have finished. */
    readonly cycle: ReadonlyArray<number>,
    /** Ranks that have finished (and so will never send). */
    readonly finished: ReadonlyArray<number>,
    /**
     * "all": every running rank is blocked; "cycle": the ranks of `cycle`
     * (all of `blocked`) wait on each other while other ranks may run — a
     * hybrid MPI job's process found it among its own rank threads.
     */
    readonly scope: "all" | "cycle" = "all",
  ) {
    const who = (b: BlockedRank): string =>
      `  rank ${b.rank} waits in ${b.collective === undefined ? b.call : `${b.collective.op} (collective #${b.collective.seq}, root ${b.collective.root})`}` +
      ` for ${b.peer < 0 ? "any rank" : `rank ${b.peer}`}${b.tag < 0 || b.collective !== undefined ? "" : ` (tag ${b.tag})`}`
    const lines = [
      scope === "cycle"
        ? `deadlock: ranks ${cycle.join(", ")} wait on each other in a cycle that no other rank can break`
        : `deadlock: every running rank is blocked in a communication call`,
      ...blocked.map(who),
      cycle.length > 0
        ? `  wait-for cycle: ${[...cycle, cycle[0]].map((r) => `rank ${r}`).join(" → ")}`
        : finished.length > 0
          ? `  ranks ${finished.join(", ")} have finished and will not send`
          : `  no rank can make progress`,
    ]
    super(lines.join("\n"))
    this.name = "DeadlockDetected"
  }
}

/** A blocking call exceeded the configured per-call time limit. */
export class CommTimeout extends RankflowError {
  readonly _tag = "CommTimeout"
  constructor(
    /** The rank whose call timed out. */
    readonly rank: number,
    /** The blocking call, e.g. `"recv"`. */
    readonly call: string,
    /** The rank it waited for (-1: any rank). */
    readonly peer: number,
    /** The per-call time limit, in seconds. */
    readonly seconds: number,
  ) {
    super(`rank ${rank}: ${call} waiting for ${peer < 0 ? "any rank" : `rank ${peer}`} exceeded ${seconds} s`)
    this.name = "CommTimeout"
  }
}

/**
 * A grid cannot be laid out on the ranks: some block would hold fewer points
 * along `dimension` than the ghost width its neighbours read (or none).
 */
export class GridTooSmall extends RankflowError {
  readonly _tag = "GridTooSmall"
  constructor(
    /** The dimension along which blocks are too thin. */
    readonly dimension: number,
    /** The grid's points along that dimension. */
    readonly points: number,
    /** Ranks the dimension is cut across. */
    readonly ranksAlong: number,
    /** The ghost width neighbours read. */
    readonly ghost: number,
    /** Fewest points a block needs along the dimension. */
    readonly minimum: number,
  ) {
    super(
      `grid too small: ${points} points along dimension ${dimension} on ${ranksAlong} ranks leaves blocks of ` +
        `${Math.floor(points / ranksAlong)} points, fewer than ${minimum} (ghost width ${ghost}${minimum > Math.max(1, ghost) ? ", plus the point a Neumann edge mirrors about" : ""}); use fewer ranks or a larger grid`,
    )
    this.name = "GridTooSmall"
  }
}

/** A pipeline that cannot run as written: `stage` names the offending stage. */
export class InvalidPipeline extends RankflowError {
  readonly _tag = "InvalidPipeline"
  constructor(
    /** The offending stage, e.g. `"stencil"`. */
    readonly stage: string,
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(`${stage}: ${detail}`)
    this.name = "InvalidPipeline"
  }
}

/** What a stencil declares for the planner's stability check (see `StencilOptions`). */
export type StabilityKind = "diffusion" | "advection" | "wave"

/**
 * An explicit stencil whose declared stability number is out of its stable
 * range: a diffusion coefficient r = α·dt/dx² above 1/2, 1/4, 1/6 (1-, 2-,
 * 3-D) or negative; an advection Courant number with Σ_d |C_d| above 1; a wave
 * CFL number with √(Σ_d C_d²) above 1 or negative; or any of them NaN or ±∞.
 * Refused at plan time, before any rank starts.
 */
export class UnstableScheme extends RankflowError {
  readonly _tag = "UnstableScheme"
  constructor(
    /** The stencil stage. */
    readonly stage: string,
    /** The number checked: r for diffusion, Σ_d |C_d| for advection, √(Σ_d C_d²) for a wave; the offending entry when one is negative or not finite. */
    readonly coefficient: number,
    /** The stability bound `coefficient` must not exceed. */
    readonly bound: number,
    /** Which declaration: `diffusion`, `advection` or `wave`. */
    readonly kind: StabilityKind = "diffusion",
    /** The value as the stencil declared it (a number, or one per dimension). */
    readonly declared: number | ReadonlyArray<number> = coefficient,
  ) {
    super(unstableMessage(stage, coefficient, bound, kind, declared))
    this.name = "UnstableScheme"
  }
}

const STABILITY_NAMES: Record<StabilityKind, string> = {
  diffusion: "explicit diffusion coefficient r = α·dt/dx²",
  advection: "advection Courant number C = c·dt/dx",
  wave: "wave CFL number C = |c|·dt/dx",
}

function unstableMessage(stage: string, coefficient: number, bound: number, kind: StabilityKind, declared: number | ReadonlyArray<number>): string {
  const value = typeof declared === "number" ? String(declared) : `[${declared.join(", ")}]`
  const what = `${stage}: ${STABILITY_NAMES[kind]} = ${value}`
  if (!Number.isFinite(coefficient)) return `${what} is not a finite number (${coefficient}): every point would become NaN; check the parameters it is computed from`
  if (coefficient < 0)
    return kind === "diffusion"
      ? `${what} is negative: a negative diffusivity or time step amplifies every mode (the backward heat equation) and runs to NaN; r must lie in [0, ${bound}]`
      : `${what} is negative: it is a ratio of magnitudes |c|·dt/dx; it must lie in [0, ${bound}]`
  if (kind === "diffusion") return `${what} exceeds the stability bound ${bound}; reduce dt or coarsen the grid`
  const rounded = +coefficient.toPrecision(6)
  const measure = kind === "advection" ? `Σ|C_d| = ${rounded}` : `√(Σ C_d²) = ${rounded}`
  const scheme = kind === "advection" ? "explicit upwind" : "leapfrog"
  return `${what} (${measure}) exceeds the stability bound ${bound} of ${scheme}; reduce dt or coarsen the grid`
}

/** A stencil read a point farther from its centre than its declared radius (checked in debug mode). */
export class StencilOutOfRadius extends RankflowError {
  readonly _tag = "StencilOutOfRadius"
  constructor(
    /** The stencil stage. */
    readonly stage: string,
    /** Offset of the read from the centre, per dimension. */
    readonly offset: ReadonlyArray<number>,
    /** The radius it declared (0 for a field it does not declare in `reads`, and for a previous level). */
    readonly radius: number,
    /** The field read. */
    readonly field = "u",
  ) {
    const widest = Math.max(...offset.map(Math.abs))
    const fix =
      field.startsWith("prev.")
        ? `previous levels are never exchanged: read ${field} at the centre only`
        : radius === 0 && field !== "u"
          ? `add "${field}" to its reads (and a radius ≥ ${widest}), or fix the stencil`
          : `declare { radius: ${widest} } or fix the stencil`
    super(`${stage}: the stencil read the point${field === "u" ? "" : ` of ${field}`} at offset [${offset.join(", ")}] from its centre, beyond ${radius === 0 ? "the centre it may read" : `its declared radius ${radius}`}; ${fix}`)
    this.name = "StencilOutOfRadius"
  }
}

/** A stencil that reads ghosts no exchange refreshed since they last changed: results would depend on the rank count. */
export class StaleGhosts extends RankflowError {
  readonly _tag = "StaleGhosts"
  constructor(
    /** The stencil stage. */
    readonly stage: string,
    /** The field whose ghosts are stale. */
    readonly field: string,
    several: boolean,
  ) {
    super(
      `${stage} reads ghosts${several ? ` of ${field}` : ""} that no haloExchange refreshed since ${several ? `${field} last changed` : "the last update"}: its result would depend on the rank count. Add .haloExchange() before it, or declare { stale: "allow" } for a scheme that wants lagged ghosts`,
    )
    this.name = "StaleGhosts"
  }
}

/** A field's initial data that does not fit its grid (the wrong length, missing on rank 0). */
export class FieldDataMismatch extends RankflowError {
  readonly _tag = "FieldDataMismatch"
  constructor(
    /** The field. */
    readonly field: string,
    /** What is wrong. */
    readonly detail: string,
  ) {
    super(`field ${field}: ${detail}`)
    this.name = "FieldDataMismatch"
  }
}

/** A stencil that does not fit its grid: parameters of another dimension, or reads of non-integer indices. */
export class StencilMisread extends RankflowError {
  readonly _tag = "StencilMisread"
  constructor(
    /** The stencil stage. */
    readonly stage: string,
    /** What it did. */
    readonly detail: string,
  ) {
    super(`${stage}: ${detail}`)
    this.name = "StencilMisread"
  }
}

// ---- Command-line declarations and limits (refused before any rank starts) ----

/**
 * A program parameter whose flag is also a runtime or pipeline option
 * (`timeout`, `ranks`, `json`, …): the command line would apply it twice.
 * Thrown where the parameters are declared.
 */
export class ParamNameConflict extends RankflowError {
  readonly _tag = "ParamNameConflict"
  constructor(
    /** The parameter as declared. */
    readonly param: string,
    /** The option it collides with, without dashes. */
    readonly option: string,
    /** Whose option it is: every program's (`runtime`) or `Pipeline.main`'s (`pipeline`). */
    readonly owner: "runtime" | "pipeline",
  ) {
    super(`parameter '${param}' collides with the ${owner} option --${option}; rename the parameter`)
    this.name = "ParamNameConflict"
  }
}

/**
 * A job larger than this machine or V8 allows (`--ranks`, `--threads`):
 * refused before any worker starts, with the limit and the reason.
 */
export class ResourceLimit extends RankflowError {
  readonly _tag = "ResourceLimit"
  constructor(
    /** The option, e.g. `--ranks`. */
    readonly option: string,
    /** The value given. */
    readonly value: number,
    /** The largest value allowed. */
    readonly limit: number,
    /** What sets the limit (memory, V8's heap or typed-array lengths). */
    readonly reason: string,
  ) {
    super(`${option}: ${value} is more than this machine allows (at most ${limit}: ${reason})`)
    this.name = "ResourceLimit"
  }
}

/**
 * A grid whose fields cannot be allocated: more bytes than the machine's
 * memory, or a block longer than a V8 typed array can be. Refused by the
 * planner's memory check before any rank starts.
 */
export class GridTooLarge extends RankflowError {
  readonly _tag = "GridTooLarge"
  constructor(
    /** Points of the grid. */
    readonly points: number,
    /** Bytes needed. */
    readonly bytes: number,
    /** Bytes allowed. */
    readonly limit: number,
    /** What needs them and what sets the limit. */
    readonly reason: string,
    /** What to do instead. */
    readonly advice = "use a smaller grid",
  ) {
    super(`grid too large: ${points} points need ${formatBytes(bytes)} ${reason} (${formatBytes(limit)}); ${advice}`)
    this.name = "GridTooLarge"
  }
}


// ---- reduction inputs (comm) ----------------------------------------------

/**
 * A built-in reduction op (SUM, MAX, LAND, MAXLOC, …) got a value it cannot
 * reduce — an array, a string or an object for SUM, floats for BAND, booleans
 * for MAX — raised at the call on the rank whose value it is, before any
 * message moves. `accepts` says what the op takes. (User Semigroups/Monoids
 * are not checked: they define their own values.)
 *
 * @example
 * ```ts
 * import { init, isRankflowError, SUM } from "rankflow"
 * const comm = await init()
 * try {
 *   comm.allreduce([comm.rank, 1] as unknown as number, SUM) // an array is not a number
 * } catch (e) {
 *   if (isRankflowError(e)) console.log(e._tag) // ReduceTypeMismatch
 * }
 * ```
 */
export class ReduceTypeMismatch extends RankflowError {
  readonly _tag = "ReduceTypeMismatch"
  constructor(
    /** The rank whose value it is; -1 where no rank is known (a pipeline's fold of partition values). */
    readonly rank: number,
    /** The call: "allreduce", "reduce", "scan", … */
    readonly call: string,
    /** The op's name: "SUM", "MAXLOC", … */
    readonly op: string,
    /** What the value is, e.g. "an Array of 2", "a string", "a Float64Array(3)". */
    readonly valueType: string,
    /** What the op reduces. */
    readonly accepts: string,
  ) {
    super(`${rank >= 0 ? `rank ${rank}: ` : ""}${call}: ${op} cannot reduce ${valueType}; ${op} takes ${accepts}`)
    this.name = "ReduceTypeMismatch"
  }
}

// ---- ending a job: comm.abort, out of memory --------------------------------

/**
 * A rank called `comm.abort(code, reason)` (MPI_Abort): every rank was
 * stopped and the job exits with `exitCode`.
 *
 * @example
 * ```ts
 * import { JobAborted } from "rankflow"
 * console.log(new JobAborted(1, 3, "bad input").message) // rank 1 called comm.abort(3): bad input
 * ```
 */
export class JobAborted extends RankflowError {
  readonly _tag = "JobAborted"
  constructor(
    /** World rank that called `comm.abort`. */
    readonly rank: number,
    /** The job's exit code, as given to `comm.abort`. */
    readonly exitCode: number,
    /** The reason given to `comm.abort` ("" when none). */
    readonly reason: string,
  ) {
    super(`rank ${rank} called comm.abort(${exitCode})${reason === "" ? "" : `: ${reason}`}`)
    this.name = "JobAborted"
  }
}

/**
 * A rank's JavaScript heap outgrew its limit (`maxRankHeapMiB`, default a
 * fair share of the machine's memory): that rank failed alone, the job with it.
 *
 * @example
 * ```ts
 * import { RankOutOfMemory } from "rankflow"
 * console.log(new RankOutOfMemory(2, 256).message) // rank 2 ran out of memory: heap limit 256 MiB per rank (…)
 * ```
 */
export class RankOutOfMemory extends RankflowError {
  readonly _tag = "RankOutOfMemory"
  constructor(
    /** The rank whose heap outgrew its limit. */
    readonly rank: number,
    /** The per-rank heap limit, in MiB. */
    readonly limitMiB: number,
  ) {
    super(`rank ${rank} ran out of memory: heap limit ${limitMiB} MiB per rank (--max-rank-heap <MiB> or RANKFLOW_MAX_RANK_HEAP sets it)`)
    this.name = "RankOutOfMemory"
  }
}

// ---- data files and checkpoints (pipeline/npy.ts, blockFile.ts, checkpoint.ts)

/** What is wrong with a data file, for {@link FieldFileError}. */
export type FieldFileProblem =
  /** The file cannot be opened (missing, no permission). */
  | "missing"
  /** Not a `.npy` file, or its header is malformed. */
  | "not-npy"
  /** A `.npy` rankflow cannot read: big-endian, Fortran order, another dtype or version. */
  | "unsupported"
  /** The file's shape is not the grid's (or a block lies outside it). */
  | "shape"
  /** The file's element type is not the field's. */
  | "type"
  /** The file ends before the data it should hold. */
  | "short"
  /** A raw binary file's size is not the shape's element count times the element size. */
  | "size"
  /** Writing the file failed (on the rank named in `found`). */
  | "write"

/**
 * A field's data file cannot be read or written as asked: missing, not a
 * `.npy`, a shape or element type other than the grid's, or cut short.
 * Every rank checks the file before reading a byte of data, so no rank
 * computes on garbage. Element types are never converted: a file of another
 * type is refused (`found` says when a lossless conversion exists and how to
 * make it with numpy).
 *
 * @example
 * ```ts
 * import { FieldFileError } from "rankflow"
 * const e = new FieldFileError("u0.npy", "shape", "shape [100, 80] (the grid)", "shape [80, 100]")
 * console.log(e.message) // u0.npy: wrong shape: expected shape [100, 80] (the grid), found shape [80, 100]
 * ```
 */
export class FieldFileError extends RankflowError {
  readonly _tag = "FieldFileError"
  constructor(
    /** The file's path, as given. */
    readonly path: string,
    /** What is wrong. */
    readonly problem: FieldFileProblem,
    /** What was expected (shape, type, size …), in words. */
    readonly expected: string,
    /** What the file holds instead, in words. */
    readonly found: string,
  ) {
    super(`${path}: ${FILE_PROBLEMS[problem]}: expected ${expected}, found ${found}`)
    this.name = "FieldFileError"
  }
}

const FILE_PROBLEMS: Record<FieldFileProblem, string> = {
  missing: "cannot open",
  "not-npy": "not a .npy file",
  unsupported: "unsupported .npy",
  shape: "wrong shape",
  type: "wrong element type",
  short: "file too short",
  size: "wrong size for a raw binary file",
  write: "write failed",
}

/** What is wrong with a checkpoint, for {@link CheckpointError}. */
export type CheckpointProblem =
  /** `--restart` found no complete checkpoint in the directory. */
  | "none"
  /** The checkpoint's fields or grid are not the pipeline's. */
  | "mismatch"
  /** The checkpoint's manifest is unreadable. */
  | "corrupt"

/**
 * A restart cannot use the checkpoints in `dir`: there is none, or the
 * newest one holds other fields, element types or another grid than the
 * pipeline (`differences` names each).
 *
 * @example
 * ```ts
 * import { CheckpointError } from "rankflow"
 * const e = new CheckpointError("ckpt", "mismatch", ["grid [64, 64] in the checkpoint, [128, 128] in the pipeline"])
 * console.log(e.message) // ckpt: checkpoint does not fit the pipeline: grid [64, 64] in the checkpoint, [128, 128] in the pipeline
 * ```
 */
export class CheckpointError extends RankflowError {
  readonly _tag = "CheckpointError"
  constructor(
    /** The checkpoint directory (or the checkpoint's own directory). */
    readonly dir: string,
    /** What is wrong. */
    readonly problem: CheckpointProblem,
    /** Each difference or reason, in words. */
    readonly differences: ReadonlyArray<string>,
  ) {
    super(`${dir}: ${CHECKPOINT_PROBLEMS[problem]}${differences.length > 0 ? `: ${differences.join("; ")}` : ""}`)
    this.name = "CheckpointError"
  }
}

const CHECKPOINT_PROBLEMS: Record<CheckpointProblem, string> = {
  none: "no complete checkpoint to restart from",
  mismatch: "checkpoint does not fit the pipeline",
  corrupt: "checkpoint is unreadable",
}

// ---- diverging and unconverged runs, reductions of non-numbers -------------

/**
 * An `until` loop's measure was not a finite number (NaN, ±Infinity, or not a
 * number at all) at a check: the field has diverged, or the measure divides
 * by zero. The loop stops at that step, on the rank that computed it (`rank`),
 * or on every rank when only the combined measure is not finite (`rank` −1).
 *
 * @example
 * ```ts
 * import { MeasureNotFinite } from "rankflow"
 * console.log(new MeasureNotFinite(40, 1, "NaN").message) // rank 1: until: the measure at step 40 is NaN, not a finite number: the field diverged or the measure divides by zero
 * ```
 */
export class MeasureNotFinite extends RankflowError {
  readonly _tag = "MeasureNotFinite"
  constructor(
    /** The loop step (1-based) whose measure it was. */
    readonly step: number,
    /** The (logical) rank whose local measure it was — the partition, under `--threads` — or −1 for the combined measure. */
    readonly rank: number,
    /** The value as text: "NaN", "Infinity", "an object", … */
    readonly value: string,
  ) {
    super(`${rank >= 0 ? `rank ${rank}: ` : ""}until: the ${rank >= 0 ? "" : "combined "}measure at step ${step} is ${value}, not a finite number: the field diverged or the measure divides by zero`)
    this.name = "MeasureNotFinite"
  }
}

/**
 * `--check-finite K` (`checkFinite` of `Pipeline.run`) found a point of a
 * field holding NaN or ±Infinity: the run stops at that step, naming the rank,
 * the field and the first such point's global index (row-major order within
 * the rank's block).
 *
 * @example
 * ```ts
 * import { FieldNotFinite } from "rankflow"
 * console.log(new FieldNotFinite(100, 2, "u", [3, 17], "NaN").message) // rank 2: field u holds NaN at global index [3, 17] after step 100 (--check-finite)
 * ```
 */
export class FieldNotFinite extends RankflowError {
  readonly _tag = "FieldNotFinite"
  constructor(
    /** The outer loop's step after which the field was scanned. */
    readonly step: number,
    /** The rank holding the point. */
    readonly rank: number,
    /** The field's name. */
    readonly field: string,
    /** The point's global index, one entry per dimension. */
    readonly index: ReadonlyArray<number>,
    /** "NaN", "Infinity" or "-Infinity". */
    readonly value: string,
  ) {
    super(`rank ${rank}: field ${field} holds ${value} at global index [${index.join(", ")}] after step ${step} (--check-finite)`)
    this.name = "FieldNotFinite"
  }
}

/**
 * A reduction that must produce numbers produced something else: a field's
 * `reduce(op)`/`allreduce(op)` (which folds the field's points) with a user op
 * whose `concat` returned a non-number. Built-in ops refuse non-numbers with
 * `ReduceTypeMismatch` instead.
 *
 * @example
 * ```ts
 * import { ReduceResultNotNumber } from "rankflow"
 * console.log(new ReduceResultNotNumber(0, "field reduce", "user op", "a string").message) // rank 0: field reduce: user op returned a string where a number was expected (a field's points are numbers: op.concat must return a number)
 * ```
 */
export class ReduceResultNotNumber extends RankflowError {
  readonly _tag = "ReduceResultNotNumber"
  constructor(
    /** The rank where it was produced. */
    readonly rank: number,
    /** The call: "field reduce", "field allreduce". */
    readonly call: string,
    /** The op's name ("user op" for a Semigroup). */
    readonly op: string,
    /** What came out, e.g. "a string", "an object". */
    readonly valueType: string,
  ) {
    super(`rank ${rank}: ${call}: ${op} returned ${valueType} where a number was expected (a field's points are numbers: op.concat must return a number)`)
    this.name = "ReduceResultNotNumber"
  }
}

// ── Dense kernels (src/kernels) ─────────────────────────────────────────────

/**
 * An operand of a dense product (`Dense.dgemv`, `Dense.dgemm`) holds fewer
 * elements than the shape given needs.
 *
 * @example
 * ```ts
 * import { DenseShapeMismatch } from "rankflow"
 * console.log(new DenseShapeMismatch("Dense.dgemv", "x", 3, 2).message) // Dense.dgemv: x has 2 elements, the shape needs 3
 * ```
 */
export class DenseShapeMismatch extends RankflowError {
  readonly _tag = "DenseShapeMismatch"
  constructor(
    /** The call, e.g. `"Dense.dgemv"`. */
    readonly op: string,
    /** The operand, e.g. `"x"`. */
    readonly argument: string,
    /** The elements the shape needs. */
    readonly needed: number,
    /** The elements the operand has. */
    readonly length: number,
  ) {
    super(`${op}: ${argument} has ${length} elements, the shape needs ${needed}`)
    this.name = "DenseShapeMismatch"
  }
}

// ── Live dashboard (src/runtime/dashboard.ts) ───────────────────────────────

/**
 * The live dashboard (`--dashboard`) could not be served: it was asked to
 * listen on an address other than 127.0.0.1 (it never serves another), or
 * no port from the one asked for upwards was free.
 *
 * @example
 * ```ts
 * import { DashboardUnavailable } from "rankflow"
 * const e = new DashboardUnavailable("address", "0.0.0.0", 8787, "the dashboard serves on 127.0.0.1 only")
 * console.log(e.message) // dashboard on 0.0.0.0:8787: the dashboard serves on 127.0.0.1 only
 * ```
 */
export class DashboardUnavailable extends RankflowError {
  readonly _tag = "DashboardUnavailable"
  constructor(
    /** "address": not 127.0.0.1; "ports": no free port; "listen": another error from the server. */
    readonly problem: "address" | "ports" | "listen",
    /** The address asked for. */
    readonly host: string,
    /** The (first) port asked for. */
    readonly port: number,
    /** What went wrong. */
    readonly reason: string,
  ) {
    super(`dashboard on ${host}:${port}: ${reason}`)
    this.name = "DashboardUnavailable"
  }
}

// ── Pool executor (src/patterns/poolExecutor.ts) ────────────────────────────

/**
 * A task submitted to a `poolExecutor` threw on the rank that ran it: its
 * Promise rejects with this error, carrying that rank, the task's function
 * name and the error's name, message and stack as printed there. The pool and
 * the other tasks carry on.
 *
 * @example
 * ```ts
 * import { TaskFailed } from "rankflow"
 * const e = new TaskFailed(2, "parse", { name: "SyntaxError", message: "bad line 7", stack: "SyntaxError: bad line 7\n    at parse" })
 * console.log(e.message) // task parse failed on rank 2: SyntaxError: bad line 7
 * ```
 */
export class TaskFailed extends RankflowError {
  readonly _tag = "TaskFailed"
  constructor(
    /** The rank (of the pool's communicator) that ran the task. */
    readonly rank: number,
    /** The name the task's function is registered under. */
    readonly task: string,
    /** The error the task threw, as seen on that rank. */
    readonly failure: { readonly name: string; readonly message: string; readonly stack: string },
  ) {
    super(`task ${task} failed on rank ${rank}: ${failure.name}: ${failure.message}`)
    this.name = "TaskFailed"
  }
}

// ---- the MPI transport (transport/mpi.ts, runtime under mpirun) -------------

/**
 * The MPI transport was asked for (`--transport mpi`, or a run under
 * `mpirun`) but cannot run here: its optional addon was not built or does
 * not load. Says what is missing (Open MPI's runtime, its headers and
 * compiler wrapper, a C compiler, Node's headers) and the Debian packages
 * that provide it. Reported before any rank starts (exit 2).
 *
 * @example
 * ```ts
 * import { MpiUnavailable } from "rankflow"
 * const e = new MpiUnavailable("mpicc and mpi.h", "Open MPI's compiler wrapper mpicc was not found")
 * console.log(e.packages) // openmpi-bin libopenmpi-dev
 * ```
 */
export class MpiUnavailable extends RankflowError {
  readonly _tag = "MpiUnavailable"
  /** The Debian packages that provide Open MPI's runtime, headers and compiler wrapper. */
  readonly packages = "openmpi-bin libopenmpi-dev"
  constructor(
    /** What is missing: e.g. "mpicc and mpi.h", "libmpi (the Open MPI runtime)". */
    readonly missing: string,
    /** Why, as the build or the loader said it. */
    readonly reason: string,
  ) {
    super(
      `the MPI transport is unavailable: missing ${missing} (${reason}); install the Debian packages openmpi-bin libopenmpi-dev (apt-get install openmpi-bin libopenmpi-dev), then rebuild the addon with \`node native/mpi/build.mjs\``,
    )
    this.name = "MpiUnavailable"
  }
}
