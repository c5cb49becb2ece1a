/**
 * Collective algorithms, written once as generators of point-to-point steps
 * ("send this to r", "receive from r", or both at once). The communicator
 * drives a generator synchronously for the blocking call, or step by step
 * from the progress engine for the nonblocking one — one algorithm, both
 * forms.
 *
 * Every algorithm combines in rank order (lower ranks on the left) along a
 * tree fixed by the rank count, so results are deterministic and identical on
 * every rank, and non-commutative ops give the rank-ordered result. Costs:
 * barrier, bcast, reduce, scan: ⌈log₂ p⌉ rounds; allreduce: recursive
 * doubling (p a power of two), or for large typed arrays recursive halving +
 * doubling (Rabenseifner: each rank moves ~2n instead of n·log p);
 * reduce + bcast otherwise. gather/scatter are linear at the root (p − 1
 * messages), as MPI implementations do at these rank counts. The blocking
 * bcast disseminates instead of using the tree (`bcastAgreeing`), and the
 * other calls in which a rank may only send start with a barrier
 * (`agreeing`): a mismatch fails before any rank returns a value.
 *
 * Layer: comm.
 */
import { InvalidArgument } from "../errors.ts"
import type { Sink, TypedArray } from "../transport/ring.ts"
import { combine, combineIntoRight, describeOperand, isBuiltin, streamingCombiner, type ReduceOp } from "./ops.ts"
import { blockCounts, displacements } from "./partition.ts"

/** Opcodes, carried in every collective message's tag so that mismatched calls are caught. */
export const CollectiveOp = {
  barrier: 0,
  bcast: 1,
  scatter: 2,
  scatterv: 3,
  gather: 4,
  gatherv: 5,
  allgather: 6,
  allgatherv: 7,
  reduce: 8,
  allreduce: 9,
  scan: 10,
  exscan: 11,
  alltoall: 12,
  alltoallv: 13,
  split: 14,
  dup: 15,
  alloc: 16,
  allreduceWindow: 17,
  reduceScatter: 18,
  reduceScatterBlock: 19,
} as const

export const COLLECTIVE_NAMES: ReadonlyArray<string> = Object.keys(CollectiveOp)

/**
 * One step: send `value` to `to` (if ≥ 0) and/or receive from `from` (if ≥ 0),
 * into `into` when given — combined into it by `reduce` when that is set.
 */
export interface Step {
  readonly to: number
  readonly value: unknown
  readonly from: number
  readonly into: TypedArray | null
  readonly reduce: Sink | null
}

export type Algorithm<R> = Generator<Step, R, unknown>

const NONE = -1
const send = (to: number, value: unknown): Step => ({ to, value, from: NONE, into: null, reduce: null })
const recv = (from: number, into: TypedArray | null = null): Step => ({ to: NONE, value: undefined, from, into, reduce: null })
const exchange = (to: number, value: unknown, from: number, into: TypedArray | null = null, reduce: Sink | null = null): Step => ({
  to,
  value,
  from,
  into,
  reduce,
})

/** Thrown by an algorithm when a peer's contribution has the wrong shape; the driver names the call. */
export class ShapeMismatch {
  constructor(
    readonly peer: number,
    readonly detail: string,
  ) {}
}

const EMPTY = new Uint8Array(0)
const isTyped = (v: unknown): v is TypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView)
const isPowerOfTwo = (n: number): boolean => (n & (n - 1)) === 0
/** Typed arrays at least this large use reduce-scatter + allgather in allreduce. */
export const LARGE_ALLREDUCE_BYTES = 64 * 1024

type TypedCtor = new (n: number) => TypedArray
const like = (a: TypedArray, n: number): TypedArray => new (a.constructor as TypedCtor)(n)

/**
 * Where algorithms get their temporary arrays. Blocking calls reuse one
 * buffer per element type (fresh large arrays cost a page fault per 4 KiB);
 * nonblocking calls, which may overlap, allocate.
 */
export interface Workspace {
  /** A temporary array of `n` elements of `like`'s type, valid until the call returns. */
  scratch(like: TypedArray, n: number): TypedArray
}

