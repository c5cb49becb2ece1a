/**
 * Nonblocking requests (MPI_Request): returned by `isend`/`irecv`/`issend`,
 * the persistent `sendInit`/`recvInit` and the nonblocking collectives,
 * completed by `wait`/`test` and the `waitAny`/`waitSome`/`testAny`/
 * `testSome`/`waitAll`/`testAll` families. Progress happens inside rankflow
 * calls (any wait, test, send or receive), as in MPI without a progress
 * thread; nonblocking collectives advance in every such call.
 *
 * A request is *active* from its start until its completion has been
 * reported (by `wait`, a `test` that returns true, or one of the array
 * calls), as in MPI; after that `wait` still returns the same value and fills
 * the same status (MPI would have freed it). The array calls replace each
 * request they report with `REQUEST_NULL`, as MPI_Waitany does, and skip
 * inactive entries, so `while (waitAny(requests).index !== UNDEFINED)` ends.
 *
 * Layer: comm.
 */
import { InvalidArgument } from "../errors.ts"
import type { Engine } from "./engine.ts"
import { ANY_SOURCE, ANY_TAG, PendingRecv } from "./engine.ts"
import { Status } from "./status.ts"

/** What a request tracks: a send, a receive, or a collective in progress. */
interface Pending {
  readonly done: boolean
  readonly error?: Error | null
  readonly value?: unknown
}

/** MPI_UNDEFINED (the same value as comm.ts's `UNDEFINED`, which this module cannot import: comm imports it). */
const UNDEFINED_INDEX = -32766
/** MPI_PROC_NULL, as in comm.ts. */
const PROC_NULL_RANK = -2

/** A receive from PROC_NULL: complete at once, its status names PROC_NULL. */
const FROM_PROC_NULL: Pending = { done: true, error: null, value: undefined }
/** A send that completed at once. */
const SENT: Pending = { done: true, error: null, value: undefined }

/**
 * A pending nonblocking operation. `wait()` blocks until it completes and
 * returns the received value (undefined for sends); `test()` makes progress
 * and says whether it has completed; `cancel()` withdraws a receive that no
 * message has matched yet.
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
  /** Completion already reported (wait, a successful test, an array call): the request is no longer active. */
  protected released = false

  /** @internal */
  constructor(
    /** The rank's message engine that completes this request (null: complete from the start). */
    protected readonly engine: Engine | null,
    /** The operation in flight (null once it has completed). */
    protected pending: Pending | null,
    /** World rank → communicator rank, for the status of receives on derived communicators. */
    protected readonly fromWorld: Int32Array | null = null,
  ) {}

  /** True once the operation has completed (no progress is made by reading it). */
  get done(): boolean {
    return this.pending === null || this.pending.done
  }

  /**
   * True from the start of the operation until its completion has been
   * reported (by `wait`, a `test` that returned true, or `waitAny` & co.);
   * false for `REQUEST_NULL` and for a persistent request not started. An
   * `isend` that completed at once returns a shared completed request that
   * stays active (there is nothing to release); the array calls replace it
   * with `REQUEST_NULL` in their array.
   */
  get active(): boolean {
    return !this.released
  }

  /**
   * Makes progress once; true when the operation has completed (and then
   * fills `status`, if given). Never blocks.
   */
  test(status?: Status): boolean {
    if (!this.done) {
      this.engine!.progress()
      if (!this.pending!.done) return false
    }
    if (status !== undefined) this.fillStatus(status)
    this.release()
    return true
  }

  /**
   * Blocks until the operation completes; returns the received value
   * (receives) or undefined (sends, cancelled receives, `REQUEST_NULL`).
   * Waiting again returns the same value and status.
   */
  wait(status?: Status): T {
    const p = this.pending
    if (p === null || p === SENT || p === FROM_PROC_NULL) {
      if (status !== undefined) this.fillStatus(status)
      this.release()
      return undefined as T
    }
    if (p instanceof PendingRecv) {
      this.release()
      const value = this.engine!.waitRecv(p, status ?? null)
      if (status !== undefined) {
        status.cancelled = p.cancelled
        if (this.fromWorld !== null && status.source >= 0) status.source = this.fromWorld[status.source]!
      }
      return value as T
    }
    this.engine!.waitDone(p)
    this.release()
    if (status !== undefined) status.cancelled = false
    if (p.error != null) throw p.error
    return p.value as T
  }

  /**
   * Cancels a receive that no message has matched yet (MPI_Cancel): it
   * completes at once, `wait()` returns undefined and its status says
   * `cancelled`. A receive already matched completes as usual (cancel does
   * nothing, `status.cancelled` stays false). Sends are not cancelled
   * (MPI-4 deprecates it; a synchronous send's matching receive is what ends
   * it); a collective cannot be cancelled at all (InvalidArgument).
   *
   * @example
   * ```ts
   * import { init, Status } from "rankflow"
   * const comm = await init()
   * const request = comm.irecv(comm.rank, 99) // nobody sends on tag 99
   * request.cancel()
   * const status = new Status()
   * request.wait(status)
   * console.log(status.cancelled) // true
   * ```
   */
  cancel(): void {
    const p = this.pending
    if (p instanceof PendingRecv) this.engine!.cancelRecv(p)
    else if (p !== null && p !== SENT && p !== FROM_PROC_NULL && !isSend(p))
      throw new InvalidArgument("cancel", "request", "a nonblocking collective", "cannot be cancelled (MPI forbids it)")
  }

  private fillStatus(status: Status): void {
    const p = this.pending
    if (p instanceof PendingRecv) {
      const s = p.status
      status.set(this.fromWorld !== null && s.source >= 0 ? this.fromWorld[s.source]! : s.source, s.tag, s.bytes, s.kind)
      status.cancelled = p.cancelled
    } else if (p === FROM_PROC_NULL) {
      status.set(PROC_NULL_RANK, ANY_TAG, 0, 0)
      status.cancelled = false
    } else if (p === null || this === (REQUEST_NULL as Request<unknown>)) {
      status.set(ANY_SOURCE, ANY_TAG, 0, 0) // MPI's empty status
      status.cancelled = false
    } else status.cancelled = false
  }

  private release(): void {
    if (this !== (COMPLETED_SEND as Request<unknown>)) this.released = true
  }
}

