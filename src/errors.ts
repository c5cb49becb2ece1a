/**
 * Tagged errors shared by every layer. Each carries the data that explains it
 * (rank, operation, sizes) so callers match on `_tag` and fields, never on
 * message text. Plain classes on purpose: this module loads on ranks, which
 * must not pay for importing Effect (Effect's `catchTag` matches `_tag` all
 * the same).
 *
 * Layer: shared by all; imports nothing.
 */

/** Base class of every error rankflow throws; `_tag` names the case. */
export abstract class RankflowError extends Error {
  abstract readonly _tag: string
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
    readonly op: string,
    readonly argument: string,
    readonly value: unknown,
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
    readonly rank: number,
    readonly source: number,
    readonly tag: number,
    readonly messageBytes: number,
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
    readonly rank: number,
    readonly source: number,
    readonly tag: number,
    readonly expected: string,
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
    readonly rank: number,
    readonly op: string,
    readonly valueType: string,
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
    readonly rank: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`rank ${rank}: message of ${bytes} bytes exceeds the limit of ${limit} bytes`)
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
    readonly rank: number,
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
  readonly rank: number
  readonly name: string
  readonly message: string
  readonly stack: string
}

/** The job failed: one or more ranks threw. `failures[0]` is the first one seen. */
export class RankFailed extends RankflowError {
  readonly _tag = "RankFailed"
  constructor(readonly failures: ReadonlyArray<RankFailure>) {
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

/** A rank's thread ended without finishing its program (e.g. `process.exit` inside a rank). */
export class RankExited extends RankflowError {
  readonly _tag = "RankExited"
  constructor(
    readonly rank: number,
    readonly exitCode: number,
  ) {
    super(`rank ${rank} exited with code ${exitCode} before finishing`)
    this.name = "RankExited"
  }
}

/** The whole run exceeded its time limit. */
export class JobTimeout extends RankflowError {
  readonly _tag = "JobTimeout"
  constructor(
    readonly seconds: number,
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
    readonly option: string,
    readonly detail: string,
  ) {
    super(option === "" ? detail : `${option}: ${detail}`)
    this.name = "InvalidOptions"
  }
}