export const allocatingWorkspace: Workspace = { scratch: like }

/** A workspace that keeps one growing buffer per element type. */
export function poolingWorkspace(): Workspace {
  const pool = new Map<unknown, TypedArray>()
  return {
    scratch(a, n) {
      let buffer = pool.get(a.constructor)
      if (buffer === undefined || buffer.length < n) {
        buffer = like(a, n)
        pool.set(a.constructor, buffer)
      }
      return buffer.subarray(0, n)
    },
  }
}

/** A private copy of a contribution (typed arrays are combined in place), in `into` when given. */
function own(v: unknown, into: TypedArray | null = null): unknown {
  if (!isTyped(v)) return v
  if (into === null) return v.slice()
  if (into !== v) into.set(v as never)
  return into
}

function describe(v: unknown): string {
  return isTyped(v) ? `${v.constructor.name}(${v.length})` : typeof v
}

/** Contributions that cannot be combined: typed arrays of different types or lengths, or (built-in ops) values of different kinds. */
function checkShape(peer: number, mine: unknown, theirs: unknown, op: ReduceOp<unknown>): void {
  if (isTyped(mine) !== isTyped(theirs) || (isTyped(mine) && (mine.constructor !== (theirs as TypedArray).constructor || mine.length !== (theirs as TypedArray).length)))
    throw new ShapeMismatch(peer, `this rank contributes ${describe(mine)}, rank ${peer} contributes ${describe(theirs)}`)
  if (typeof mine !== typeof theirs && isBuiltin(op))
    throw new ShapeMismatch(peer, `this rank contributes ${describeOperand(mine)}, rank ${peer} contributes ${describeOperand(theirs)}`)
}

/** Combines `incoming` (from lower ranks) with `owned` (higher): typed arrays in place into `owned`. */
function combineLeft(op: ReduceOp<unknown>, incoming: unknown, owned: unknown): unknown {
  return isTyped(owned) && isBuiltin(op) ? combineIntoRight(op, incoming as TypedArray, owned) : combine(op, incoming, owned)
}

/** Dissemination barrier: ⌈log₂ p⌉ rounds of one send and one receive. */
export function* barrier(rank: number, size: number): Algorithm<void> {
  for (let d = 1; d < size; d *= 2) yield exchange((rank + d) % size, EMPTY, (rank - d + size) % size, EMPTY)
}

/**
 * Collectives whose blocking form starts with `agreeing`: those in which some
 * rank only sends (a root, a leaf) and could otherwise return before anyone
 * saw that the ranks called different things. The others (barrier,
 * allreduce, allgather, alltoall, …) carry information from every rank to
 * every rank, and each message's tag is checked, so no rank completes a
 * mismatched call.
 */
export const AGREEING: ReadonlySet<number> = new Set([
  CollectiveOp.scatter,
  CollectiveOp.scatterv,
  CollectiveOp.gather,
  CollectiveOp.gatherv,
  CollectiveOp.reduce,
  CollectiveOp.scan,
  CollectiveOp.exscan,
  CollectiveOp.dup,
  CollectiveOp.alloc,
])

/**
 * `algorithm`, preceded by a dissemination barrier whose messages carry the
 * call's tag (op, root, sequence number). Every rank receives from rank − 1
 * in the first round, so when ranks called different collectives (or the
 * same one with different roots) some pair of neighbours differs and its
 * receiver fails with `CollectiveMismatch` at once, naming both calls; and
 * no rank leaves the barrier — so none moves data or returns a value — until
 * every rank has entered with the same call. Costs ⌈log₂ p⌉ rounds of empty
 * messages.
 */
export function* agreeing<R>(rank: number, size: number, algorithm: Algorithm<R>): Algorithm<R> {
  yield* barrier(rank, size)
  return yield* algorithm
}

