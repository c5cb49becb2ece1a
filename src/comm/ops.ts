/**
 * Reduction operations. Every op is an fp-ts Semigroup (most are Monoids):
 * `concat` combines two values, `empty` (when there is one) is the identity.
 * The built-ins — SUM, PROD, MAX, MIN, LAND, LOR, BAND, BOR on numbers,
 * bigints, booleans and typed arrays, MAXLOC/MINLOC on `{value, index}` pairs —
 * also carry a fast elementwise loop for typed arrays. Any user Semigroup or
 * Monoid works too (e.g. fp-ts `struct({ sum: MonoidSum, count: MonoidSum })`,
 * string concatenation).
 *
 * Laws: `concat` must be associative. rankflow never relies on
 * commutativity: it always combines in rank order (lower ranks on the left)
 * with a tree fixed by the rank count, so a non-commutative op (string
 * concat) gives the rank-ordered result, and floating-point results are
 * bit-identical from run to run.
 *
 * Layer: comm.
 */
import * as Bool from "fp-ts/lib/boolean.js"
import * as M from "fp-ts/lib/Monoid.js"
import * as N from "fp-ts/lib/number.js"
import type { Semigroup } from "fp-ts/lib/Semigroup.js"
import { ReduceTypeMismatch } from "../errors.ts"
import { native } from "../transport/native.ts"
import type { TypedArray } from "../transport/ring.ts"

/**
 * A built-in elementwise op: a Monoid on numbers that also reduces bigints,
 * booleans (LAND, LOR) and typed arrays element by element.
 */
export interface ElementwiseOp extends M.Monoid<number> {
  readonly _tag: "ElementwiseOp"
  /** The op's MPI name. */
  readonly name: "SUM" | "PROD" | "MAX" | "MIN" | "LAND" | "LOR" | "BAND" | "BOR"
  /** The same op on bigints. */
  readonly bigint: Semigroup<bigint>
  /**
   * `acc[i] = acc[i] ⊕ other[i]` for every i (arrays of one type and length);
   * with `otherIsLeft`, `acc[i] = other[i] ⊕ acc[i]` — results keep rank order
   * even where ⊕ is not bitwise commutative (MAX/MIN of ±0, NaN).
   */
  readonly elementwise: (acc: TypedArray, other: TypedArray, otherIsLeft?: boolean) => void
}

/** A value and where it came from, for MAXLOC / MINLOC. */
export interface Loc {
  /** The value compared. */
  readonly value: number
  /** Where it came from (a rank, an element index, …): the smaller one wins ties. */
  readonly index: number
}

/**
 * MAXLOC / MINLOC: a Monoid on `{value, index}`; ties go to the smaller index.
 * On a Float64Array of interleaved pairs [v0, i0, v1, i1, …] it works pair by pair.
 */
export interface LocOp extends M.Monoid<Loc> {
  readonly _tag: "LocOp"
  /** The op's MPI name. */
  readonly name: "MAXLOC" | "MINLOC"
  /** The op on Float64Arrays of interleaved `[value, index]` pairs, into `acc`; `otherIsLeft` as for `ElementwiseOp`. */
  readonly elementwise: (acc: Float64Array, other: Float64Array, otherIsLeft?: boolean) => void
}

export type { TypedArray }

/** Any op `reduce`/`allreduce`/`scan` accept. */
export type ReduceOp<T> = ElementwiseOp | LocOp | Semigroup<T>

// Elementwise loops: one compiled per op and array type, so that the element
// accesses of each loop see a single type. One loop shared by every type goes
// megamorphic in a program that reduces several (V8 then takes its runtime per
// element: ~70 ns per element against 3).
type Kernel2<V> = (a: V, b: V) => V
type Elementwise = (acc: TypedArray, other: TypedArray, otherIsLeft?: boolean) => void

