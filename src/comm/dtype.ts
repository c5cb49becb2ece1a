/**
 * The buffer-vs-serialized decision and the dtype table. A value is sent as
 * raw bytes when it is a numeric typed array, an ArrayBuffer or a DataView
 * (the kind says which, so the receiver rebuilds the same type); anything else
 * is serialized with v8's structured serializer. One table, one generic path:
 * no per-dtype code anywhere else.
 *
 * Layer: comm.
 */
import type { TypedArray } from "../transport/ring.ts"

/** Frame kinds (0 is the transport's PAD). */
export const KIND_SERIALIZED = 1
export const KIND_ARRAYBUFFER = 2
export const KIND_DATAVIEW = 3
/** A JS number: 8 raw bytes instead of the v8 serializer (the serialized path's fast lane). */
export const KIND_NUMBER = 4
const KIND_TYPED_BASE = 16

type TypedArrayConstructor = {
  new (length: number): TypedArray
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray
  readonly BYTES_PER_ELEMENT: number
  readonly name: string
}

const TYPED: ReadonlyArray<TypedArrayConstructor> = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
]
const KIND_OF = new Map<unknown, number>(TYPED.map((C, i) => [C, KIND_TYPED_BASE + i]))

/**
 * The last two typed arrays `kindOf` was asked about, their kinds and byte lengths (per thread): a
 * send buffer and a receive buffer used again and again skip even the constructor lookup, and
 * `typedByteLength` skips the `byteLength` getter, which V8 11 (Node 20) never inlines (~20 ns
 * through its inline cache; an 8-byte ping-pong read it twice per message). Each length is the
 * `length` (one map: inlined) of a Uint8Array over the same bytes, which drops to 0 with the
 * array's own when the buffer is detached, the only way a fixed-length array over a buffer that
 * cannot resize changes length. Arrays over buffers above 1 MiB (that would keep them alive) or
 * over resizable ones (whose views may track their length) are not remembered.
 */
const NOTHING = {} // never a value sent: null and undefined must miss
const NO_BYTES: Uint8Array<ArrayBufferLike> = new Uint8Array(0)
/**
 * That memory, and the last typed-array constructor `kindOf` looked up with its kind (only exact
 * constructors are cached). Fields of one constant object rather than module `let`s: V8 11 checks
 * every read of a module `let` for the temporal dead zone, on the path of every message.
 */
const memo = {
  value0: NOTHING as unknown,
  kind0: 0,
  bytes0: NO_BYTES,
  value1: NOTHING as unknown,
  kind1: 0,
  bytes1: NO_BYTES,
  lastType: Uint8Array as unknown,
  lastKind: KIND_TYPED_BASE + 1,
}
const RECENT_BUFFER_BYTES = 1 << 20

/** Remembers typed array `value` of `kind` as the most recent one, unless it is empty (or detached: no view can be made) or its buffer is big or resizable. */
function remember(value: TypedArray, kind: number): void {
  const buffer = value.buffer as ArrayBufferLike & { readonly resizable?: boolean; readonly growable?: boolean }
  if (buffer.byteLength === 0 || buffer.byteLength > RECENT_BUFFER_BYTES || buffer.resizable === true || buffer.growable === true) return
  memo.value1 = memo.value0
  memo.kind1 = memo.kind0
  memo.bytes1 = memo.bytes0
  memo.value0 = value
  memo.kind0 = kind
  memo.bytes0 = new Uint8Array(buffer, value.byteOffset, value.byteLength)
}

/**
 * `value.byteLength` of a typed array, from `kindOf`'s memory of the last two when it holds it,
 * else from the getter.
 */
export function typedByteLength(value: TypedArray): number {
  if (value === memo.value0) return memo.bytes0.length
  if (value === memo.value1) return memo.bytes1.length
  return value.byteLength
}

/** The typed-array constructor of a kind, or undefined for non-typed kinds. */
export function typedConstructor(kind: number): TypedArrayConstructor | undefined {
  const i = kind - KIND_TYPED_BASE
  // Guarded: one negative index (a non-typed kind) would turn this load megamorphic for every caller.
  return i >= 0 && i < TYPED.length ? TYPED[i] : undefined
}

/**
 * The kind a value travels as. Typed-array subclasses (Node's Buffer) travel
 * as their base type; everything that is not raw bytes is serialized.
 */
export function kindOf(value: unknown): number {
  if (value === memo.value0) return memo.kind0
  if (value === memo.value1) return memo.kind1
  if (typeof value === "number") return KIND_NUMBER
  if (typeof value !== "object" || value === null) return KIND_SERIALIZED
  const kind = kindOfObject(value)
  if (kind >= KIND_TYPED_BASE) remember(value as TypedArray, kind)
  return kind
}

function kindOfObject(value: object): number {
  const type = value.constructor
  if (type === memo.lastType) return memo.lastKind // a run of messages of one type skips the Map
  const direct = KIND_OF.get(type)
  if (direct !== undefined) {
    memo.lastType = type
    memo.lastKind = direct
    return direct
  }
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return KIND_ARRAYBUFFER
  if (value instanceof DataView) return KIND_DATAVIEW
  for (let i = 0; i < TYPED.length; i++) if (value instanceof (TYPED[i] as TypedArrayConstructor)) return KIND_TYPED_BASE + i
  return KIND_SERIALIZED
}

/** True for values that arrive as objects (not typed buffers): serialized ones and numbers. */
export function isObjectKind(kind: number): boolean {
  return kind === KIND_SERIALIZED || kind === KIND_NUMBER
}

/** Human name of a kind, for errors and traces. */
export function kindName(kind: number): string {
  if (kind === KIND_SERIALIZED) return "serialized object"
  if (kind === KIND_NUMBER) return "number"
  if (kind === KIND_ARRAYBUFFER) return "ArrayBuffer"
  if (kind === KIND_DATAVIEW) return "DataView"
  return typedConstructor(kind)?.name ?? `kind ${kind}`
}

/** Rebuilds a received buffer value of `kind` over freshly received, exclusively owned bytes. */
export function bufferValue(kind: number, bytes: Uint8Array): ArrayBuffer | DataView | TypedArray {
  const buffer = bytes.buffer as ArrayBuffer
  if (kind === KIND_ARRAYBUFFER)
    return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
      ? buffer
      : buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  if (kind === KIND_DATAVIEW) return new DataView(buffer, bytes.byteOffset, bytes.byteLength)
  const C = typedConstructor(kind) as TypedArrayConstructor
  return new C(buffer, bytes.byteOffset, bytes.byteLength / C.BYTES_PER_ELEMENT)
}

/** Allocates an empty receive buffer for `bytes` payload bytes of `kind`, 8-byte aligned. */
export function allocateFor(kind: number, bytes: number): TypedArray {
  const C = typedConstructor(kind)
  return C === undefined ? new Uint8Array(bytes) : new C(bytes / C.BYTES_PER_ELEMENT)
}

/** A byte view of any raw-bytes value. */
export function bytesOf(value: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value)
}