/** A pending plain or synchronous send (not a receive, not a collective). */
function isSend(p: Pending): boolean {
  return (p as { frame?: unknown }).frame !== undefined || (p as { ack?: unknown }).ack !== undefined
}

/**
 * A persistent request (MPI_Send_init / MPI_Recv_init): the arguments of a
 * send or receive fixed once, started again and again with `start()` (or
 * `startAll`), each round completed by `wait`/`test` like any request. A send
 * reads its value at every start; a receive into a buffer fills the same
 * buffer each round. Inactive until started, and again after each completion
 * is reported.
 *
 * @example
 * ```ts
 * import { init, startAll, waitAll } from "rankflow"
 * const comm = await init()
 * const right = (comm.rank + 1) % comm.size, left = (comm.rank - 1 + comm.size) % comm.size
 * const out = new Float64Array(4), into = new Float64Array(4)
 * const rounds = [comm.sendInit(out, right, 1), comm.recvInitInto(into, left, 1)]
 * for (let step = 0; step < 3; step++) {
 *   out.fill(comm.rank * 10 + step)
 *   startAll(rounds)
 *   waitAll(rounds)
 * }
 * console.log(`rank ${comm.rank}: ${into[0]}`) // left * 10 + 2
 * ```
 */
export class PersistentRequest<T> extends Request<T> {
  /** @internal */
  constructor(
    engine: Engine,
    /** Starts one round: the pending operation, or null when it completed at once. */
    private readonly starter: () => Pending | null,
    fromWorld: Int32Array | null = null,
  ) {
    super(engine, SENT, fromWorld)
    this.released = true
  }

  /**
   * Starts one round (MPI_Start). The previous round must have completed and
   * been waited on (or tested); starting an active request is an
   * InvalidArgument.
   */
  start(): void {
    if (!this.released)
      throw new InvalidArgument("start", "request", "active", "must be completed with wait or test before it is started again")
    this.pending = this.starter() ?? SENT
    this.released = false
  }
}

/**
 * Starts every persistent request (MPI_Startall).
 *
 * @example
 * ```ts
 * import { init, startAll, waitAll } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const requests = [comm.sendInit(comm.rank, peer, 3), comm.recvInit<number>(peer, 3)]
 * startAll(requests)
 * console.log(waitAll(requests)[1]) // the peer's rank
 * ```
 */
export function startAll(requests: ReadonlyArray<PersistentRequest<unknown>>): void {
  for (const r of requests) r.start()
}

/** A send that completed at once: shared, so an eager isend allocates no request. */
export const COMPLETED_SEND: Request<void> = new Request<void>(null, SENT)

