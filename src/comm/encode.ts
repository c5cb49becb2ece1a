/**
 * A light encoding for small serialized messages: plain objects, dense
 * arrays, strings, numbers, booleans, null, undefined and numeric typed
 * arrays, written straight into a reused buffer — no allocation to send,
 * none to receive but the value itself. It is several times cheaper than
 * v8 serialize / deserialize on the values small messages carry (a record,
 * a tuple, a string, an object holding a few bytes).
 *
 * The result is exactly what v8 serialize / deserialize would give for the
 * values it takes (same property order, -0, NaN, lone surrogates; getters
 * are called — twice when a later part of the value sends it to v8 after all). Everything else — Map, Set, Date, RegExp, Error, BigInt,
 * Buffer, DataView, class instances, sparse arrays or arrays with named
 * properties, an object reached twice (shared or cyclic), a `__proto__`
 * key, nesting deeper than 64 or an encoding past the size limit — makes
 * `encode` return -1, and the caller falls back to v8 serialize.
 *
 * Encoded messages start with `PACKED_FORMAT`; v8's start with its version
 * tag 0xFF, so a receiver tells them apart by the first byte and both travel
 * as the same serialized kind.
 *
 * Layer: comm. Imports nothing.
 */

/** First byte of an encoded message (v8 serialize's first byte is 0xFF). */
export const PACKED_FORMAT = 0x52

const T_UNDEFINED = 0
const T_NULL = 1
const T_FALSE = 2
const T_TRUE = 3
const T_INT32 = 4
const T_DOUBLE = 5
const T_STRING1 = 6 // one-byte string: u32 length, latin-1 code units
const T_STRING2 = 7 // two-byte string: u32 length, UTF-16LE code units (lone surrogates kept)
const T_ARRAY = 8 // u32 length, elements
const T_OBJECT = 9 // u32 count, (key string, value) pairs
const T_TYPED = 10 // u8 type, u32 byte length, bytes

/** Typed-array types the encoding carries (exact constructors: subclasses such as Buffer go to v8). */
const TYPED = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const
type TypedCtor = (typeof TYPED)[number]

const MAX_DEPTH = 64
/** Containers (objects, arrays, typed arrays) per message; more go to v8, whose identity map is then worth it. */
const MAX_CONTAINERS = 256
/** Strings up to this length are written with a plain loop, longer ones by Buffer.write. */
const LOOP_STRING = 32

/** Encodes values into one reused buffer. One per engine (not shared between threads). */
export class Encoder {
  /** The encoded message is `bytes[0, n)` after `encode` returned n. */
  readonly bytes: Buffer
  private readonly limit: number
  private pos = 0
  private readonly seen: object[] = []
  private seenCount = 0
  private readonly number = new Float64Array(1)
  private readonly numberBytes = new Uint8Array(this.number.buffer)

  /** `limit`: the largest encoding it produces, in bytes (larger values go to v8). */
  constructor(limit: number) {
    this.limit = limit
    this.bytes = Buffer.allocUnsafeSlow(limit)
  }

  /** Encodes `value` into `bytes`: the byte length, or -1 when the value is not one this encoding takes. */
  encode(value: unknown): number {
    this.pos = 0
    this.seenCount = 0
    this.bytes[this.pos++] = PACKED_FORMAT
    const ok = this.value(value, 0)
    // Drop the references to the caller's objects (the array is kept for the next message).
    for (let i = 0; i < this.seenCount; i++) this.seen[i] = null as never
    return ok ? this.pos : -1
  }

  private room(n: number): boolean {
    return this.pos + n <= this.limit
  }

  private value(v: unknown, depth: number): boolean {
    if (!this.room(1)) return false
    const b = this.bytes
    switch (typeof v) {
      case "number":
        return this.numberValue(v)
      case "string":
        return this.string(v)
      case "boolean":
        b[this.pos++] = v ? T_TRUE : T_FALSE
        return true
      case "undefined":
        b[this.pos++] = T_UNDEFINED
        return true
      case "object":
        if (v === null) {
          b[this.pos++] = T_NULL
          return true
        }
        if (depth >= MAX_DEPTH || !this.firstVisit(v)) return false
        return this.objectValue(v, depth)
      default:
        return false // bigint, symbol, function
    }
  }

  private numberValue(v: number): boolean {
    const b = this.bytes
    if ((v | 0) === v && !(v === 0 && 1 / v < 0)) {
      if (!this.room(5)) return false
      b[this.pos] = T_INT32
      b[this.pos + 1] = v
      b[this.pos + 2] = v >> 8
      b[this.pos + 3] = v >> 16
      b[this.pos + 4] = v >> 24
      this.pos += 5
      return true
    }
    if (!this.room(9)) return false
    b[this.pos++] = T_DOUBLE
    this.number[0] = v
    const n = this.numberBytes
    for (let k = 0; k < 8; k++) b[this.pos + k] = n[k] as number
    this.pos += 8
    return true
  }

  private uint32(n: number): void {
    const b = this.bytes
    b[this.pos] = n
    b[this.pos + 1] = n >>> 8
    b[this.pos + 2] = n >>> 16
    b[this.pos + 3] = n >>> 24
    this.pos += 4
  }

  private string(s: string): boolean {
    const length = s.length
    if (!this.room(5 + length)) return false
    const b = this.bytes
    const start = this.pos
    b[this.pos++] = T_STRING1
    this.uint32(length)
    if (length <= LOOP_STRING) {
      for (let k = 0; k < length; k++) {
        const c = s.charCodeAt(k)
        if (c > 255) return this.twoByteString(s, start)
        b[this.pos + k] = c
      }
      this.pos += length
      return true
    }
    for (let k = 0; k < length; k++) if (s.charCodeAt(k) > 255) return this.twoByteString(s, start)
    this.pos += b.write(s, this.pos, length, "latin1")
    return true
  }

