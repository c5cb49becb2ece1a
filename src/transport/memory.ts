/**
 * The shared memory of one job on the threads transport: a control block
 * (abort word, per-rank doorbells and sleep flags) and one single-producer
 * single-consumer byte ring per ordered pair of ranks. Created once by the
 * supervisor and handed to every rank in `workerData`; nothing here is
 * reallocated while the job runs.
 *
 * Layer: transport. Imports nothing above transport/.
 */

/**
 * Int32 slots per rank in the control block: two cache lines, so ranks do not
 * false-share, and the doorbell line (bell and sleeping flag, which a peer
 * reads after every message it sends) apart from the diagnostics line the
 * rank writes on every collective call — one line crossing cores per message
 * instead of two.
 */
export const RANK_STRIDE = 32
/** Offsets inside a rank's control slots. Line one: the doorbell. */
export const BELL = 0
export const SLEEPING = 1
/** Line two. What a sleeping rank waits for, published for the supervisor's diagnostics. */
export const BLOCKED_OP = 16
export const BLOCKED_PEER = 17
export const BLOCKED_TAG = 18
export const BLOCKED_CONTEXT = 19
/** Completed blocking calls: the supervisor's deadlock detector watches it move. */
export const PROGRESS = 20
/** The collective a rank is in (opcode + 1, 0 when none), its sequence number and root, for diagnostics. */
export const CALL_OP = 21
export const CALL_SEQ = 22
export const CALL_ROOT = 23
/** Set to 1 by the rank's near-heap-limit callback (native guardHeap) when it ran out of heap. */
export const OUT_OF_MEMORY = 24
/**
 * Counts the rank's entries into and exits from `Atomics.wait` on its
 * doorbell (odd while inside one): the deadlock watcher trusts a published
 * blocked state only from a rank that is asleep and keeps going back to sleep.
 */
export const WAITS = 25
/** The bell value the rank's current (or last) wait sleeps on: a bell that has moved past it is a wake-up not yet taken. */
export const WAIT_BELL = 26
/**
 * Nonblocking collectives in flight (they advance while the rank is blocked
 * in another call, and may then send): published on the MPI transport only
 * (`PublishedBell`), for the hybrid deadlock watcher's cycle rule.
 */
export const NONBLOCKING = 27
/** Slot 1 of the control block: the next free communicator context id (world uses 0 and 1). */
const NEXT_CONTEXT = 1
/** Slot 2: the next free 64-byte unit of the shared heap. */
const HEAP_TOP = 2
/** Heap allocations are aligned to (and counted in) cache lines. */
const HEAP_UNIT = 64

/** Bytes of control words in front of each ring's data (head and tail on separate cache lines). */
export const RING_CONTROL_BYTES = 128

/** Everything a rank needs to attach to the job's shared memory. Structured-cloneable. */
export interface WorldMemory {
  readonly size: number
  /** Int32 control block: slot 0 is the abort word, rank r's slots start at (r + 1) * RANK_STRIDE. */
  readonly control: SharedArrayBuffer
  /** size × size rings, ring (src → dst) at index src * size + dst. */
  readonly rings: SharedArrayBuffer
  /** Data bytes per ring (a power of two). */
  readonly ringCapacity: number
  /**
   * The shared heap `comm.alloc` carves windows from (pages are committed
   * only when touched). Size: RANKFLOW_SHARED_HEAP_MIB, default 256.
   */
  readonly heap: SharedArrayBuffer
}

const MiB = 1024 * 1024

/**
 * Ring capacity for a job of `size` ranks: 1 MiB per pair up to 16 ranks
 * (large messages stream through in quarter-ring chunks that stay in cache),
 * shrinking so that the rings of a big job stay near 256 MiB in total.
 */
export function ringCapacityFor(size: number): number {
  let capacity = MiB
  while (capacity > 64 * 1024 && capacity * size * size > 256 * MiB) capacity /= 2
  return capacity
}

/** Reserves a fresh pair of context ids (point-to-point, collective) unique in the job. */
export function allocateContext(memory: WorldMemory): number {
  return Atomics.add(new Int32Array(memory.control), NEXT_CONTEXT, 2) + 2
}

/**
 * Reserves `bytes` of the job's shared heap (rounded up to cache lines) and
 * returns the byte offset, or -1 when the heap has no room left.
 */
export function reserveHeap(memory: WorldMemory, bytes: number): number {
  const units = Math.ceil(bytes / HEAP_UNIT)
  const control = new Int32Array(memory.control)
  for (;;) {
    const top = Atomics.load(control, HEAP_TOP)
    if ((top + units) * HEAP_UNIT > memory.heap.byteLength) return -1
    if (Atomics.compareExchange(control, HEAP_TOP, top, top + units) === top) return top * HEAP_UNIT
  }
}

/** The heap size: RANKFLOW_SHARED_HEAP_MIB mebibytes (default 256). */
export function heapBytes(): number {
  const mib = Number(process.env.RANKFLOW_SHARED_HEAP_MIB ?? 256)
  return (Number.isFinite(mib) && mib >= 0 ? Math.floor(mib) : 256) * MiB
}

/**
 * The bytes `allocateWorldMemory(size)` allocates, by buffer — computed
 * without allocating, so a job too large for the machine can be refused
 * before it starts. Mirrors the allocation below (keep them together).
 */
export function worldMemoryBytes(size: number, ringCapacity = ringCapacityFor(size), heap = heapBytes()): { readonly control: number; readonly rings: number; readonly heap: number; readonly total: number } {
  const control = (size + 1) * RANK_STRIDE * 4
  const rings = size * size * (RING_CONTROL_BYTES + ringCapacity)
  return { control, rings, heap, total: control + rings + heap }
}

/** Allocates the shared memory of a job of `size` ranks. */
export function allocateWorldMemory(size: number, ringCapacity = ringCapacityFor(size), heap = heapBytes()): WorldMemory {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`)
  if (ringCapacity < 1024 || (ringCapacity & (ringCapacity - 1)) !== 0)
    throw new RangeError(`ring capacity must be a power of two ≥ 1024, got ${ringCapacity}`)
  return {
    size,
    control: new SharedArrayBuffer((size + 1) * RANK_STRIDE * 4),
    rings: new SharedArrayBuffer(size * size * (RING_CONTROL_BYTES + ringCapacity)),
    ringCapacity,
    heap: new SharedArrayBuffer(heap),
  }
}