const loopSource = (label: string): string => `return function elementwise(a, b, otherIsLeft) {
  // ${label}: distinct text per loop, or V8's compilation cache would hand back the one already compiled, feedback and all
  const n = a.length
  if (otherIsLeft) for (let i = 0; i < n; i++) a[i] = f(b[i], a[i])
  else for (let i = 0; i < n; i++) a[i] = f(a[i], b[i])
}`

/** A fresh copy of the loop over `f` (its own feedback), or a shared one where code generation is disabled. */
function loopOver<V>(f: Kernel2<V>, label: string): Elementwise {
  try {
    return new Function("f", loopSource(label))(f) as Elementwise
  } catch {
    return (acc, other, otherIsLeft = false) => {
      const a = acc as unknown as V[]
      const b = other as unknown as V[]
      const n = acc.length
      if (otherIsLeft) for (let i = 0; i < n; i++) a[i] = f(b[i]!, a[i]!)
      else for (let i = 0; i < n; i++) a[i] = f(a[i]!, b[i]!)
    }
  }
}

let loopsCompiled = 0

function elementwise(num: Kernel2<number>, big: Kernel2<bigint>): Elementwise {
  const loops = new Map<unknown, Elementwise>()
  // The last type's loop: a run of calls on one type skips the Map.
  let lastType: unknown = null
  let lastLoop: Elementwise | undefined
  return (acc, other, otherIsLeft = false) => {
    const type = acc.constructor
    if (type !== lastType) {
      lastLoop = loops.get(type)
      if (lastLoop === undefined) {
        const label = `loop ${loopsCompiled++}`
        lastLoop = acc instanceof BigInt64Array || acc instanceof BigUint64Array ? loopOver(big, label) : loopOver(num, label)
        loops.set(type, lastLoop)
      }
      lastType = type
    }
    lastLoop!(acc, other, otherIsLeft)
  }
}

/** Float64 arrays at least this long are combined by the native kernel when it is built. */
const NATIVE_MIN_LENGTH = 2048
const NATIVE_OPS: Partial<Record<ElementwiseOp["name"], number>> = { SUM: 0, PROD: 1, MAX: 2, MIN: 3 }

function op(
  name: ElementwiseOp["name"],
  monoid: M.Monoid<number>,
  big: Kernel2<bigint>,
  kernel: Elementwise = elementwise(monoid.concat, big),
): ElementwiseOp {
  const code = NATIVE_OPS[name]
  const combineTo = native?.combineTo
  // Large float64 reductions run the vectorised C loop: same IEEE results, several times faster.
  const fast =
    code === undefined || combineTo === undefined
      ? kernel
      : (acc: TypedArray, other: TypedArray, otherIsLeft = false): void => {
          if (acc instanceof Float64Array && acc.length >= NATIVE_MIN_LENGTH)
            combineTo(code, acc, 0, acc, 0, other, 0, acc.byteLength, otherIsLeft)
          else kernel(acc, other, otherIsLeft)
        }
  return { _tag: "ElementwiseOp", name, concat: monoid.concat, empty: monoid.empty, bigint: { concat: big }, elementwise: fast }
}

const truthy = (x: number): number => (x !== 0 ? 1 : 0)

/**
 * Sum (fp-ts `MonoidSum`). Floating-point sums are combined in rank order along a
 * fixed tree, so the result is the same on every rank and every run.
 *
 * @example
 * ```ts
 * import { init, MAX, SUM } from "rankflow"
 * const comm = await init()
 * console.log(comm.allreduce(comm.rank + 1, SUM), comm.allreduce(Float64Array.of(comm.rank, 1), MAX)) // size(size+1)/2, [size − 1, 1]
 * ```
 */
