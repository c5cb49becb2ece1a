/**
 * The ghost exchange of a thread's partitions, dimension by dimension: faces
 * bound for another thread are sent first (eager, so sending never waits on
 * a receive), faces between partitions of the same thread are copied, then
 * ghosts from other threads are received, then boundary conditions are
 * applied. Full-extent faces make corners right. One partition per thread is
 * the MPI case; several per thread run `--ranks 8` on 2 cores with results
 * identical to 8 threads.
 *
 * Steady state allocates nothing unless a face is too large to be sent
 * eagerly (then the transport returns a request to wait on).
 *
 * A patient exchange (`patient = true`: a loop that exchanges once per
 * window of many steps) lets its receives spin, before they sleep, for as
 * long as this rank computed since its last exchange (PATIENCE_MS at most):
 * the neighbours do about the same work, so they normally deliver within
 * that, whereas the engine's usual wait sleeps after ~1 µs — and a futex
 * wake-up (~20 µs here) makes the woken rank late, so the other one sleeps
 * at the next exchange, and so on. An exchange that outlasts its spin (the
 * neighbour was descheduled, as on a loaded machine) halves the next one's.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import type { Request } from "../comm/request.ts"
import { ELEMENT_BYTES, type FieldArray } from "../plan/description.ts"
import { arrayOf, arrayOn, runFill, type FieldBlock, type Slab } from "./field.ts"

/** Where partitions live. */
export interface Placement {
  /** Thread (world rank) of each partition. */
  readonly owner: ReadonlyArray<number>
  /** Index of each partition among this thread's blocks, -1 when elsewhere. */
  readonly local: ReadonlyArray<number>
}

/**
 * One remote face: where it comes from or goes, and the buffer it travels
 * in. One field's contiguous face travels in place (no pack); otherwise every
 * exchanged field's face is packed into one buffer: one message per
 * neighbour, whatever the number of fields.
 */
interface Remote {
  readonly block: FieldBlock
  readonly slab: Slab
  readonly peer: number
  readonly tag: number
  /** The whole pack, as sent and received; undefined when the face travels in place. */
  readonly pack: Uint8Array | undefined
  /** Each exchanged field's part of the pack. */
  readonly parts: ReadonlyArray<FieldArray>
}

/** One face copied between partitions of this thread. */
interface LocalCopy {
  readonly to: FieldBlock
  readonly dst: Slab
  readonly from: FieldBlock
  readonly src: Slab
}

interface DimensionPlan {
  readonly dimension: number
  readonly sends: Remote[]
  readonly copies: LocalCopy[]
  readonly receives: Remote[]
  /** Blocks with a boundary condition to redo in this dimension. */
  readonly refilled: FieldBlock[]
}

/** The longest a patient exchange's receive spins before it sleeps (ms). */
export const PATIENCE_MS = 0.25
/** The least share of the compute time a patient receive spins (after exchanges that outlasted their spin). */
const MIN_SHARE = 1 / 64
/** An exchange this much longer than its spin slept (a futex wake-up alone costs ~20 µs here). */
const SLEPT_MS = 0.02

export class HaloExchange {
  private readonly perDim: DimensionPlan[]
  private readonly pending: Array<Request<void>> = []
  /** The fields exchanged, by index. */
  private readonly fields: ReadonlyArray<number>
  /** Receives spin before sleeping for about as long as this rank computed since the last exchange (see above). */
  patient = false
  /** Whether some ghost comes from another thread. */
  private readonly remote: boolean
  /** When the last exchange ended (performance.now(), ms); 0 before the first. */
  private ended = 0
  /** The share of the compute time a receive may spin: halved after an exchange that outlasted its spin (the peer was descheduled: spinning took CPU time for nothing), doubled back after one that did not. */
  private share = 1

  constructor(
    private readonly comm: Comm,
    private readonly blocks: ReadonlyArray<FieldBlock>,
    placement: Placement,
    fields?: ReadonlyArray<number>,
  ) {
    const dims = blocks[0]?.dims ?? 0
    this.fields = fields ?? (blocks[0]?.levels.map((_, f) => f) ?? [])
    // Dimensions with nothing to do (one rank, Dirichlet edges) cost nothing per step.
    this.perDim = Array.from({ length: dims }, (_, d) => this.planDimension(d, placement)).filter(
      (p) => p.sends.length + p.copies.length + p.receives.length + p.refilled.length > 0,
    )
    this.remote = this.perDim.some((p) => p.receives.length > 0)
  }

  /** The pack of a face: each field's part at an 8-byte-aligned offset of one buffer. */
  private packFor(block: FieldBlock, slab: Slab): { pack: Uint8Array | undefined; parts: FieldArray[] } {
    const n = slab.index.length
    if (this.fields.length === 1) {
      if (slab.at !== undefined) return { pack: undefined, parts: [] }
      const part = arrayOf(block.levels[this.fields[0]!]!.spec.type, n)
      return { pack: new Uint8Array(part.buffer), parts: [part] }
    }
    const offsets: number[] = []
    let bytes = 0
    for (const f of this.fields) {
      offsets.push(bytes)
      bytes += Math.ceil((n * ELEMENT_BYTES[block.levels[f]!.spec.type]) / 8) * 8
    }
    const buffer = new ArrayBuffer(bytes)
    const parts = this.fields.map((f, j) => arrayOn(block.levels[f]!.spec.type, buffer, offsets[j]!, n))
    return { pack: new Uint8Array(buffer), parts }
  }

