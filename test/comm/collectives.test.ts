import test from "ava"
import { blockRange, RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"

const RANKS = [1, 2, 3, 4, 5, 8]
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

for (const ranks of RANKS) {
  for (const n of [10, 1003, 3]) {
    test(`bcast, scatter(v), gather(v), allgather(v), alltoall(v) against serial truth (${ranks} ranks, n = ${n})`, async (t) => {
      const results = await onRanks<Record<string, unknown>>(ranks, "collectives.ts", "moveData", n)
      const last = ranks - 1
      const mine = (r: number): number[] => range(r + 2).map((i) => r * 100 + i)
      const everyone = range(ranks).flatMap(mine)
      for (const [r, got] of results.entries()) {
        const [start, end] = blockRange(n, ranks, r)
        t.deepEqual(got, {
          bcastObject: { from: last, list: [1, 2, 3], when: new Date(7) },
          bcastTyped: [1.5, 2.5],
          bcastIntoOk: true,
          scatterArray: { r },
          scatterTyped: range(end - start).map((i) => start + i),
          scatterv: range(r + 1).map((i) => (r * (r + 1)) / 2 + i),
          gather: r === last ? range(ranks).map((k) => k * k) : null,
          gatherv: r === 0 ? everyone : [],
          allgather: range(ranks).map((k) => `r${k}`),
          allgatherv: everyone,
          alltoall: range(ranks).map((j) => `${j}->${r}`),
          alltoallv: { data: range(ranks).flatMap((j) => Array(r + 1).fill(j)), counts: Array(ranks).fill(r + 1) },
        }, `rank ${r}`)
      }
    })
  }

  test(`every reduction op on numbers, bigints, booleans, pairs, user monoids; reduce, scan, exscan (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "collectives.ts", "reductions")
    const rs = range(ranks)
    const last = ranks - 1
    const maxOf = Math.max(...rs.map((r) => (r * 3) % 4))
    for (const [r, got] of results.entries()) {
      t.deepEqual(got, {
        sum: (ranks * (ranks + 1)) / 2,
        prod: rs.reduce((p, k) => p * (k + 1), 1),
        max: Math.max(...rs.map((k) => (k * 7) % 5)),
        min: Math.min(...rs.map((k) => (k * 7) % 5)),
        land: 1,
        lor: 1,
        landBool: false,
        lorBool: true,
        band: rs.reduce((a, k) => a & (0b1111 ^ (1 << k % 4)), -1),
        bor: rs.reduce((a, k) => a | (1 << k), 0),
        bigint: String(rs.reduce((a, k) => a + BigInt(k) * 10n ** 20n, 0n)),
        maxloc: { value: maxOf, index: rs.find((k) => (k * 3) % 4 === maxOf) },
        minloc: { value: 0, index: 0 },
        maxlocPairs: ranks === 1 ? [0, 0, 0, 0] : [1, 1, 0, 0],
        struct: { sum: rs.reduce((a, k) => a + k * 1.5, 0), count: ranks },
        concat: rs.map((k) => String.fromCharCode(97 + k)).join(""),
        reduceAtLast: r === last ? (ranks * (ranks + 1)) / 2 : null,
        reduceConcatAt1: r === 1 % ranks ? rs.map((k) => String.fromCharCode(97 + k)).join("") : null,
        scan: rs.slice(0, r + 1).map((k) => String.fromCharCode(97 + k)).join(""),
        exscan: r === 0 ? null : (r * (r + 1)) / 2,
        scanTyped: [(r * (r + 1)) / 2, r + 1],
        exscanTyped: r === 0 ? [] : [(r * (r - 1)) / 2, r],
      }, `rank ${r}`)
    }
  })

  test(`typed-array allreduce of every element type with SUM, MAX, MIN, BOR (${ranks} ranks)`, async (t) => {
    const n = 37
    const results = await onRanks<Record<string, number[]>>(ranks, "collectives.ts", "typedReductions", n)
    const column = (i: number): number[] => range(ranks).map((r) => (r + i) % 7)
    const expected = { SUM: (c: number[]) => c.reduce((a, b) => a + b, 0), MAX: (c: number[]) => Math.max(...c), MIN: (c: number[]) => Math.min(...c), BOR: (c: number[]) => c.reduce((a, b) => a | b, 0) }
    for (const got of results) {
      t.is(Object.keys(got).length, 11 * 4 - 2)
      for (const [key, values] of Object.entries(got)) {
        const op = key.split(" ")[1] as keyof typeof expected
        t.deepEqual(values, range(n).map((i) => expected[op](column(i))), key)
      }
    }
  })

  test(`nonblocking ibarrier, ibcast, iallreduce complete alongside point-to-point (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "collectives.ts", "nonblocking")
    const total = (ranks * (ranks + 1)) / 2
    for (const [r, got] of results.entries())
      t.deepEqual(got, { fromLeft: (r - 1 + ranks) % ranks, bcast: { hello: "nonblocking" }, sum: total, bigFirst: total, bigLast: total, testDone: true })
  })
}

