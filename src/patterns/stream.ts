/**
 * The streaming pipeline pattern: items flow from a source through a chain
 * of stages, each on its own ranks, and back to the source's rank in order.
 * All stages work at once on different items, so a chain of S stages of
 * similar cost runs up to S times faster than one rank doing every stage.
 *
 * A stage may run on several ranks, dealt items round-robin; every rank
 * knows which neighbour its next item comes from, so order is kept without
 * sequence numbers or reordering. Rank 0 reads the source and collects the
 * results, with at most `window` items in flight (bounded memory for any
 * stream length). END markers flow down the chain once the source is done.
 *
 * Layer: patterns (uses comm only).
 */
import { ANY_TAG, type Comm, type Sendable } from "../comm/comm.ts"
import { blockRange } from "../comm/partition.ts"
import { Status } from "../comm/status.ts"
import { InvalidArgument } from "../errors.ts"
import { progressReporter } from "../runtime/progress.ts"
import { agree } from "./agree.ts"
import { SpanKind, threadTimeline } from "../comm/timeline.ts"

/** Options of one `Stream` stage: how many ranks run it, and its name. */
export interface StageOptions {
  /** Ranks that run this stage side by side, taking items in turns (default 1). */
  readonly ranks?: number
  /** The stage's name in `layout()` (default: the function's name). */
  readonly name?: string
}

/** Options of `Stream.from`: the flow-control window. */
export interface StreamOptions {
  /** Items in flight between the source and the results at most (default 4 per stage rank). */
  readonly window?: number
}

/** Which ranks run which stages, for a number of ranks. */
export interface StreamLayout {
  /** Stages on ranks: stages fused onto the same ranks when there are fewer ranks than stages. */
  readonly groups: ReadonlyArray<{ readonly stages: ReadonlyArray<string>; readonly ranks: ReadonlyArray<number> }>
  /** Ranks with no stage (more ranks than the stages asked for). */
  readonly idle: ReadonlyArray<number>
}

type StageFn = (value: unknown, index: number) => unknown

interface Stage {
  readonly f: StageFn
  readonly ranks: number
  readonly name: string
}

const DATA = 1
const END = 2

/**
 * A stream of items through stages on ranks, built on every rank alike.
 *
 * @example
 * ```ts
 * import { init, Stream } from "rankflow"
 * const comm = await init()
 * const squares = Stream.from([1, 2, 3, 4])
 *   .map((x: number) => x * x)
 *   .map((x: number) => `${x}!`)
 *   .run(comm)
 * if (squares) console.log(squares) // [ '1!', '4!', '9!', '16!' ]
 * ```
 */
export class Stream<A> {
  private constructor(
    private readonly source: Iterable<unknown> | (() => Iterable<unknown>),
    private readonly stages: ReadonlyArray<Stage>,
  ) {}

  /**
   * A stream of the source's items. `source` is any synchronous `Iterable`
   * (an array, a Set, a Map's entries, a generator object), or a function
   * returning one: the function is called on rank 0 only, when the stream
   * runs, so other ranks never open the file or start the generator. Items
   * are read lazily, at most `window` ahead of the results, so an endless or
   * huge source works with `forEach`. Async iterables are not accepted.
   */
  static from<A>(source: Iterable<A> | (() => Iterable<A>)): Stream<A> {
    return new Stream<A>(source, [])
  }

  /** Adds a stage: `f` maps each item (and its index in the stream) on the stage's ranks. */
  map<B>(f: (value: A, index: number) => Sendable<B>, options: StageOptions = {}): Stream<B> {
    const { ranks = 1 } = options
    if (!Number.isInteger(ranks) || ranks < 1) throw new InvalidArgument("Stream.map", "ranks", ranks, "must be a positive integer")
    const name = options.name ?? (f.name || `stage ${this.stages.length + 1}`)
    return new Stream<B>(this.source, [...this.stages, { f: f as StageFn, ranks, name }])
  }

  /**
   * Where the stages run on `size` ranks: rank 0 reads and collects; each
   * stage gets the ranks it asked for, in order; with too few ranks,
   * replicas go first, then neighbouring stages share ranks. Pure: call it
   * anywhere (no communicator) to choose a rank count.
   *
   * @example
   * ```ts
   * import { Stream } from "rankflow"
   * const stream = Stream.from([1, 2, 3])
   *   .map((x: number) => x + 1, { name: "parse" })
   *   .map((x: number) => x * x, { name: "solve", ranks: 2 })
   * console.log(JSON.stringify(stream.layout(4))) // parse on [1], solve on [2, 3]
   * console.log(JSON.stringify(stream.layout(2))) // both fused on [1]
   * ```
   */
  layout(size: number): StreamLayout {
    const { groups, idle } = this.place(size)
    return { groups: groups.map((g) => ({ stages: g.stages.map((i) => this.stages[i]!.name), ranks: g.ranks })), idle }
  }

