/**
 * How `Pipeline.main` shows a program's result: any value readably — numbers
 * as they are (integers without decimals), typed arrays and numeric arrays
 * by type, length, extremes and a fingerprint, counting NaN and infinities,
 * objects field by field — as text lines, or as plain JSON for `--json`.
 *
 * Layer: pipeline (rank side: no Effect).
 */

type AnyTypedArray = ArrayBufferView & { readonly length: number }

const isTypedArray = (v: unknown): v is AnyTypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView)

/**
 * A 64-bit FNV-1a hash of an array's bytes, as 16 hex digits: equal
 * fingerprints mean bit-identical arrays (with overwhelming probability).
 *
 * @example
 * ```ts
 * import { fingerprint } from "rankflow"
 * console.log(fingerprint(new Float64Array([1, 2])) === fingerprint(Float64Array.of(1, 2))) // true
 * ```
 */
export function fingerprint(data: ArrayBufferView): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  let h1 = 0x811c9dc5
  let h2 = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193)
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995) ^ (h2 >>> 15)
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0")
}

/** Statistics of numeric values: extremes over the finite ones, and how many were NaN or infinite. */
export interface NumericSummary {
  readonly type: string
  readonly length: number
  /** Over the finite values; undefined when there is none. */
  readonly min: number | bigint | undefined
  readonly max: number | bigint | undefined
  readonly nan: number
  readonly positiveInfinity: number
  readonly negativeInfinity: number
  readonly fingerprint?: string
}

/** Extremes and special values of a typed array or an array of numbers. */
export function numericSummary(values: AnyTypedArray | ReadonlyArray<number>): NumericSummary {
  let min: number | bigint | undefined
  let max: number | bigint | undefined
  let nan = 0
  let positiveInfinity = 0
  let negativeInfinity = 0
  for (const v of values as ArrayLike<number | bigint> & Iterable<number | bigint>) {
    if (typeof v === "number") {
      if (Number.isNaN(v)) nan++
      else if (v === Infinity) positiveInfinity++
      else if (v === -Infinity) negativeInfinity++
      else {
        if (min === undefined || v < min) min = v
        if (max === undefined || v > max) max = v
      }
    } else {
      if (min === undefined || v < min) min = v
      if (max === undefined || v > max) max = v
    }
  }
  const type = isTypedArray(values) ? values.constructor.name : "Array"
  return { type, length: values.length, min, max, nan, positiveInfinity, negativeInfinity, ...(isTypedArray(values) ? { fingerprint: fingerprint(values) } : {}) }
}

/** A number for people: integers in full (`5`, not `5.00000`), others to `digits` significant digits, NaN and ±Infinity by name. */
export function formatNumber(v: number, digits?: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v) || digits === undefined) return String(v)
  return String(Number(v.toPrecision(digits)))
}

function numericLine(s: NumericSummary): string {
  const shown = (v: number | bigint | undefined): string => (typeof v === "number" ? formatNumber(v, 6) : String(v))
  const special = [s.nan > 0 ? `${s.nan} NaN` : "", s.positiveInfinity > 0 ? `${s.positiveInfinity} +Infinity` : "", s.negativeInfinity > 0 ? `${s.negativeInfinity} -Infinity` : ""].filter((x) => x !== "")
  const finite = s.length - s.nan - s.positiveInfinity - s.negativeInfinity
  const range = s.length === 0 ? "empty" : finite === 0 ? `no finite value` : `min ${shown(s.min)} max ${shown(s.max)}`
  return `${s.type}(${s.length}) ${range}${special.length > 0 ? `, ${special.join(", ")}` : ""}${s.fingerprint === undefined ? "" : ` fingerprint ${s.fingerprint}`}`
}

const isNumberArray = (v: ReadonlyArray<unknown>): v is ReadonlyArray<number> => v.length > 0 && v.every((x) => typeof x === "number")

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isTypedArray(v)
}

/** One value on one line (objects inline, shallowly). */
function inline(value: unknown, depth: number): string {
  if (typeof value === "number") return formatNumber(value)
  if (typeof value === "string") return depth === 0 ? value : JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (value === null || value === undefined || typeof value === "boolean") return String(value)
  if (isTypedArray(value)) return numericLine(numericSummary(value))
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return `${value.constructor.name}(${value.byteLength} bytes)`
  if (Array.isArray(value)) {
    const items = value as ReadonlyArray<unknown>
    if (items.length <= 8 && items.every((x) => typeof x !== "object" || x === null)) return `[${items.map((x) => inline(x, depth + 1)).join(", ")}]`
    if (isNumberArray(items)) return numericLine(numericSummary(items))
    const kinds = new Set(items.map((x) => (isTypedArray(x) ? `${x.constructor.name}(${x.length})` : Array.isArray(x) ? "Array" : x === null ? "null" : typeof x)))
    return `Array(${items.length}) of ${[...kinds].slice(0, 3).join(", ")}${kinds.size > 3 ? ", …" : ""}`
  }
  if (value instanceof Map) return `Map(${value.size})`
  if (value instanceof Set) return `Set(${value.size})`
  if (depth >= 2) return "{…}"
  const entries = Object.entries(value as object)
  if (entries.length === 0) return "{}" // e.g. gather()'s prev when no field keeps a previous level
  return `{ ${entries.slice(0, 8).map(([k, v]) => `${k}: ${inline(v, depth + 1)}`).join(", ")}${entries.length > 8 ? ", …" : ""} }`
}

/**
 * A result as text lines: a plain object field by field (`name: value`,
 * indented), anything else on one line.
 */
export function summarize(value: unknown): string {
  if (isPlainObject(value) && !(value instanceof Map) && !(value instanceof Set) && !(value instanceof ArrayBuffer) && !(value instanceof SharedArrayBuffer)) {
    const entries = Object.entries(value)
    if (entries.length === 0) return "{}"
    return entries.map(([k, v]) => `\n  ${k}: ${inline(v, 1)}`).join("")
  }
  return inline(value, 0)
}

/** JSON for a number: NaN and infinities (not JSON numbers) as their names. */
const jsonNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v))

/**
 * A result as plain JSON data (for `--json`): numbers as numbers (NaN and
 * ±Infinity as strings), typed arrays and long numeric arrays as their
 * `NumericSummary`, objects field by field, bigints as strings.
 */
export function describe(value: unknown, depth = 0): unknown {
  if (typeof value === "number") return jsonNumber(value)
  if (typeof value === "bigint") return String(value)
  if (value === undefined) return null
  if (value === null || typeof value === "boolean" || typeof value === "string") return value
  if (isTypedArray(value) || (Array.isArray(value) && value.length > 8 && isNumberArray(value))) {
    const s = numericSummary(value as AnyTypedArray)
    return { ...s, min: typeof s.min === "bigint" ? String(s.min) : (s.min ?? null), max: typeof s.max === "bigint" ? String(s.max) : (s.max ?? null) }
  }
  if (Array.isArray(value)) return value.length <= 8 || depth > 0 ? (value.length <= 8 ? value.map((x) => describe(x, depth + 1)) : { type: "Array", length: value.length }) : { type: "Array", length: value.length, first: value.slice(0, 8).map((x) => describe(x, depth + 1)) }
  if (value instanceof Map || value instanceof Set) return { type: value.constructor.name, size: value.size }
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return { type: value.constructor.name, byteLength: value.byteLength }
  if (depth >= 4) return "{…}"
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, describe(v, depth + 1)]))
}
