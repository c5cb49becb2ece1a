/**
 * What a receive or probe learned about a message (MPI_Status): who sent it,
 * with which tag, how large it is and how it travelled. Reusable: pass the
 * same Status to many calls to avoid allocating one per message.
 *
 * Layer: comm.
 */
import { isObjectKind, kindName, typedConstructor } from "./dtype.ts"

/**
 * The envelope of a received or probed message.
 *
 * @example
 * ```ts
 * import { Status } from "rankflow"
 * const status = new Status()
 * // const value = comm.recv(ANY_SOURCE, ANY_TAG, status); status.source, status.tag …
 * console.log(status.source) // -1 until a call fills it
 * ```
 */
export class Status {
  /** Rank the message came from (in the communicator it was received on). */
  source = -1
  /** Tag it was sent with. */
  tag = -1
  /** Payload size in bytes (serialized size for objects). */
  bytes = 0
  /** @internal frame kind, see `transport` */
  kind = 0
  /** True when the receive was cancelled before a message matched it (MPI_Test_cancelled); set by `Request.wait`/`test`, cleared by every other fill. */
  cancelled = false

  /**
   * `"buffer"` for typed arrays and ArrayBuffers sent as raw bytes,
   * `"serialized"` for everything else (numbers travel in a compact 8-byte form).
   */
  get transport(): "buffer" | "serialized" {
    return isObjectKind(this.kind) ? "serialized" : "buffer"
  }

  /** Element type of a buffer message (`"Float64Array"`, `"ArrayBuffer"`, …) or `"serialized object"`. */
  get type(): string {
    return kindName(this.kind)
  }

  /** Number of elements of a typed-array message (bytes for other kinds), like MPI_Get_count. */
  get count(): number {
    const C = typedConstructor(this.kind)
    return C === undefined ? this.bytes : this.bytes / C.BYTES_PER_ELEMENT
  }

  /** @internal */
  set(source: number, tag: number, bytes: number, kind: number): void {
    this.source = source
    this.tag = tag
    this.bytes = bytes
    this.kind = kind
    this.cancelled = false
  }
}