  private place(size: number): { groups: Array<{ stages: number[]; ranks: number[] }>; idle: number[] } {
    if (!Number.isInteger(size) || size < 1) throw new InvalidArgument("Stream.layout", "size", size, "must be a positive integer")
    const free = size - 1
    const stages = this.stages
    if (free === 0 || stages.length === 0) return { groups: [], idle: Array.from({ length: free }, (_, i) => i + 1) }
    let members: number[][] // stage indices per group
    let widths: number[] // ranks per group
    if (free >= stages.length) {
      members = stages.map((_, i) => [i])
      let spare = free - stages.length
      widths = stages.map((s) => {
        const extra = Math.min(spare, s.ranks - 1)
        spare -= extra
        return 1 + extra
      })
    } else {
      members = Array.from({ length: free }, (_, g) => {
        const [a, b] = blockRange(stages.length, free, g)
        return Array.from({ length: b - a }, (_, i) => a + i)
      })
      widths = members.map(() => 1)
    }
    let next = 1
    const groups = members.map((m, g) => ({ stages: m, ranks: Array.from({ length: widths[g]! }, () => next++) }))
    return { groups, idle: Array.from({ length: size - next }, (_, i) => next + i) }
  }

  /**
   * Streams every item through the stages (a collective call: every rank
   * builds the same stages and calls `run`). Returns, on rank 0, the array of
   * results in source order (one per item); on every other rank undefined.
   * Use `forEach` to keep none of them in memory.
   */
  run(comm: Comm, options: StreamOptions = {}): A[] | undefined {
    const results: A[] = []
    return this.forEach(comm, (value) => void results.push(value), options) === undefined ? undefined : results
  }

  /** Like `run`, but hands rank 0 each result in order as it arrives, keeping none; returns the item count on rank 0. */
  forEach(comm: Comm, sink: (value: A, index: number) => void, options: StreamOptions = {}): number | undefined {
    const layout = this.place(comm.size)
    const stageRanks = layout.groups.reduce((n, g) => n + g.ranks.length, 0)
    const { window = 4 * Math.max(1, stageRanks) } = options
    if (!Number.isInteger(window) || window < 1) throw new InvalidArgument("Stream.run", "window", window, "must be a positive integer")
    agree(comm, "Stream.run", "[window, ranks per stage…]", [window, ...this.stages.map((s) => s.ranks)])
    const link = comm.dup() // stream messages never mix with the user's
    const groups = layout.groups
    if (comm.rank === 0) return this.feed(link, groups.map((group) => group.ranks), sink as (value: unknown, index: number) => void, window)
    const g = groups.findIndex((group) => group.ranks.includes(comm.rank))
    if (g < 0) return undefined // idle
    const up = g === 0 ? [0] : groups[g - 1]!.ranks
    const down = g === groups.length - 1 ? [0] : groups[g + 1]!.ranks
    const { ranks, stages } = groups[g]!
    relay(link, up, down, ranks.indexOf(comm.rank), ranks.length, compose(stages.map((i) => this.stages[i]!.f)))
    return undefined
  }

  /** Rank 0: reads the source into the first stage, keeping at most `window` items in flight, and takes results from the last. */
  private feed(link: Comm, groups: ReadonlyArray<ReadonlyArray<number>>, sink: (value: unknown, index: number) => void, window: number): number {
    const items = typeof this.source === "function" ? this.source() : this.source
    const report = progressReporter("items", Array.isArray(items) ? items.length : 0)
    if (groups.length === 0) {
      let index = 0
      const all = compose(this.stages.map((s) => s.f))
      const timeline = threadTimeline() // with one, each item through the stages is a span
      for (const item of items) {
        const start = timeline === null ? 0 : performance.now()
        const value = all(item, index)
        if (timeline !== null) timeline.span(SpanKind.item, start, performance.now(), index, 1)
        sink(value, index++)
        report?.(index)
      }
      report?.(index, true)
      return index
    }
    const first = groups[0]!
    const last = groups[groups.length - 1]!
    let sent = 0
    let received = 0
    const take = () => {
      sink(link.recv(last[received % last.length]!, DATA), received)
      received++
      report?.(received) // not report?.(++received): without a reporter the increment would be skipped
    }
    const source = items[Symbol.iterator]()
    for (;;) {
      while (sent - received >= window) take() // before reading on: a lazy source is read no further ahead than needed
      const next = source.next()
      if (next.done === true) break
      link.send(next.value, first[sent % first.length]!, DATA)
      sent++
    }
    for (const rank of first) link.send(null, rank, END)
    while (received < sent) take()
    for (const rank of last) link.recv(rank, END)
    report?.(sent, true)
    return sent
  }
}

/** The stages of one group as one function. */
function compose(fs: ReadonlyArray<StageFn>): StageFn {
  return fs.length === 1 ? fs[0]! : (value, index) => fs.reduce((v, f) => f(v, index), value)
}

/**
 * A stage rank, the `position`-th of `width`: takes items position,
 * position + width, … each from the upstream rank that had it, passes the
 * result on to the downstream rank whose turn it is; at END, collects the
 * other upstream ranks' END and sends its own to every downstream rank.
 */
function relay(link: Comm, up: ReadonlyArray<number>, down: ReadonlyArray<number>, position: number, width: number, f: StageFn): void {
  const status = new Status()
  const timeline = threadTimeline() // with one, each item this rank computes is a span
  for (let index = position; ; index += width) {
    const from = up[index % up.length]!
    const value = link.recv(from, ANY_TAG, status)
    if (status.tag === END) {
      for (const rank of up) if (rank !== from) link.recv(rank, END)
      for (const rank of down) link.send(null, rank, END)
      return
    }
    const start = timeline === null ? 0 : performance.now()
    const result = f(value, index)
    if (timeline !== null) timeline.span(SpanKind.item, start, performance.now(), index, 1)
    link.send(result, down[index % down.length]!, DATA)
  }
}