/**
 * Broadcast that agrees on the call as it goes: the dissemination pattern of
 * `barrier` (round d: send to rank + d, receive from rank − d), where a
 * message carries the root's value when its sender has it and its receiver
 * does not yet — every rank computes both from the distances to the root —
 * and is empty otherwise. ⌈log₂ p⌉ rounds and p − 1 copies of the value,
 * like the binomial tree, but every rank hears from every rank before it
 * returns, so a rank that called something else (another root, another
 * collective) is caught at the call, on every path, before any rank returns
 * a value. The blocking `bcast` uses it; the root waits for one message per
 * round (a synchronizing broadcast, as MPI allows).
 */
export function* bcastAgreeing<T>(rank: number, size: number, root: number, value: T, into: TypedArray | null): Algorithm<T> {
  const me = (rank - root + size) % size // distance from the root; ranks at distance < d know the value before round d
  for (let d = 1; d < size; d *= 2) {
    const knows = me < d
    const toKnows = (me + d) % size < d
    const fromKnows = (me - d + size) % size < d
    const got = yield exchange((rank + d) % size, knows && !toKnows ? value : EMPTY, (rank - d + size) % size, fromKnows && !knows ? into : EMPTY)
    if (fromKnows && !knows) value = got as T
  }
  return value
}

/** Binomial-tree broadcast from `root`; `into` receives in place on non-roots. */
export function* bcast<T>(rank: number, size: number, root: number, value: T, into: TypedArray | null): Algorithm<T> {
  const me = (rank - root + size) % size
  let mask = 1
  while (mask < size) {
    if (me & mask) {
      value = (yield recv((me - mask + root) % size, into)) as T
      break
    }
    mask <<= 1
  }
  for (mask >>= 1; mask > 0; mask >>= 1) if (me + mask < size) yield send((me + mask + root) % size, value)
  return value
}

/** Binomial reduction to rank 0 in rank order, then to `root`. Undefined except on the root. */
export function* reduce<T>(
  rank: number,
  size: number,
  root: number,
  value: T,
  op: ReduceOp<T>,
  work: Workspace,
  into: TypedArray | null = null,
): Algorithm<T | undefined> {
  // Only the root's result is returned, so only the root accumulates in `into`.
  let acc: unknown = own(value, rank === root ? into : null)
  const scratch = isTyped(acc) ? work.scratch(acc, acc.length) : null
  for (let mask = 1; mask < size; mask <<= 1) {
    if (rank & mask) {
      yield send(rank - mask, acc)
      break
    }
    if (rank + mask < size) {
      const other = yield recv(rank + mask, scratch)
      checkShape(rank + mask, acc, other, op as ReduceOp<unknown>)
      acc = combine(op as ReduceOp<unknown>, acc, other)
    }
  }
  if (root !== 0 && rank === 0) yield send(root, acc)
  if (root !== 0 && rank === root) acc = yield recv(0, isTyped(acc) ? (acc as TypedArray) : null)
  return rank === root ? (acc as T) : undefined
}

/** Allreduce: the result on every rank, bit-identical across ranks. */
export function* allreduce<T>(
  rank: number,
  size: number,
  value: T,
  op: ReduceOp<T>,
  work: Workspace,
  into: TypedArray | null = null,
): Algorithm<T> {
  if (!isPowerOfTwo(size)) {
    const total = yield* reduce(rank, size, 0, value, op, work, into)
    const out = isTyped(value) ? (into ?? (rank === 0 ? (total as TypedArray) : like(value, value.length))) : null
    return yield* bcast(rank, size, 0, total as T, out)
  }
  if (size > 1 && isTyped(value) && isBuiltin(op) && value.byteLength >= LARGE_ALLREDUCE_BYTES && value.length >= size)
    return (yield* allreduceHalving(rank, size, value, op as ReduceOp<unknown>, work, into)) as T
  let acc: unknown = own(value, into)
  const scratch = isTyped(acc) ? work.scratch(acc, acc.length) : null
  for (let mask = 1; mask < size; mask <<= 1) {
    const partner = rank ^ mask
    const other = yield exchange(partner, acc, partner, scratch)
    checkShape(partner, acc, other, op as ReduceOp<unknown>)
    acc = partner > rank ? combine(op as ReduceOp<unknown>, acc, other) : combineLeft(op as ReduceOp<unknown>, other, acc)
  }
  return acc as T
}