  private twoByteString(s: string, start: number): boolean {
    this.pos = start
    if (!this.room(5 + 2 * s.length)) return false
    this.bytes[this.pos++] = T_STRING2
    this.uint32(s.length)
    this.pos += this.bytes.write(s, this.pos, 2 * s.length, "utf16le")
    return true
  }

  /** False when `o` was met before in this message (shared or cyclic: v8 keeps the identity, so v8 encodes it). */
  private firstVisit(o: object): boolean {
    const seen = this.seen
    for (let i = 0; i < this.seenCount; i++) if (seen[i] === o) return false
    if (this.seenCount === MAX_CONTAINERS) return false
    seen[this.seenCount++] = o
    return true
  }

  private objectValue(o: object, depth: number): boolean {
    const proto = Object.getPrototypeOf(o)
    if (proto === Array.prototype) return this.array(o as unknown[], depth)
    if (proto === Object.prototype || proto === null) return this.plainObject(o as Record<string, unknown>, depth)
    const type = TYPED.indexOf(o.constructor as TypedCtor)
    return type >= 0 && proto === (TYPED[type] as TypedCtor).prototype && this.typed(o as InstanceType<TypedCtor>, type)
  }

  private array(a: unknown[], depth: number): boolean {
    const length = a.length
    if (!this.room(5)) return false
    // Holes or named properties: v8 keeps them, this encoding does not.
    if (Object.keys(a).length !== length) return false
    this.bytes[this.pos++] = T_ARRAY
    this.uint32(length)
    for (let i = 0; i < length; i++) if (!this.value(a[i], depth + 1)) return false
    return true
  }

  private plainObject(o: Record<string, unknown>, depth: number): boolean {
    if (!this.room(5)) return false
    this.bytes[this.pos++] = T_OBJECT
    const countAt = this.pos
    this.pos += 4
    let count = 0
    // for-in: own enumerable string keys in v8's order (the prototype is Object.prototype or null).
    for (const key in o) {
      if (key === "__proto__" || !Object.hasOwn(o, key) || !this.string(key) || !this.value(o[key], depth + 1)) return false
      count++
    }
    const end = this.pos
    this.pos = countAt
    this.uint32(count)
    this.pos = end
    return true
  }

  private typed(t: InstanceType<TypedCtor>, type: number): boolean {
    const length = t.byteLength
    if (!this.room(6 + length)) return false
    const b = this.bytes
    b[this.pos++] = T_TYPED
    b[this.pos++] = type
    this.uint32(length)
    const source = new Uint8Array(t.buffer, t.byteOffset, length)
    if (length <= 64) for (let k = 0; k < length; k++) b[this.pos + k] = source[k] as number
    else b.set(source, this.pos)
    this.pos += length
    return true
  }
}

/** Decodes messages made by `Encoder`. One per engine; `decode` is not reentrant. */
export class Decoder {
  private data: Buffer = Buffer.alloc(0)
  private pos = 0
  private readonly number = new Float64Array(1)
  private readonly numberBytes = new Uint8Array(this.number.buffer)

  /** The value encoded in `data[0, length)` (which starts with `PACKED_FORMAT`). */
  decode(data: Buffer, length: number): unknown {
    this.data = data
    this.pos = 1
    const value = this.value()
    if (this.pos !== length) throw new RangeError(`packed message of ${length} bytes decoded ${this.pos}`)
    return value
  }

  private uint32(): number {
    const b = this.data
    const p = this.pos
    this.pos += 4
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0
  }

  private value(): unknown {
    const b = this.data
    switch (b[this.pos++]) {
      case T_UNDEFINED:
        return undefined
      case T_NULL:
        return null
      case T_FALSE:
        return false
      case T_TRUE:
        return true
      case T_INT32:
        return this.uint32() | 0
      case T_DOUBLE: {
        const n = this.numberBytes
        for (let k = 0; k < 8; k++) n[k] = b[this.pos + k] as number
        this.pos += 8
        return this.number[0]
      }
      case T_STRING1:
        return this.latin1(this.uint32())
      case T_STRING2: {
        const length = this.uint32()
        const s = b.toString("utf16le", this.pos, this.pos + 2 * length)
        this.pos += 2 * length
        return s
      }
      case T_ARRAY: {
        const length = this.uint32()
        const a = new Array<unknown>(length)
        for (let i = 0; i < length; i++) a[i] = this.value()
        return a
      }
      case T_OBJECT: {
        const count = this.uint32()
        const o: Record<string, unknown> = {}
        for (let i = 0; i < count; i++) {
          const key = this.value() as string
          o[key] = this.value()
        }
        return o
      }
      case T_TYPED: {
        const C = TYPED[b[this.pos++] as number] as TypedCtor
        const length = this.uint32()
        const t = new C(length / C.BYTES_PER_ELEMENT)
        const into = new Uint8Array(t.buffer)
        if (length <= 64) for (let k = 0; k < length; k++) into[k] = b[this.pos + k] as number
        else into.set(b.subarray(this.pos, this.pos + length))
        this.pos += length
        return t
      }
      default:
        throw new RangeError(`packed message: unknown tag ${b[this.pos - 1]} at byte ${this.pos - 1}`)
    }
  }

  private latin1(length: number): string {
    const b = this.data
    const p = this.pos
    this.pos += length
    if (length > LOOP_STRING) return b.toString("latin1", p, p + length)
    let s = ""
    for (let k = 0; k < length; k++) s += String.fromCharCode(b[p + k] as number)
    return s
  }
}
