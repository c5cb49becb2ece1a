// The hot path allocates nothing: kept in a file of its own so that the
// measured ranks do not compete with dozens of other test threads for the JIT.
import { constants } from "node:perf_hooks"
import test from "ava"
import { onRanks } from "../helpers.ts"

test("steady-state send/recvInto of a small array allocates nothing (2·10⁵ messages, < 0.1 byte each)", async (t) => {
  // The young generation's growth over the loop is what the loop allocated, as
  // long as no scavenge emptied it meanwhile. A stray scavenge (V8 may start one
  // for its own reasons) voids a measurement, so up to three are taken; code
  // that allocated even one small object per message (≥ 16 B: 3.2 MB here)
  // would fail all three. The loop measures 4–6 KB whatever its length (10⁵
  // or 10⁶ messages alike): a one-off cost, well under the 20 KB allowed. On
  // a loaded machine every round trip waits for the scheduler, so the length
  // is what the test's time is made of: 2·10⁵ messages, not 10⁶.
  const minor = String(constants.NODE_PERFORMANCE_GC_MINOR)
  const attempts: string[] = []
  for (let attempt = 0; attempt < 3; attempt++) {
    const results = await onRanks<{ gcs: string[]; allocated: number }>(2, "p2p.ts", "steadyStateAllocation", 100_000)
    attempts.push(results.map((r) => `${r.gcs.filter((k) => k === minor).length} scavenges, ${r.allocated} B`).join("; "))
    if (results.every((r) => !r.gcs.includes(minor) && r.allocated < 20_000)) return t.pass()
  }
  t.fail(`allocation seen in every attempt: ${attempts.join(" | ")}`)
})