/** Rabenseifner: reduce-scatter by recursive halving, then allgather by recursive doubling. */
function* allreduceHalving(
  rank: number,
  size: number,
  value: TypedArray,
  op: ReduceOp<unknown>,
  work: Workspace,
  into: TypedArray | null,
): Algorithm<TypedArray> {
  // With the streaming kernels the first step reads the input and writes the
  // result, so an out-of-place call never copies its input first.
  const streams = streamingCombiner(op, value, false) !== undefined
  const acc = streams ? (into ?? like(value, value.length)) : (own(value, into) as TypedArray)
  const scratch = work.scratch(acc, Math.ceil(acc.length / 2))
  const parents: Array<[number, number]> = []
  let lo = 0
  let hi = acc.length
  let source = streams ? value : acc // where this level's contributions are read from
  for (let mask = size >> 1; mask >= 1; mask >>= 1) {
    const partner = rank ^ mask
    const mid = lo + Math.floor((hi - lo) / 2)
    const keepLow = (rank & mask) === 0
    const [keepLo, keepHi, sendLo, sendHi] = keepLow ? [lo, mid, mid, hi] : [mid, hi, lo, mid]
    const kept = acc.subarray(keepLo, keepHi)
    const mine = source === acc ? undefined : source.subarray(keepLo, keepHi)
    const streaming = streamingCombiner(op, acc, partner < rank, mine)
    if (streaming !== undefined) {
      // Combine straight out of the transport: no copy of the incoming half.
      yield exchange(partner, source.subarray(sendLo, sendHi), partner, kept, streaming)
    } else {
      const incoming = scratch.subarray(0, keepHi - keepLo)
      yield exchange(partner, acc.subarray(sendLo, sendHi), partner, incoming)
      if (partner > rank) combine(op, kept, incoming)
      else combineIntoRight(op as Parameters<typeof combineIntoRight>[0], incoming, kept)
    }
    parents.push([lo, hi])
    lo = keepLo
    hi = keepHi
    source = acc
  }
  for (let mask = 1; mask < size; mask <<= 1) {
    const partner = rank ^ mask
    const [parentLo, parentHi] = parents.pop()!
    const [otherLo, otherHi] = lo === parentLo ? [hi, parentHi] : [parentLo, lo]
    yield exchange(partner, acc.subarray(lo, hi), partner, acc.subarray(otherLo, otherHi))
    lo = parentLo
    hi = parentHi
  }
  return acc
}

/** Inclusive (or exclusive) prefix reduction in rank order, ⌈log₂ p⌉ rounds (Hillis–Steele). */
export function* scan<T>(rank: number, size: number, value: T, op: ReduceOp<T>, exclusive: boolean, work: Workspace): Algorithm<T | undefined> {
  let inclusive: unknown = own(value)
  let before: unknown = undefined
  const scratch = isTyped(inclusive) ? work.scratch(inclusive, inclusive.length) : null
  for (let mask = 1; mask < size; mask <<= 1) {
    const to = rank + mask < size ? rank + mask : NONE
    const from = rank - mask >= 0 ? rank - mask : NONE
    if (to === NONE && from === NONE) break
    const other = yield exchange(to, inclusive, from, scratch)
    if (from === NONE) continue
    checkShape(from, inclusive, other, op as ReduceOp<unknown>)
    before = before === undefined ? own(other) : combineLeft(op as ReduceOp<unknown>, other, before)
    inclusive = combineLeft(op as ReduceOp<unknown>, other, inclusive)
  }
  return (exclusive ? before : inclusive) as T | undefined
}

/** Everyone's value, in rank order, on the root (undefined elsewhere). */
export function* gather<T>(rank: number, size: number, root: number, value: T): Algorithm<T[] | undefined> {
  if (rank !== root) {
    yield send(root, value)
    return undefined
  }
  const out = new Array<T>(size)
  out[root] = value
  for (let r = 0; r < size; r++) if (r !== root) out[r] = (yield recv(r)) as T
  return out
}

