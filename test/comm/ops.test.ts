import { fileURLToPath } from "node:url"
import test from "ava"
import fc from "fast-check"
import { BAND, BOR, LAND, LOR, MAX, MIN, PROD, SUM } from "../../src/comm/ops.ts"
import { fixture, runProgram } from "../helpers.ts"

const NUMBER_TYPES = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array] as const
const BIGINT_TYPES = [BigInt64Array, BigUint64Array] as const
const OPS = [SUM, PROD, MAX, MIN, LAND, LOR, BAND, BOR] as const

// Each op compiles a loop per array type: a program reducing many types in turn must get each
// type's elementwise result, the number loop never running on bigints nor one type's loop on another.
test("every elementwise op on every array type, in any order, gives concat element by element", (t) => {
  const kase = fc.record({
    op: fc.constantFrom(...OPS),
    type: fc.constantFrom(...NUMBER_TYPES, ...BIGINT_TYPES),
    a: fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 40 }),
    otherIsLeft: fc.boolean(),
  })
  fc.assert(
    fc.property(kase, ({ op, type, a, otherIsLeft }) => {
      const big = type === BigInt64Array || type === BigUint64Array
      const convert = (x: number): never => (big ? BigInt(x) : x) as never
      const acc = new (type as new (n: number) => ArrayLike<unknown> & { [i: number]: unknown })(a.length)
      const other = new (type as new (n: number) => ArrayLike<unknown> & { [i: number]: unknown })(a.length)
      a.forEach((x, i) => {
        acc[i] = convert(x)
        other[i] = convert(3 - 2 * x)
      })
      const expected = new (type as new (n: number) => ArrayLike<unknown> & { [i: number]: unknown })(a.length)
      const concat = (big ? op.bigint.concat : op.concat) as (x: unknown, y: unknown) => unknown
      for (let i = 0; i < a.length; i++) expected[i] = otherIsLeft ? concat(other[i], acc[i]) : concat(acc[i], other[i])
      op.elementwise(acc as never, other as never, otherIsLeft)
      t.deepEqual([...Array.from(acc)], [...Array.from(expected)])
    }),
    { numRuns: 600 },
  )
})

test("a non-commutative fold order reaches the loop: otherIsLeft puts the other array first", (t) => {
  // MAX of -0 and +0 keeps whichever is on the left (a > b is false both ways).
  const acc = Float64Array.of(-0, 0)
  MAX.elementwise(acc, Float64Array.of(0, -0), true)
  t.true(Object.is(acc[0], 0) && Object.is(acc[1], -0))
  const acc2 = Float64Array.of(-0, 0)
  MAX.elementwise(acc2, Float64Array.of(0, -0), false)
  t.true(Object.is(acc2[0], -0) && Object.is(acc2[1], 0))
})

test("where code generation from strings is disabled, the ops fall back to a shared loop with the same results", async (t) => {
  const script = fileURLToPath(fixture("opsWithoutCodegen.ts"))
  const [plain, locked] = await Promise.all([
    runProgram(script, []),
    runProgram(script, [], undefined, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --disallow-code-generation-from-strings` }),
  ])
  t.is(plain.code, 0, plain.stderr)
  t.is(locked.code, 0, locked.stderr)
  const a = JSON.parse(plain.stdout) as { refused: boolean; results: Record<string, unknown[]> }
  const b = JSON.parse(locked.stdout) as { refused: boolean; results: Record<string, unknown[]> }
  t.false(a.refused)
  t.true(b.refused) // the fallback really ran
  t.deepEqual(b.results, a.results)
  t.deepEqual(a.results.Float64Array, [3, 7, 5, 4, 5, 4])
  t.deepEqual(a.results.BigInt64Array, ["11", "5"])
})
