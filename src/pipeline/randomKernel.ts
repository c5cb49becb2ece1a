/**
 * The WebAssembly SIMD kernel behind `RandomStream`: four xoshiro256+ lanes
 * stepped in lockstep (two `i64x2` vectors per state word), each output turned
 * into a double in [0, 1) with 52 random bits, written interleaved
 * (`out[4k + l]` is lane `l`'s k-th output).
 *
 * The module is small enough to encode by hand: this file holds a tiny encoder
 * and the kernel written as instructions (the equivalent WebAssembly text is in
 * the comment on `kernelBody`). Nothing is compiled at import time; `random.ts`
 * compiles the bytes on first use.
 *
 * Memory layout (one 64 KiB page, never grown, so views of it stay valid):
 *   [0, 128)                 state: word w of lane l is the i64 at byte (4w + l) · 8
 *   [OUT_OFFSET, +BLOCK · 8) output doubles
 *
 * Layer: pipeline; imports nothing.
 */

/** Lanes stepped together; the stream interleaves them. */
export const LANES = 4
/** Byte offset of the output doubles in the kernel's memory. */
export const OUT_OFFSET = 128
/** Most doubles one kernel call writes (32 KiB). */
export const BLOCK = 4096

// --- a minimal WebAssembly binary encoder -----------------------------------

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))]

const I32 = 0x7f
const V128 = 0x7b

const get = (i: number): number[] => [0x20, ...uleb(i)]
const set = (i: number): number[] => [0x21, ...uleb(i)]
const i32Const = (v: number): number[] => [0x41, ...sleb(v)]
const I32_ADD = [0x6a]
const I32_SHL = [0x74]
const I32_GE_U = [0x4f]
const simd = (op: number, ...immediates: number[]): number[] => [0xfd, ...uleb(op), ...immediates]
/** v128.load / v128.store with 16-byte alignment at a constant offset. */
const v128Load = (offset: number): number[] => simd(0x00, 4, ...uleb(offset))
const v128Store = (offset: number): number[] => simd(0x0b, 4, ...uleb(offset))
/** v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000 (also f64x2 1.0 1.0). */
const V128_ONE = simd(0x0c, ...[0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f])
const V128_OR = simd(0x50)
const V128_XOR = simd(0x51)
const I64X2_SHL = simd(0xcb)
const I64X2_SHR_U = simd(0xcd)
const I64X2_ADD = simd(0xce)
const F64X2_SUB = simd(0xf1)

// Locals: param 0 = n (doubles to write, a multiple of 4, ≤ BLOCK); then
// p, end (i32); s[w][v] (v128, word w of vector v = lanes 2v, 2v+1); r[v], t[v]; one.
const N = 0
const P = 1
const END = 2
const S = (w: number, v: number): number => 3 + 2 * w + v
const R = (v: number): number => 11 + v
const T = (v: number): number => 13 + v
const ONE = 15

/**
 * The kernel `fill(n)`, in WebAssembly text:
 *
 * ```wat
 * (func (export "fill") (param $n i32)
 *   ;; load the state: $s<w>_<v> = v128.load offset=(2w+v)·16 (i32.const 0)
 *   (local.set $p (i32.const 128))
 *   (local.set $end (i32.add (i32.const 128) (i32.shl (local.get $n) (i32.const 3))))
 *   (block $done (loop $next
 *     (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
 *     ;; for v in 0, 1 — xoshiro256+ on lanes 2v, 2v+1:
 *     (local.set $r (i64x2.add $s0 $s3))
 *     (local.set $t (i64x2.shl $s1 17))
 *     $s2 ^= $s0;  $s3 ^= $s1;  $s1 ^= $s2;  $s0 ^= $s3;  $s2 ^= $t
 *     (local.set $s3 (v128.or (i64x2.shl $s3 45) (i64x2.shr_u $s3 19)))
 *     ;; the top 52 bits of r as the mantissa of a double in [1, 2), minus 1
 *     (v128.store offset=(16v) (local.get $p)
 *       (f64x2.sub (v128.or (i64x2.shr_u $r 12) $one) $one))
 *     (local.set $p (i32.add (local.get $p) (i32.const 32)))
 *     (br $next)))
 *   ;; store the state back
 * )
 * ```
 */
function kernelBody(): number[] {
  const code: number[] = []
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part)
  }
  const xorInto = (dst: number, src: number): void => emit(get(dst), get(src), V128_XOR, set(dst))
  emit(V128_ONE, set(ONE))
  for (let w = 0; w < 4; w++) for (let v = 0; v < 2; v++) emit(i32Const(0), v128Load((2 * w + v) * 16), set(S(w, v)))
  emit(i32Const(OUT_OFFSET), set(P))
  emit(i32Const(OUT_OFFSET), get(N), i32Const(3), I32_SHL, I32_ADD, set(END))
  emit([0x02, 0x40], [0x03, 0x40]) // block, loop
  emit(get(P), get(END), I32_GE_U, [0x0d, 1]) // br_if to the block's end
  for (let v = 0; v < 2; v++) {
    const [s0, s1, s2, s3] = [S(0, v), S(1, v), S(2, v), S(3, v)]
    emit(get(s0), get(s3), I64X2_ADD, set(R(v)))
    emit(get(s1), i32Const(17), I64X2_SHL, set(T(v)))
    xorInto(s2, s0)
    xorInto(s3, s1)
    xorInto(s1, s2)
    xorInto(s0, s3)
    xorInto(s2, T(v))
    emit(get(s3), i32Const(45), I64X2_SHL, get(s3), i32Const(19), I64X2_SHR_U, V128_OR, set(s3))
    emit(get(P), get(R(v)), i32Const(12), I64X2_SHR_U, get(ONE), V128_OR, get(ONE), F64X2_SUB, v128Store(16 * v))
  }
  emit(get(P), i32Const(32), I32_ADD, set(P))
  emit([0x0c, 0], [0x0b], [0x0b]) // br loop; end loop; end block
  for (let w = 0; w < 4; w++) for (let v = 0; v < 2; v++) emit(i32Const(0), get(S(w, v)), v128Store((2 * w + v) * 16))
  emit([0x0b]) // end function
  const locals = vec([
    [...uleb(2), I32],
    [...uleb(13), V128],
  ])
  return [...locals, ...code]
}

/**
 * The kernel module's bytes: exports `memory` (one page) and `fill(n: i32)`,
 * which advances the state at byte 0 by n/4 steps and writes n doubles at
 * `OUT_OFFSET`.
 */
export function kernelBytes(): Uint8Array {
  const body = kernelBody()
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32]]), ...vec([])]])), // type 0: (i32) -> ()
    ...section(3, vec([[0]])), // func 0 has type 0
    ...section(5, vec([[0x01, 1, 1]])), // memory 0: min 1, max 1 page
    ...section(7, vec([
      [...name("memory"), 0x02, 0],
      [...name("fill"), 0x00, 0],
    ])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ])
}