/** Typed blocks of any sizes, concatenated in rank order on the root. */
export function* gatherv<A extends TypedArray>(rank: number, size: number, root: number, block: A): Algorithm<A | undefined> {
  const blocks = yield* gather(rank, size, root, block)
  if (blocks === undefined) return undefined
  for (const [r, b] of blocks.entries())
    if (!isTyped(b) || b.constructor !== block.constructor)
      throw new ShapeMismatch(r, `gatherv needs ${block.constructor.name} blocks from every rank, rank ${r} sent ${describe(b)}`)
  const out = like(block, blocks.reduce((n, b) => n + b.length, 0)) as A
  let offset = 0
  for (const b of blocks) {
    out.set(b as never, offset)
    offset += b.length
  }
  return out
}

/** Everyone's value, in rank order, on every rank: gather to rank 0, then bcast. */
export function* allgather<T>(rank: number, size: number, value: T): Algorithm<T[]> {
  const all = yield* gather(rank, size, 0, value)
  return yield* bcast(rank, size, 0, all as T[], null)
}

/** Typed blocks of any sizes, concatenated in rank order, on every rank. */
export function* allgatherv<A extends TypedArray>(rank: number, size: number, block: A): Algorithm<A> {
  const all = yield* gatherv(rank, size, 0, block)
  return yield* bcast(rank, size, 0, all as A, null)
}

/** Scatter from the root: an array of `size` values (one each), or a typed array split in blocks. */
export function* scatter<T>(rank: number, size: number, root: number, values: ReadonlyArray<T> | TypedArray | undefined, inPlace = false): Algorithm<T | TypedArray> {
  if (rank !== root) return (yield recv(root)) as T | TypedArray
  if (isTyped(values)) return yield* scatterv(rank, size, root, values, blockCounts(values.length, size), undefined, inPlace)
  if (!Array.isArray(values) || values.length !== size)
    throw new InvalidArgument("scatter", "values", describe(values), `must be an array of ${size} values (one per rank) or a typed array`)
  for (let r = 0; r < size; r++) if (r !== root) yield send(r, values[r])
  return values[root] as T
}

/** Scatter a typed array in blocks of the given counts (displacements: consecutive unless given). */
export function* scatterv<A extends TypedArray>(
  rank: number,
  size: number,
  root: number,
  values: A | undefined,
  counts: ReadonlyArray<number> | undefined,
  displs?: ReadonlyArray<number>,
  /** The root keeps its block in `values` (a view) instead of a copy (MPI_IN_PLACE at the root). */
  inPlace = false,
): Algorithm<A> {
  if (rank !== root) return (yield recv(root)) as A
  if (!isTyped(values)) throw new InvalidArgument("scatterv", "values", describe(values), "must be a typed array on the root")
  if (counts === undefined || counts.length !== size || counts.some((c) => !Number.isInteger(c) || c < 0))
    throw new InvalidArgument("scatterv", "counts", `[${counts?.join(", ") ?? ""}]`, `must be ${size} non-negative integers`)
  const offsets = displs ?? displacements(counts)
  for (let r = 0; r < size; r++)
    if (offsets[r]! < 0 || offsets[r]! + counts[r]! > values.length)
      throw new InvalidArgument("scatterv", "counts", `[${counts.join(", ")}]`, `block ${r} runs past the end of the ${values.length} values`)
  for (let r = 0; r < size; r++) if (r !== root) yield send(r, values.subarray(offsets[r]!, offsets[r]! + counts[r]!))
  return (inPlace ? values.subarray(offsets[root]!, offsets[root]! + counts[root]!) : values.slice(offsets[root]!, offsets[root]! + counts[root]!)) as A
}

/** Personalized all-to-all: values[j] goes to rank j; returns what every rank sent here, by source. */
export function* alltoall<T>(rank: number, size: number, values: ReadonlyArray<T>): Algorithm<T[]> {
  if (!Array.isArray(values) || values.length !== size)
    throw new InvalidArgument("alltoall", "values", describe(values), `must be an array of ${size} values (one per rank)`)
  const out = new Array<T>(size)
  out[rank] = values[rank] as T
  for (let i = 1; i < size; i++) {
    const to = (rank + i) % size
    const from = (rank - i + size) % size
    out[from] = (yield exchange(to, values[to], from)) as T
  }
  return out
}