/**
 * The null request (MPI_REQUEST_NULL): never active, complete; `wait()`
 * returns undefined and fills an empty status (ANY_SOURCE, ANY_TAG, 0 bytes).
 * The array calls put it in place of every request they report.
 *
 * @example
 * ```ts
 * import { REQUEST_NULL, UNDEFINED, waitAny } from "rankflow"
 * console.log(REQUEST_NULL.active, waitAny([REQUEST_NULL]).index === UNDEFINED) // false true
 * ```
 */
export const REQUEST_NULL: Request<undefined> = new (class NullRequest extends Request<undefined> {
  constructor() {
    super(null, null)
    this.released = true // never active
  }
})()

/** @internal a receive from PROC_NULL: done at once, its status names PROC_NULL. */
export function procNullRecv<T>(): Request<T> {
  return new Request<T>(null, FROM_PROC_NULL)
}

/** @internal what a persistent receive from PROC_NULL starts: done at once, its status names PROC_NULL. */
export const PROC_NULL_DONE: Pending = FROM_PROC_NULL

/** What `Engine.issend` started: the send, and the receive of its acknowledgement. */
interface SyncSend {
  readonly send: { readonly done: boolean } | null
  readonly ack: PendingRecv
}

/** @internal a synchronous send in progress: done when the message is out and its receiver has matched it. */
export function syncPending(sync: SyncSend): Pending {
  return {
    ack: sync.ack,
    error: null,
    value: undefined,
    get done(): boolean {
      return (sync.send === null || sync.send.done) && sync.ack.done
    },
  } as Pending
}

/** @internal the request of a synchronous send (issend). */
export function syncSendRequest(engine: Engine, sync: SyncSend): Request<void> {
  return new Request<void>(engine, syncPending(sync))
}

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

/** What `waitAny` reports: the index of the completed request (UNDEFINED when none was active) and its value. */
export interface AnyCompleted<T> {
  /** The index of the completed request in the array, or UNDEFINED when no request was active. */
  readonly index: number
  /** Its value (a receive's message), undefined for sends and when nothing completed. */
  readonly value: T | undefined
}

/** What `testAny` reports: `done` is false when active requests remain and none has completed yet. */
export interface AnyTested<T> extends AnyCompleted<T> {
  /** Whether a request completed (or none was active); false: call again later. */
  readonly done: boolean
}

/** What `waitSome` and `testSome` report: the indices of the completed requests and their values, in index order. */
export interface SomeCompleted<T> {
  /** The indices of the requests that completed, in index order. */
  readonly indices: number[]
  /** Their values, in the same order (undefined for sends). */
  readonly values: Array<T | undefined>
}

/** The engine behind the first active request of a non-empty list, or null if there is none. */
function engineOf(requests: ReadonlyArray<Request<unknown>>): Engine | null {
  for (const r of requests) {
    const engine = (r as unknown as { engine: Engine | null }).engine
    if (r.active && engine !== null) return engine
  }
  return null
}

/** Index of the first active, completed request, -1 if active ones remain uncompleted, UNDEFINED if none is active. */
function firstCompleted(requests: ReadonlyArray<Request<unknown>>): number {
  let anyActive = false
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!
    if (!r.active) continue
    if (r.done) return i
    anyActive = true
  }
  return anyActive ? -1 : UNDEFINED_INDEX
}

/** Blocks (spin, then sleep, with deadlock reporting) until some active request of the list has completed. */
function block(requests: ReadonlyArray<Request<unknown>>): void {
  const engine = engineOf(requests)
  if (engine === null) return
  engine.waitDone({
    get done(): boolean {
      return firstCompleted(requests) !== -1
    },
  })
}

/** Reports request `i`: its value and status, and REQUEST_NULL in its place (a persistent request stays, inactive, to be started again). */
function take<T>(requests: Array<Request<T>>, i: number, status: Status | undefined): T {
  const request = requests[i]!
  const value = request.wait(status)
  if (!(request instanceof PersistentRequest)) requests[i] = REQUEST_NULL as unknown as Request<T>
  return value
}

/**
 * Waits until one of the active requests completes and returns its index and
 * value (MPI_Waitany); the request is replaced by `REQUEST_NULL` in the
 * array. With no active request left it returns at once with index
 * `UNDEFINED` (and an empty `status`).
 *
 * @example
 * ```ts
 * import { init, UNDEFINED, waitAny } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * comm.send(`from ${comm.rank}`, peer, 2)
 * const requests = [comm.irecv<string>(peer, 1), comm.irecv<string>(peer, 2)]
 * const first = waitAny(requests)
 * console.log(first.index, first.value) // 1 "from <peer>"
 * requests[0]!.cancel()
 * waitAny(requests)
 * console.log(waitAny(requests).index === UNDEFINED) // true: nothing active is left
 * ```
 */
