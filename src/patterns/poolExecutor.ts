/**
 * A pool executor in the style of `mpi4py.futures.MPIPoolExecutor`: rank 0
 * submits tasks from ordinary async code and gets Promises; the other ranks
 * compute them. Built on `managerWorker`: the tasks submitted while rank 0's
 * code runs are farmed out together as one batch (one `managerWorker` call)
 * when that code next yields to the event loop, so `await
 * Promise.all(items.map(…submit…))` or `pool.map` is one farm with load
 * balancing, and each Promise settles as its result arrives.
 *
 * Functions never travel between threads, only data: the task functions are
 * registered by name, the same on every rank (module top level runs on every
 * rank), and `submit(fn, ...args)` sends the name and the arguments.
 *
 * Layer: patterns (uses comm only).
 */
import { type Comm, type Sendable } from "../comm/comm.ts"
import { InvalidArgument, TaskFailed } from "../errors.ts"
import { managerWorker } from "./managerWorker.ts"

/** The functions a pool may run, by name: the same object on every rank. Synchronous; arguments and results must be able to travel. */
export type TaskFunctions = Readonly<Record<string, (...args: never[]) => unknown>>

/** What a worker sends back: the result, or the failure and the rank it happened on. */
type Outcome = readonly [ok: true, value: unknown] | readonly [ok: false, rank: number, failure: { name: string; message: string; stack: string }]

/** The per-batch command rank 0 broadcasts to the workers. */
const RUN = 1
const STOP = 0

interface Submitted {
  readonly name: string
  readonly args: unknown[]
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

/**
 * Starts a pool over `comm` (a collective call: every rank calls it with the
 * same `functions`). On rank 0 it returns the `PoolExecutor` at once; on the
 * other ranks it computes tasks until rank 0 calls `shutdown()`, then returns
 * undefined. On one rank, rank 0 computes the tasks itself.
 *
 * **When to use**: a farm driven from async code — tasks decided as results
 * come in, mixed with I/O or other awaits — where `managerWorker`'s single
 * blocking call over a task list does not fit.
 *
 * **Details**: a task that throws rejects its own Promise with `TaskFailed`
 * (the rank, the function's name, the error's stack); the pool and the other
 * tasks carry on. Task functions are synchronous (a rank computes one task
 * at a time); one returning a Promise fails its task. Costs (3 ranks, a
 * trivial task, this 2-core machine at load 20): `map` 80–180 µs per task
 * against `managerWorker`'s 13–76 µs in the same runs (each task and result
 * is serialized and settles a Promise), and each batch 2.5–5 ms (a broadcast
 * and `managerWorker`'s split, dup and agreement): submit many tasks before
 * awaiting rather than awaiting them one by one. `shutdown()` must be
 * called on rank 0 before its program ends (the workers wait for it; forgetting
 * it is reported as a collective mismatch at the end of the program).
 *
 * @example
 * ```ts
 * import { init, poolExecutor } from "rankflow"
 * const square = (x: number) => x * x
 * const add = (a: number, b: number) => a + b
 * const comm = await init()
 * const pool = poolExecutor(comm, { square, add })
 * if (pool) {
 *   console.log(await pool.map(square, [1, 2, 3, 4])) // [ 1, 4, 9, 16 ]
 *   console.log(await pool.submit(add, 2, 3)) // 5
 *   await pool.shutdown()
 * }
 * ```
 */
export function poolExecutor<F extends TaskFunctions>(comm: Comm, functions: F): PoolExecutor<F> | undefined {
  if (typeof functions !== "object" || functions === null)
    throw new InvalidArgument("poolExecutor", "functions", String(functions), "must be an object of task functions by name, the same on every rank")
  const names = Object.keys(functions).sort()
  for (const name of names)
    if (typeof functions[name] !== "function") throw new InvalidArgument("poolExecutor", `functions.${name}`, typeof functions[name], "must be a function")
  const all = comm.allgather(names.join(","))
  const other = all.findIndex((n) => n !== all[0])
  if (other >= 0)
    throw new InvalidArgument("poolExecutor", "functions", `{${names.join(", ")}}`, `differ between ranks (rank 0: {${all[0]!.split(",").join(", ")}}, rank ${other}: {${all[other]!.split(",").join(", ")}}): every rank registers the same functions`)
  const pool = comm.dup() // the pool's messages never mix with the program's
  const work = runner(functions, pool.rank)
  if (pool.rank === 0) return new PoolExecutor<F>(pool, functions, work)
  while (pool.bcast<number>(undefined, 0) === RUN) managerWorker(pool, { tasks: undefined, work })
  return undefined
}

/** The worker side of one task: runs the named function, turning a throw into a failure record. */
function runner(functions: TaskFunctions, rank: number): (task: readonly [string, unknown[]]) => Sendable<Outcome> {
  return ([name, args]) => {
    try {
      const value = (functions[name] as (...a: unknown[]) => unknown)(...args)
      if (value instanceof Promise) {
        value.catch(() => {}) // its outcome is not awaited: the task fails instead
        throw new InvalidArgument("poolExecutor", name, "a Promise", "was returned: task functions must be synchronous")
      }
      return [true, value] as Outcome
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error))
      return [false, rank, { name: e.name, message: e.message, stack: e.stack ?? `${e.name}: ${e.message}` }] as Outcome
    }
  }
}

