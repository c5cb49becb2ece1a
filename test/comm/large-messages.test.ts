// Messages at and past 2 GiB: kept in a file of their own, as they need several GiB of memory.
import test from "ava"
import { onRanks } from "../helpers.ts"

test("a message of 2 GiB + 1 bytes arrives whole by recv and by recvInto: length, bytes at both ends, at 2³¹ − 1 and 2³¹, in the middle", async (t) => {
  t.timeout(5 * 60_000) // a generous bound against hangs: the copies themselves take a few seconds
  const bytes = 2 ** 31 + 1
  const [, got] = await onRanks<unknown>(2, "largeMessages.ts", "sendHuge", bytes)
  const whole = { length: bytes, marked: [1, 2, 3, 4, 5], zeros: [0, 0, 0, 0] }
  t.deepEqual(got, [whole, whole])
})

test("a message over 4 GiB − 1 bytes is refused with MessageTooLarge naming both sizes", async (t) => {
  const [got] = await onRanks<{ tag: string; bytes: number; limit: number; message: string } | null>(2, "largeMessages.ts", "sendOverLimit")
  t.like(got, { tag: "MessageTooLarge", bytes: 2 ** 32, limit: 2 ** 32 - 1 })
  t.regex(got!.message, /rank 0: .*4294967296 bytes.*4294967295 bytes/)
})
