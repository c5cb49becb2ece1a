/**
 * The manager-worker pattern (a task farm): one rank hands tasks out as
 * workers free up and collects their results, so uneven tasks balance
 * themselves. A worker may be a group of ranks that computes each task
 * together — a pipeline on the group's communicator, say — which is how
 * farms and pipelines compose.
 *
 * Layer: patterns (uses comm only).
 */
import { ANY_SOURCE, ANY_TAG, type Comm, type Sendable, TAG_UB } from "../comm/comm.ts"
import { Status } from "../comm/status.ts"
import { InvalidArgument } from "../errors.ts"
import { progressReporter } from "../runtime/progress.ts"
import { agree } from "./agree.ts"
import { SpanKind, threadTimeline } from "../comm/timeline.ts"

/** What a worker knows about the task it computes. */
export interface TaskContext {
  /** The task's position in the manager's task list. */
  readonly index: number
  /** The worker's number, 0 … workers − 1. */
  readonly worker: number
  /** The worker's own communicator: its group of `group` ranks (one rank by default). */
  readonly comm: Comm
}

/** What `managerWorker` farms out: the tasks, the work per task, and how ranks are grouped. */
export interface FarmOptions<T, R> {
  /**
   * The tasks. Only the manager reads them (other ranks may pass
   * undefined), lazily, as workers ask: an iterable may be endless-looking
   * or expensive to produce.
   */
  readonly tasks: Iterable<T> | undefined
  /**
   * Computes one task. Every rank of a worker group calls it with the
   * group's communicator; the group's rank 0 returns the result.
   */
  readonly work: (task: T, context: TaskContext) => Sendable<R>
  /** The manager's rank (default 0). */
  readonly manager?: number
  /** Ranks per worker (default 1). The ranks besides the manager must split into groups of this size. */
  readonly group?: number
  /** Tasks queued at each worker beyond the one it computes, hiding the round trip (default 1). */
  readonly prefetch?: number
  /** Called on the manager as each result arrives (arrival order). */
  readonly onResult?: (result: R, index: number, worker: number) => void
}

/** What the farm produced, on the manager. */
export interface FarmResult<R> {
  /** Every task's result, in task order. */
  readonly results: R[]
  /**
   * How many tasks each worker computed: the load balancing at work. Index w
   * is worker w (`TaskContext.worker`), whose ranks follow the manager
   * (manager + 1 + w·group …, wrapping round); the counts sum to the number
   * of tasks. One entry (all tasks) when the farm runs on one rank.
   */
  readonly tasksPerWorker: number[]
}

// A task and its result travel as one message whose tag is the task's index + 1 (0 is "stop"):
// a number task or result then takes the transport's raw 8-byte lane, never the serializer.
const STOP = 0
const tagOf = (index: number): number => index + 1

/**
 * Runs a task farm over `comm` (a collective call): the manager deals tasks
 * to workers on demand and returns every result in task order; the other
 * ranks return undefined. On one rank the manager computes the tasks itself.
 * A task that throws fails the whole run with its rank and stack.
 *
 * @example
 * ```ts
 * import { init, managerWorker } from "rankflow"
 * const comm = await init()
 * const tasks = comm.rank === 0 ? [5, 1, 3, 2] : undefined
 * const farm = managerWorker(comm, { tasks, work: (n: number) => n * n })
 * if (farm) console.log(farm.results) // [ 25, 1, 9, 4 ]
 * ```
 */
export function managerWorker<T, R>(comm: Comm, options: FarmOptions<T, R>): FarmResult<R> | undefined {
  const { manager = 0, group = 1, prefetch = 1 } = options
  check(comm, manager, group, prefetch)
  agree(comm, "managerWorker", "[manager, group]", [manager, group])
  if (comm.rank === manager && options.tasks === undefined) throw new InvalidArgument("managerWorker", "tasks", undefined, `must be given on the manager (rank ${manager})`)
  const workers = (comm.size - 1) / group
  // Workers are consecutive ranks after the manager, wrapping round: worker w holds ranks manager + 1 + w·group … + group − 1.
  const offset = (comm.rank - manager - 1 + comm.size) % comm.size
  const worker = comm.rank === manager ? -1 : Math.floor(offset / group)
  const mine = comm.split(comm.size === 1 ? 0 : worker + 1, offset)! // the manager alone, or its worker's group
  const farm = comm.dup() // farm messages never mix with the user's
  if (comm.size === 1) return serial(options, mine)
  if (comm.rank === manager) return manage(farm, options, workers, group, prefetch)
  if (mine.rank === 0) lead(farm, mine, manager, worker, options.work)
  else follow(mine, worker, options.work)
  return undefined
}