/**
 * Rank 0's handle on a pool (see `poolExecutor`): `submit` and `map` return
 * Promises that settle as results come back from the workers.
 *
 * @example
 * ```ts
 * import { init, poolExecutor, TaskFailed } from "rankflow"
 * const parse = (line: string) => { if (!/^\d+$/.test(line)) throw new SyntaxError(`not a number: ${line}`); return Number(line) }
 * const comm = await init()
 * const pool = poolExecutor(comm, { parse })
 * if (pool) {
 *   const results = await Promise.allSettled(["1", "x", "3"].map((line) => pool.submit(parse, line)))
 *   for (const r of results) console.log(r.status === "fulfilled" ? r.value : (r.reason as TaskFailed).message)
 *   await pool.shutdown() // 1, "task parse failed on rank 1: SyntaxError: not a number: x", 3
 * }
 * ```
 */
export class PoolExecutor<F extends TaskFunctions> {
  private readonly names = new Map<unknown, string>()
  private queue: Submitted[] = []
  private scheduled = false
  private closed = false

  /** @internal */
  constructor(
    private readonly comm: Comm,
    functions: F,
    private readonly work: (task: readonly [string, unknown[]]) => Sendable<Outcome>,
  ) {
    for (const [name, fn] of Object.entries(functions)) this.names.set(fn, name)
  }

  /** Worker ranks in the pool (the ranks besides rank 0; on one rank, rank 0 itself). */
  get workers(): number {
    return Math.max(1, this.comm.size - 1)
  }

  /**
   * Runs `fn(...args)` on a worker (concurrent.futures' `submit`); `fn` must
   * be one of the pool's functions. The Promise resolves with its result, or
   * rejects with `TaskFailed` if it threw there.
   */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    const name = this.names.get(fn)
    if (this.closed) return Promise.reject(new InvalidArgument("submit", "pool", "shut down", "takes no more tasks"))
    if (name === undefined)
      return Promise.reject(new InvalidArgument("submit", "fn", (fn as { name?: string })?.name || String(fn), `is not one of the pool's functions (${[...this.names.values()].join(", ")})`))
    return new Promise<Awaited<R>>((resolve, reject) => {
      this.queue.push({ name, args, resolve: resolve as (value: unknown) => void, reject })
      this.schedule()
    })
  }

  /** `fn` applied to every item, farmed out together; the results in item order (rejects with the first failure in item order). */
  map<A, R>(fn: (item: A) => R, items: Iterable<A>): Promise<Array<Awaited<R>>> {
    return Promise.all(Array.from(items, (item) => this.submit(fn, item)))
  }

  /** `fn` applied to every argument list (mpi4py's `starmap`): `starmap(add, [[1, 2], [3, 4]])`. */
  starmap<A extends unknown[], R>(fn: (...args: A) => R, argumentLists: Iterable<A>): Promise<Array<Awaited<R>>> {
    return Promise.all(Array.from(argumentLists, (args) => this.submit(fn, ...args)))
  }

  /**
   * Runs what is still queued, then stops the workers (their
   * `poolExecutor` call returns); later submits reject. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.drain()
    this.comm.bcast(STOP, 0)
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.drain())
  }

  /** Farms out every queued task as one batch; settles each task's Promise as its result arrives. */
  private drain(): void {
    this.scheduled = false
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    this.comm.bcast(RUN, 0)
    try {
      managerWorker(this.comm, {
        tasks: batch.map((t) => [t.name, t.args] as const),
        work: this.work,
        onResult: (outcome, index) => {
          const task = batch[index]!
          if (outcome[0]) task.resolve(outcome[1])
          else task.reject(new TaskFailed(outcome[1], task.name, outcome[2]))
        },
      })
    } catch (error) {
      // The communicator failed (a rank died, the job is aborting): nothing more can run.
      for (const task of batch) task.reject(error)
      this.closed = true
      throw error
    }
  }
}
