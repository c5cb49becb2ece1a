// Shared-memory windows: comm.alloc and the allreduce that reads the other
// ranks' blocks in place — bit-identical to the transport path for every
// built-in op (NaN and signed zeros included), in place and not, on 1–5
// ranks and uneven lengths; misuse fails with a clear error.
import test from "ava"
import { onRanks } from "../helpers.ts"

for (const ranks of [1, 2, 3, 4, 5, 8])
  for (const length of [1, 1001, 70_000]) {
    test(`windowed allreduce equals the transport's, bit for bit, for SUM, PROD, MAX, MIN (${ranks} ranks, ${length} doubles)`, async (t) => {
      const results = await onRanks<{ out: Record<string, { windowed: string; inPlace: string; transport: string }>; shared: boolean }>(ranks, "windows.ts", "compare", { length })
      for (const [rank, r] of results.entries()) {
        t.true(r.shared, "alloc returns views of shared memory")
        for (const [op, { windowed, inPlace, transport }] of Object.entries(r.out)) {
          t.true(windowed === transport, `${op} on rank ${rank}`)
          t.true(inPlace === transport, `${op} in place on rank ${rank}`)
          t.true(windowed === results[0]!.out[op]!.windowed, `${op}: rank ${rank} agrees with rank 0`)
        }
      }
    })
  }

test("ranks passing different windows fail with both calls named, not a wrong sum", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "windows.ts", "mismatchedWindows"))
  t.regex(error!.message, /every rank must pass the same windows/)
})

test("alloc with different lengths on different ranks fails, naming rank 0's", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "windows.ts", "mismatchedLength"))
  t.regex(error!.message, /alloc: length = 2000 differs from rank 0's \(1000 elements after rounding\)/)
})

test("alloc beyond the shared heap fails with its size and the variable that sets it", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "windows.ts", "tooLarge"))
  t.regex(error!.message, /does not fit the shared heap of 256 MiB \(RANKFLOW_SHARED_HEAP_MIB\)/)
})

for (const ranks of [1, 2, 3, 8])
  test(`fetchAndAdd deals every ticket of a shared counter exactly once (${ranks} ranks), and refuses what is not a window`, async (t) => {
    const target = ranks - 1
    const results = await onRanks<{ mine: number[]; final: number; errors: string[] }>(ranks, "windows.ts", "tickets", { tickets: 2000, target })
    const all = results.flatMap((r) => r.mine).sort((a, b) => a - b)
    t.deepEqual(all, Array.from({ length: 2000 * ranks }, (_, i) => i))
    for (const r of results) t.true(r.mine.every((v, i) => i === 0 || v > r.mine[i - 1]!)) // each rank's tickets grow
    t.is(results[target]!.final, 2000 * ranks)
    t.deepEqual(results[0]!.errors, [
      "fetchAndAdd: window = Int32Array must be an Int32Array from this communicator's alloc",
      "fetchAndAdd: window = Float64Array must be an Int32Array from this communicator's alloc",
      `fetchAndAdd: target = ${ranks} must be a rank in [0, ${ranks})`,
      "fetchAndAdd: index = 4 must be an index of the window's 4 elements",
    ])
  })