for (const ranks of [2, 3, 4, 5, 8]) {
  for (const n of [1, 1000, 1 << 20]) {
    test(`allreduce of ${n} doubles: exact on integers, bit-identical across ranks and runs (${ranks} ranks)`, async (t) => {
      const { values } = await import("../fixtures/collectives.ts")
      let exact = 0
      for (let r = 0; r < ranks; r++) for (const v of values(r, n, true)) exact += v
      const ints = await onRanks<{ sum: number; agree: boolean }>(ranks, "collectives.ts", "allreduceBits", { n, integers: true })
      for (const got of ints) t.like(got, { sum: exact, agree: true })
      const first = await onRanks<{ hash: string; agree: boolean }>(ranks, "collectives.ts", "allreduceBits", { n, integers: false })
      const second = await onRanks<{ hash: string; agree: boolean }>(ranks, "collectives.ts", "allreduceBits", { n, integers: false })
      t.true(first.every((g) => g.agree))
      t.deepEqual(first.map((g) => g.hash), second.map((g) => g.hash))
    })
  }
}

test("ranks calling different collectives fail with CollectiveMismatch naming both calls", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "collectives.ts", "mismatchedCalls", "op"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "CollectiveMismatch")
  t.regex(error!.failures[0]!.message, /collective mismatch: this rank called \w+ \(root 0, collective #\d\) but rank \d called \w+ \(root 0, collective #\d\)/)
  t.regex(error!.failures[0]!.message, /reduce|bcast/)
})

test("different roots are caught, at the latest when the program ends", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "collectives.ts", "mismatchedCalls", "root"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "CollectiveMismatch")
  t.regex(error!.failures[0]!.message, /bcast \(root [01], collective #0\)/)
})

test("incompatible sizes in allreduce are caught with both sizes named", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "collectives.ts", "mismatchedCalls", "size"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "CollectiveMismatch")
  t.regex(error!.failures[0]!.message, /in allreduce \(root 0, collective #0\): (this rank contributes Float64Array\(\d+\), rank \d contributes Float64Array\(\d+\)|rank \d sent \d+ bytes, this rank expects \d+)/)
})

test("bad collective arguments every rank sees are rejected with InvalidArgument before the call starts", async (t) => {
  const [messages] = await onRanks<string[]>(3, "collectives.ts", "badCollectiveArguments")
  t.deepEqual(messages, [
    "bcast: root = 3 must be a rank in [0, 3)",
    "allreduce: op = undefined must be a reduction op (SUM, MAX, …) or an fp-ts Semigroup/Monoid",
    "reduce: root = -1 must be a rank in [0, 3)",
  ])
})

test("bad arguments only the root sees fail the run with the root's InvalidArgument", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "collectives.ts", "badScatterRoot"), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 0, name: "InvalidArgument", message: "scatterv: counts = [1, 1] must be 3 non-negative integers" })
})

test("a send blocked on a full ring while a nonblocking collective advances sends every value intact", async (t) => {
  t.deepEqual(await onRanks<boolean>(4, "collectives.ts", "sendsWhileCollectiveProgresses", 60_000), [true, true, true, true])
})