function check(comm: Comm, manager: number, group: number, prefetch: number): void {
  if (!Number.isInteger(manager) || manager < 0 || manager >= comm.size)
    throw new InvalidArgument("managerWorker", "manager", manager, `must be a rank of the communicator, 0 … ${comm.size - 1}`)
  if (!Number.isInteger(group) || group < 1) throw new InvalidArgument("managerWorker", "group", group, "must be a positive integer")
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new InvalidArgument("managerWorker", "prefetch", prefetch, "must be a non-negative integer")
  if (comm.size > 1 && (comm.size - 1) % group !== 0)
    throw new InvalidArgument("managerWorker", "group", group, `does not divide the ${comm.size - 1} ranks besides the manager into whole worker groups`)
}

function serial<T, R>(options: FarmOptions<T, R>, self: Comm): FarmResult<R> {
  const results: R[] = []
  const report = progressReporter("tasks", Array.isArray(options.tasks) ? options.tasks.length : 0)
  const timeline = threadTimeline()
  for (const task of options.tasks!) {
    const index = results.length
    const start = timeline === null ? 0 : performance.now()
    const result = options.work(task, { index, worker: 0, comm: self })
    if (timeline !== null) timeline.span(SpanKind.task, start, performance.now(), index, 1)
    results.push(result)
    options.onResult?.(result, index, 0)
    report?.(results.length)
  }
  report?.(results.length, true)
  return { results, tasksPerWorker: [results.length] }
}

/** The manager: fills every worker's queue, then answers each result with the next task; stops the workers at the end. */
function manage<T, R>(farm: Comm, options: FarmOptions<T, R>, workers: number, group: number, prefetch: number): FarmResult<R> {
  const leader = (w: number) => (farm.rank + 1 + w * group) % farm.size
  const workerOf = new Map(Array.from({ length: workers }, (_, w) => [leader(w), w]))
  const tasks = options.tasks![Symbol.iterator]()
  const report = progressReporter("tasks", Array.isArray(options.tasks) ? options.tasks.length : 0)
  const results: R[] = []
  const tasksPerWorker = new Array<number>(workers).fill(0)
  let dealt = 0
  let pending = 0
  const deal = (to: number): boolean => {
    const next = tasks.next()
    if (next.done === true) return false
    if (dealt === TAG_UB) throw new InvalidArgument("managerWorker", "tasks", `more than ${TAG_UB}`, "cannot be told apart: split them into batches")
    farm.send(next.value, to, tagOf(dealt++))
    pending++
    return true
  }
  fill: for (let round = 0; round <= prefetch; round++) for (let w = 0; w < workers; w++) if (!deal(leader(w))) break fill
  const status = new Status()
  while (pending > 0) {
    const result = farm.recv<R>(ANY_SOURCE, ANY_TAG, status)
    pending--
    const index = status.tag - 1
    const w = workerOf.get(status.source)!
    results[index] = result
    tasksPerWorker[w]!++
    options.onResult?.(result, index, w)
    report?.(dealt - pending)
    deal(status.source)
  }
  report?.(dealt, true)
  for (let w = 0; w < workers; w++) farm.send(null, leader(w), STOP)
  return { results, tasksPerWorker }
}

/** A worker group's rank 0: receives tasks, shares them with its group, returns results. */
function lead<T, R>(farm: Comm, group: Comm, manager: number, worker: number, work: FarmOptions<T, R>["work"]): void {
  const status = new Status()
  const context = { index: 0, worker, comm: group } // reused: nothing is allocated per task
  const timeline = threadTimeline() // with one, each task computed is a span
  for (;;) {
    const value = farm.recv<T>(manager, ANY_TAG, status)
    const tag = status.tag
    if (group.size > 1) group.bcast(tag === STOP ? null : [tag - 1, value], 0)
    if (tag === STOP) return
    context.index = tag - 1
    const start = timeline === null ? 0 : performance.now()
    const result = work(value, context)
    if (timeline !== null) timeline.span(SpanKind.task, start, performance.now(), context.index, 1)
    farm.send(result, manager, tag)
  }
}

/** The other ranks of a worker group: compute each task their leader shares, until it shares none. */
function follow<T, R>(group: Comm, worker: number, work: FarmOptions<T, R>["work"]): void {
  const context = { index: 0, worker, comm: group }
  const timeline = threadTimeline()
  for (;;) {
    const task = group.bcast<[number, T] | null>(undefined, 0)
    if (task === null) return
    context.index = task[0]
    const start = timeline === null ? 0 : performance.now()
    work(task[1], context)
    if (timeline !== null) timeline.span(SpanKind.task, start, performance.now(), context.index, 1)
  }
}