export const SUM: ElementwiseOp = op("SUM", N.MonoidSum, (a, b) => a + b)
/** Product (fp-ts `MonoidProduct`). */
export const PROD: ElementwiseOp = op("PROD", N.MonoidProduct, (a, b) => a * b)
/** Maximum (fp-ts `max(Bounded)`); identity −∞. */
export const MAX: ElementwiseOp = op("MAX", M.max(N.Bounded), (a, b) => (a > b ? a : b))
/** Minimum (fp-ts `min(Bounded)`); identity +∞. */
export const MIN: ElementwiseOp = op("MIN", M.min(N.Bounded), (a, b) => (a < b ? a : b))
/**
 * Logical and: 1 if both are non-zero, else 0 (booleans: fp-ts `MonoidAll`).
 *
 * @example
 * ```ts
 * import { init, LAND, LOR } from "rankflow"
 * const comm = await init()
 * const done = comm.rank !== 0 // every rank but 0 has converged
 * console.log(comm.allreduce(done, LAND), comm.allreduce(done, LOR)) // false true (on 2 or more ranks)
 * ```
 */
export const LAND: ElementwiseOp = op(
  "LAND",
  { concat: (a, b) => truthy(a) & truthy(b), empty: 1 },
  (a, b) => (a !== 0n && b !== 0n ? 1n : 0n),
)
/** Logical or: 1 if either is non-zero, else 0 (booleans: fp-ts `MonoidAny`). */
export const LOR: ElementwiseOp = op(
  "LOR",
  { concat: (a, b) => truthy(a) | truthy(b), empty: 0 },
  (a, b) => (a !== 0n || b !== 0n ? 1n : 0n),
)
/** Bitwise and of 32-bit integers (bigints: of any width). */
export const BAND: ElementwiseOp = op("BAND", { concat: (a, b) => a & b, empty: -1 }, (a, b) => a & b)
/** Bitwise or of 32-bit integers (bigints: of any width). */
export const BOR: ElementwiseOp = op("BOR", { concat: (a, b) => a | b, empty: 0 }, (a, b) => a | b)

function locOp(name: LocOp["name"], better: (a: number, b: number) => boolean, worst: number): LocOp {
  const pick = (a: Loc, b: Loc): Loc =>
    better(b.value, a.value) || (b.value === a.value && b.index < a.index) ? b : a
  return {
    _tag: "LocOp",
    name,
    concat: pick,
    empty: { value: worst, index: Number.MAX_SAFE_INTEGER },
    elementwise: (acc, other) => {
      for (let i = 0; i + 1 < acc.length; i += 2) {
        const v = other[i]!
        const a = acc[i]!
        if (better(v, a) || (v === a && other[i + 1]! < acc[i + 1]!)) {
          acc[i] = v
          acc[i + 1] = other[i + 1]!
        }
      }
    },
  }
}

/**
 * Maximum value and the (smallest) index where it occurs.
 *
 * @example
 * ```ts
 * import { init, MAXLOC, MINLOC } from "rankflow"
 * const comm = await init()
 * const energy = [5, 9, 2, 9][comm.rank % 4]!
 * const loc = { value: energy, index: comm.rank }
 * console.log(comm.allreduce(loc, MAXLOC), comm.allreduce(loc, MINLOC)) // on 2 ranks: { value: 9, index: 1 } { value: 5, index: 0 }
 * ```
 */
export const MAXLOC: LocOp = locOp("MAXLOC", (a, b) => a > b, -Infinity)
/** Minimum value and the (smallest) index where it occurs. */
export const MINLOC: LocOp = locOp("MINLOC", (a, b) => a < b, Infinity)

/** Booleans reduce with LAND / LOR as fp-ts `MonoidAll` / `MonoidAny`. */
const BOOLEAN: Partial<Record<ElementwiseOp["name"], Semigroup<boolean>>> = { LAND: Bool.MonoidAll, LOR: Bool.MonoidAny }

/**
 * An op for one-sided window updates only (`fetchAndOp`, `accumulate`), as
 * MPI allows REPLACE and NO_OP only there: `concat(old, value)` is the new
 * element. A Semigroup (associative) but no Monoid: neither has an identity.
 * Reductions refuse them.
 */
export interface WindowOp extends Semigroup<number> {
  readonly _tag: "WindowOp"
  /** The op's MPI name. */
  readonly name: "REPLACE" | "NO_OP"
}