/** All-to-all of typed blocks: `counts[j]` values of `values` (consecutive blocks) go to rank j. */
export function* alltoallv<A extends TypedArray>(rank: number, size: number, values: A, counts: ReadonlyArray<number>): Algorithm<{ data: A; counts: number[] }> {
  if (counts.length !== size || counts.reduce((a, b) => a + b, 0) > values.length)
    throw new InvalidArgument("alltoallv", "counts", `[${counts.join(", ")}]`, `must be ${size} counts summing to at most ${values.length}`)
  const incoming = yield* alltoall(rank, size, [...counts])
  const sendAt = displacements(counts)
  const recvAt = displacements(incoming)
  const data = like(values, incoming.reduce((a, b) => a + b, 0)) as A
  data.set(values.subarray(sendAt[rank]!, sendAt[rank]! + counts[rank]!) as never, recvAt[rank]!)
  for (let i = 1; i < size; i++) {
    const to = (rank + i) % size
    const from = (rank - i + size) % size
    const into = data.subarray(recvAt[from]!, recvAt[from]! + incoming[from]!)
    yield exchange(to, values.subarray(sendAt[to]!, sendAt[to]! + counts[to]!), from, into)
  }
  return { data, counts: incoming }
}

// ---- reduce-scatter and the in-place forms (MPI_IN_PLACE) ----------------------

/**
 * Reduce-scatter (MPI_Reduce_scatter): the elementwise reduction of every
 * rank's `values`, of which rank i keeps `counts[i]` consecutive elements.
 * A reduction to rank 0 in rank order, then a scatter of the blocks: the
 * result is bit-identical to slicing the allreduce.
 */
export function* reduceScatter<A extends TypedArray>(
  rank: number,
  size: number,
  values: A,
  counts: ReadonlyArray<number>,
  op: ReduceOp<A>,
  work: Workspace,
): Algorithm<A> {
  const total = yield* reduce(rank, size, 0, values, op, work)
  return yield* scatterv(rank, size, 0, total as A | undefined, counts)
}

/** The block `r` of a typed buffer of `size` equal blocks. */
const blockOf = <A extends TypedArray>(buffer: A, size: number, r: number): A => {
  const n = buffer.length / size
  return buffer.subarray(r * n, (r + 1) * n) as A
}

/** Gather in place at the root (this rank): rank r's block lands in block r of the root's `buffer`; the root's own block is already there. */
export function* gatherInPlace<A extends TypedArray>(rank: number, size: number, buffer: A): Algorithm<A> {
  for (let r = 0; r < size; r++) if (r !== rank) yield recv(r, blockOf(buffer, size, r))
  return buffer
}

/** Allgather in place: every rank's block r of `buffer` is rank r's contribution; afterwards every block is filled on every rank. */
export function* allgatherInPlace<A extends TypedArray>(rank: number, size: number, buffer: A): Algorithm<A> {
  if (rank === 0) yield* gatherInPlace(rank, size, buffer)
  else yield send(0, blockOf(buffer, size, rank))
  return (yield* bcast(rank, size, 0, buffer, buffer)) as A
}

/** All-to-all in place: block j of `buffer` goes to rank j and is replaced by what rank j sent this rank. */
export function* alltoallInPlace<A extends TypedArray>(rank: number, size: number, buffer: A): Algorithm<A> {
  // The outgoing blocks are sent from a copy: a block received in an earlier round (or this one, when to === from) overwrites one not yet sent.
  const outgoing = size > 1 ? buffer.slice() : buffer
  for (let i = 1; i < size; i++) {
    const to = (rank + i) % size
    const from = (rank - i + size) % size
    yield exchange(to, blockOf(outgoing, size, to), from, blockOf(buffer, size, from))
  }
  return buffer
}