export function waitAny<T>(requests: Array<Request<T>>, status?: Status): AnyCompleted<T> {
  let i = firstCompleted(requests)
  if (i === -1) {
    block(requests)
    i = firstCompleted(requests)
  }
  if (i === UNDEFINED_INDEX) {
    if (status !== undefined) REQUEST_NULL.wait(status)
    return { index: UNDEFINED_INDEX, value: undefined }
  }
  return { index: i, value: take(requests, i, status) }
}

/**
 * Makes progress once and reports one completed request if there is one
 * (MPI_Testany): `{ index, done: true, value }`, the request replaced by
 * `REQUEST_NULL`; `{ index: UNDEFINED, done: false }` while active requests
 * remain uncompleted; `{ index: UNDEFINED, done: true }` when none is active.
 * Never blocks.
 *
 * @example
 * ```ts
 * import { init, testAny } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const requests = [comm.irecv<number>(peer, 4)]
 * comm.send(comm.rank, peer, 4)
 * let result = testAny(requests)
 * while (!result.done) result = testAny(requests) // other work would go here
 * console.log(result.index, result.value) // 0 <peer>
 * ```
 */
export function testAny<T>(requests: Array<Request<T>>, status?: Status): AnyTested<T> {
  let i = firstCompleted(requests)
  if (i === -1) {
    engineOf(requests)?.progress()
    i = firstCompleted(requests)
  }
  if (i === -1) return { index: UNDEFINED_INDEX, done: false, value: undefined }
  if (i === UNDEFINED_INDEX) {
    if (status !== undefined) REQUEST_NULL.wait(status)
    return { index: UNDEFINED_INDEX, done: true, value: undefined }
  }
  return { index: i, done: true, value: take(requests, i, status) }
}

/** Reports every completed active request, each replaced by REQUEST_NULL. */
function collect<T>(requests: Array<Request<T>>, statuses: Status[] | undefined): SomeCompleted<T> {
  const indices: number[] = []
  const values: Array<T | undefined> = []
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!
    if (!r.active || !r.done) continue
    const status = statuses === undefined ? undefined : new Status()
    indices.push(i)
    values.push(take(requests, i, status))
    if (status !== undefined) statuses!.push(status)
  }
  return { indices, values }
}

/**
 * Waits until at least one active request completes and reports all that
 * have (MPI_Waitsome): their indices and values in index order, each replaced
 * by `REQUEST_NULL`; one `Status` per completed request is appended to
 * `statuses` when given. Undefined when no request is active.
 *
 * @example
 * ```ts
 * import { init, waitSome } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const requests = [0, 1, 2].map((tag) => comm.irecv<string>(peer, tag))
 * for (const tag of [2, 0]) comm.send(`tag ${tag}`, peer, tag)
 * const seen: number[] = []
 * while (seen.length < 2) seen.push(...waitSome(requests)!.indices)
 * console.log(seen.sort()) // [ 0, 2 ]
 * requests[1]!.cancel()
 * ```
 */
export function waitSome<T>(requests: Array<Request<T>>, statuses?: Status[]): SomeCompleted<T> | undefined {
  const i = firstCompleted(requests)
  if (i === UNDEFINED_INDEX) return undefined
  if (i === -1) block(requests)
  return collect(requests, statuses)
}

/**
 * Makes progress once and reports every active request that has completed
 * (MPI_Testsome), possibly none (empty arrays); never blocks. Undefined when
 * no request is active.
 *
 * @example
 * ```ts
 * import { init, testSome } from "rankflow"
 * const comm = await init()
 * const peer = comm.size - 1 - comm.rank
 * const requests = [comm.irecv<number>(peer, 0), comm.irecv<number>(peer, 1)]
 * comm.send(1, peer, 1)
 * comm.send(0, peer, 0)
 * let got = 0
 * while (got < 2) got += testSome(requests)!.indices.length // other work would go here
 * console.log(testSome(requests)) // undefined: nothing active is left
 * ```
 */
export function testSome<T>(requests: Array<Request<T>>, statuses?: Status[]): SomeCompleted<T> | undefined {
  let i = firstCompleted(requests)
  if (i === UNDEFINED_INDEX) return undefined
  if (i === -1) engineOf(requests)?.progress()
  return collect(requests, statuses)
}