/**
 * Replaces the target element by the value given (MPI_REPLACE): with
 * `fetchAndOp`, an atomic exchange; with `accumulate`, an atomic put.
 *
 * @example
 * ```ts
 * import { init, REPLACE } from "rankflow"
 * const comm = await init()
 * const slot = comm.alloc(Int32Array, 1)
 * comm.barrier()
 * const before = comm.fetchAndOp(slot, 0, 0, comm.rank + 1, REPLACE) // swap our number in
 * comm.barrier()
 * const all = comm.gather(before, 0)
 * if (all) console.log(all.length, "swaps; one rank saw the initial 0:", all.filter((v) => v === 0).length === 1)
 * ```
 */
export const REPLACE: WindowOp = { _tag: "WindowOp", name: "REPLACE", concat: (_old, value) => value }

/**
 * Leaves the target element as it is (MPI_NO_OP): `fetchAndOp` with it is an
 * atomic read of another rank's element.
 *
 * @example
 * ```ts
 * import { init, NO_OP, SUM } from "rankflow"
 * const comm = await init()
 * const counter = comm.alloc(Int32Array, 1)
 * comm.barrier()
 * comm.accumulate(counter, 0, 0, 1, SUM)
 * comm.barrier()
 * console.log(comm.fetchAndOp(counter, 0, 0, 0, NO_OP)) // the number of ranks
 * ```
 */
export const NO_OP: WindowOp = { _tag: "WindowOp", name: "NO_OP", concat: (old) => old }

/** True for REPLACE and NO_OP. */
export function isWindowOp(op: unknown): op is WindowOp {
  return (op as { _tag?: unknown } | null)?._tag === "WindowOp"
}

/** True for the built-in ops that have typed-array kernels. */
export function isBuiltin(op: unknown): op is ElementwiseOp | LocOp {
  const tag = (op as { _tag?: unknown })._tag
  return tag === "ElementwiseOp" || tag === "LocOp"
}

/**
 * Combines two values of one rank-ordered reduction: `left` comes from lower
 * ranks. Typed arrays are combined into `left` (which must be owned by the
 * caller); everything else returns a new value. A built-in op refuses values
 * it cannot reduce with `ReduceTypeMismatch` (`call` names the caller) — a
 * typeof or two per call, nothing per element.
 */
export function combine(op: ReduceOp<unknown>, left: unknown, right: unknown, call = "reduce"): unknown {
  if (!isBuiltin(op)) return (op as Semigroup<unknown>).concat(left, right)
  if (op._tag === "ElementwiseOp") {
    // Numbers first: the scalar allreduce is the hottest call.
    if (typeof left === "number" && typeof right === "number") return op.concat(left, right)
    if (typeof left === "bigint" && typeof right === "bigint") return op.bigint.concat(left, right)
    if (typeof left === "boolean" && typeof right === "boolean" && BOOLEAN[op.name] !== undefined)
      return BOOLEAN[op.name]!.concat(left, right)
  }
  if (isTypedArray(left) && isTypedArray(right) && rejects(op, left) === undefined) {
    ;(op.elementwise as Elementwise)(left, right)
    return left
  }
  if (op._tag === "LocOp" && isLoc(left) && isLoc(right)) return op.concat(left, right)
  const bad = rejects(op, left) === undefined ? right : left
  throw new ReduceTypeMismatch(-1, call, op.name, describeOperand(bad), rejects(op, bad) ?? `values of one kind on every rank, not ${describeOperand(left)} with ${describeOperand(right)}`)
}

const isTypedArray = (v: unknown): v is TypedArray => ArrayBuffer.isView(v) && !(v instanceof DataView)
const isLoc = (v: unknown): v is Loc =>
  typeof v === "object" && v !== null && typeof (v as Loc).value === "number" && typeof (v as Loc).index === "number"