  private planDimension(d: number, placement: Placement): DimensionPlan {
    const sends: Remote[] = []
    const copies: LocalCopy[] = []
    const receives: Remote[] = []
    // A ghost slab of partition p, side s, is identified by tag (p·2 + s): unique per dimension phase.
    const tag = (partition: number, side: 0 | 1) => partition * 2 + side
    for (const block of this.blocks) {
      const faces = block.faces[d]!
      const [lo, hi] = block.block.neighbours[d]!
      for (const [side, peer] of [[0, lo], [1, hi]] as const) {
        if (peer < 0) continue
        const send = side === 0 ? faces.sendLo : faces.sendHi
        const recv = side === 0 ? faces.recvLo : faces.recvHi
        const where = placement.local[peer]!
        if (where >= 0) {
          // My ghost on this side is the neighbour's face on the other side.
          const from = this.blocks[where]!
          copies.push({ to: block, dst: recv, from, src: side === 0 ? from.faces[d]!.sendHi : from.faces[d]!.sendLo })
          continue
        }
        const thread = placement.owner[peer]!
        // My face on side s lands in the neighbour's ghost on the other side.
        sends.push({ block, slab: send, peer: thread, tag: tag(peer, side === 0 ? 1 : 0), ...this.packFor(block, send) })
        receives.push({ block, slab: recv, peer: thread, tag: tag(block.block.rank, side), ...this.packFor(block, recv) })
      }
    }
    const refilled = this.blocks.filter((b) => b.refills[d]!.length > 0)
    return { dimension: d, sends, copies, receives, refilled }
  }

  /** Refreshes every ghost of the exchanged fields of every local block. */
  exchange(): void {
    if (!this.patient || !this.remote) return this.exchangeAll()
    // What this rank computed since its last exchange: the neighbours compute about as long.
    const now = performance.now()
    const spin = (this.ended === 0 ? PATIENCE_MS : Math.min(PATIENCE_MS, now - this.ended)) * this.share
    this.comm.spinFor(spin)
    try {
      this.exchangeAll()
    } finally {
      this.comm.spinFor(0)
    }
    this.ended = performance.now()
    // Under load a peer is often descheduled for longer than any spin: spin less until exchanges end in time again.
    this.share = this.ended - now > spin + SLEPT_MS ? Math.max(MIN_SHARE, this.share / 2) : Math.min(1, this.share * 2)
  }

  private exchangeAll(): void {
    const fields = this.fields
    for (let p = 0; p < this.perDim.length; p++) {
      const { dimension: d, sends, copies, receives, refilled } = this.perDim[p]!
      for (const s of sends) {
        let data: FieldArray
        if (s.pack === undefined) data = s.block.levels[fields[0]!]!.view(s.slab)
        else {
          for (let j = 0; j < fields.length; j++) {
            const level = s.block.levels[fields[j]!]!
            // A contiguous face (the slowest dimension) is one copy; a strided one, a gather by index.
            if (s.slab.at !== undefined) s.parts[j]!.set(level.view(s.slab))
            else gather(level.u, s.slab.index, s.parts[j]!)
          }
          data = s.pack
        }
        const request = this.comm.isend(data, s.peer, s.tag)
        if (!request.done) this.pending.push(request)
      }
      for (const c of copies) for (let j = 0; j < fields.length; j++) copySlab(c, fields[j]!)
      for (const r of receives) {
        if (r.pack === undefined) this.comm.recvInto(r.block.levels[fields[0]!]!.view(r.slab), r.peer, r.tag)
        else {
          this.comm.recvInto(r.pack, r.peer, r.tag)
          for (let j = 0; j < fields.length; j++) {
            const level = r.block.levels[fields[j]!]!
            if (r.slab.at !== undefined) level.view(r.slab).set(r.parts[j]!)
            else scatter(r.parts[j]!, r.slab.index, level.u)
          }
        }
      }
      while (this.pending.length > 0) this.pending.pop()!.wait()
      for (const block of refilled) for (let j = 0; j < fields.length; j++) for (const fill of block.refills[d]!) runFill(block.levels[fields[j]!]!.u, fill)
    }
  }
}

function copySlab({ to, dst, from, src }: LocalCopy, f: number): void {
  const into = to.levels[f]!
  const out = from.levels[f]!
  if (dst.at !== undefined && src.at !== undefined) {
    into.view(dst).set(out.view(src))
    return
  }
  const u = into.u
  const v = out.u
  const d = dst.index
  const s = src.index
  for (let k = 0; k < d.length; k++) u[d[k]!] = v[s[k]!]!
}

function gather(u: FieldArray, index: Int32Array, out: FieldArray): void {
  for (let k = 0; k < index.length; k++) out[k] = u[index[k]!]!
}

function scatter(data: FieldArray, index: Int32Array, u: FieldArray): void {
  for (let k = 0; k < index.length; k++) u[index[k]!] = data[k]!
}
