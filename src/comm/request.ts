/**
 * Nonblocking requests (MPI_Request): returned by `isend`/`irecv` and the
 * nonblocking collectives, completed by `wait`/`test`. Progress happens
 * inside rankflow calls (any wait, test, send or receive), as in MPI without
 * a progress thread; nonblocking collectives advance in every such call.
 *
 * Layer: comm.
 */
import type { Engine } from "./engine.ts"
import { PendingRecv } from "./engine.ts"
import type { Status } from "./status.ts"

/** What a request tracks: a send, a receive, or a collective in progress. */
interface Pending {
  readonly done: boolean
  readonly error?: Error | null
  readonly value?: unknown
}

/**
 * A pending nonblocking operation. `wait()` blocks until it completes and
 * returns the received value (undefined for sends); `test()` makes progress
 * and says whether it has completed.
 *
 * @example
 * ```ts
 * import { init } from "rankflow"
 * const comm = await init()
 * const right = (comm.rank + 1) % comm.size
 * const left = (comm.rank - 1 + comm.size) % comm.size
 * const sent = comm.isend(comm.rank, right, 7)
 * const got = comm.irecv<number>(left, 7)
 * console.log(got.wait(), sent.test())
 * ```
 */
export class Request<T> {
  /** @internal */
  constructor(
    private readonly engine: Engine | null,
    private readonly pending: Pending | null,
    /** World rank → communicator rank, for the status of receives on derived communicators. */
    private readonly fromWorld: Int32Array | null = null,
  ) {}

  /** True once the operation has completed (no progress is made by reading it). */
  get done(): boolean {
    return this.pending === null || this.pending.done
  }

  /** Makes progress once; true when the operation has completed. Never blocks. */
  test(): boolean {
    if (this.done) return true
    this.engine!.progress()
    return this.pending!.done
  }

  /** Blocks until the operation completes; returns the received value (receives) or undefined (sends). */
  wait(status?: Status): T {
    const p = this.pending
    if (p === null) return undefined as T
    if (p instanceof PendingRecv) {
      const value = this.engine!.waitRecv(p, status ?? null)
      if (status !== undefined && this.fromWorld !== null && status.source >= 0) status.source = this.fromWorld[status.source]!
      return value as T
    }
    this.engine!.waitDone(p)
    if (p.error != null) throw p.error
    return p.value as T
  }
}

/** A send that completed at once: shared, so an eager isend allocates no request. */
export const COMPLETED_SEND: Request<void> = new Request<void>(null, null)

/** The element types of a tuple of requests. */
export type RequestValues<R extends ReadonlyArray<Request<unknown>>> = { -readonly [K in keyof R]: R[K] extends Request<infer T> ? T : never }

/**
 * Waits for every request; returns their values in order (MPI_Waitall).
 *
 * @example
 * ```ts
 * import { init, waitAll } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const [, value] = waitAll([comm.isend("hi", peer), comm.irecv<string>(peer)])
 * console.log(value) // "hi"
 * ```
 */
export function waitAll<const R extends ReadonlyArray<Request<unknown>>>(requests: R): RequestValues<R> {
  const values: unknown[] = []
  for (const r of requests) values.push(r.wait())
  return values as RequestValues<R>
}

/**
 * Makes progress once on all; true when every request has completed
 * (MPI_Testall). Never blocks: poll it between pieces of other work.
 *
 * @example
 * ```ts
 * import { init, testAll, waitAll } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const requests = [comm.isend(comm.rank, peer), comm.irecv<number>(peer)] as const
 * let polls = 1
 * while (!testAll(requests)) polls++ // other work would go here
 * console.log(`rank ${comm.rank}: got ${waitAll(requests)[1]} (${polls} poll${polls === 1 ? "" : "s"})`)
 * ```
 */
export function testAll(requests: ReadonlyArray<Request<unknown>>): boolean {
  let all = true
  for (const r of requests) if (!r.test()) all = false
  return all
}
