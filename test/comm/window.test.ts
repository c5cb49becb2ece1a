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