const ACCEPTS: Record<ElementwiseOp["name"] | LocOp["name"], string> = {
  SUM: "numbers, bigints or typed arrays",
  PROD: "numbers, bigints or typed arrays",
  MAX: "numbers, bigints or typed arrays",
  MIN: "numbers, bigints or typed arrays",
  LAND: "booleans, numbers, bigints or typed arrays (non-zero is true)",
  LOR: "booleans, numbers, bigints or typed arrays (non-zero is true)",
  BAND: "numbers (as 32-bit integers), bigints or integer typed arrays",
  BOR: "numbers (as 32-bit integers), bigints or integer typed arrays",
  MAXLOC: "{ value, index } pairs of numbers, or a typed array of [value, index, value, index, …] (even length)",
  MINLOC: "{ value, index } pairs of numbers, or a typed array of [value, index, value, index, …] (even length)",
}

/**
 * Why the built-in `op` cannot reduce `value` (what it takes instead), or
 * undefined when it can. Costs a typeof or two — nothing per element — so it
 * runs on every call. Typed arrays must also agree in type and length across
 * ranks: the collectives check that when contributions meet.
 */
export function rejects(op: ElementwiseOp | LocOp, value: unknown): string | undefined {
  const type = typeof value
  if (op._tag === "ElementwiseOp") {
    if (type === "number" || type === "bigint") return undefined
    if (type === "boolean") return BOOLEAN[op.name] === undefined ? ACCEPTS[op.name] : undefined
    if (!isTypedArray(value)) return ACCEPTS[op.name]
    if ((op.name === "BAND" || op.name === "BOR") && (value instanceof Float64Array || value instanceof Float32Array)) return ACCEPTS[op.name]
    return undefined
  }
  if (isLoc(value)) return undefined
  if (isTypedArray(value) && !(value instanceof BigInt64Array || value instanceof BigUint64Array) && value.length % 2 === 0) return undefined
  return ACCEPTS[op.name]
}

/** A value's kind for error messages: "an Array of 2", "a string", "a Float32Array(3)", "an object (Map)". */
export function describeOperand(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return `an Array of ${value.length}`
  if (isTypedArray(value)) return `a ${value.constructor.name}(${value.length})`
  if (typeof value === "object") {
    const name = (value as object).constructor?.name
    return name === undefined || name === "Object" ? "an object" : `an object (${name})`
  }
  return /^[aeiou]/.test(typeof value) ? `an ${typeof value}` : `a ${typeof value}`
}

/** `left ⊕ owned` for a typed `owned` array, computed in place into `owned`. */
export function combineIntoRight(op: ElementwiseOp | LocOp, left: TypedArray, owned: TypedArray): TypedArray {
  ;(op.elementwise as Elementwise)(owned, left, true)
  return owned
}

/**
 * A byte-range combiner for receiving straight into an accumulator: when the
 * native kernels are built and `op` is SUM, PROD, MAX or MIN on doubles,
 * `(acc, accByteOffset, src, srcByteOffset, bytes)` combines incoming bytes
 * into `acc` (incoming on the left when `incomingIsLeft`). Undefined otherwise.
 */
export function streamingCombiner(
  op: ReduceOp<unknown>,
  acc: TypedArray,
  incomingIsLeft: boolean,
  /** When given, the other operand comes from here (same offsets as `acc`), and `acc` is only written. */
  mine?: TypedArray,
): ((acc: TypedArray, accByteOffset: number, src: TypedArray, srcByteOffset: number, bytes: number) => void) | undefined {
  const kernels = native
  const code = isBuiltin(op) && op._tag === "ElementwiseOp" ? NATIVE_OPS[op.name] : undefined
  if (kernels === undefined || code === undefined || !(acc instanceof Float64Array)) return undefined
  // In place (a = a op incoming) unless the other operand lives in `mine`.
  return (a, aOff, src, srcOff, bytes) => kernels.combineTo(code, a, aOff, mine ?? a, aOff, src, srcOff, bytes, incomingIsLeft)
}

/** The name of an op, for errors. */
export function opName(op: ReduceOp<unknown>): string {
  return isBuiltin(op) ? op.name : "user op"
}
