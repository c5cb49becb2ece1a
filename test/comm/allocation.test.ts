// The hot path allocates nothing: kept in a file of its own so that the
// measured ranks do not compete with dozens of other test threads for the JIT.
import { constants } from "node:perf_hooks"
import test from "ava"
import { onRanks } from "../helpers.ts"

test("steady-state send/recvInto of a small array allocates nothing (no scavenge in 500k round trips)", async (t) => {
  // A scavenge (minor GC) runs when the young generation fills: ≥ 1 MiB of
  // allocation. 10⁶ messages allocating even one 8-byte number each would fill it
  // several times. (Major GCs may still appear: V8's memory reducer starts them
  // precisely when the allocation rate drops to zero.)
  const gcs = await onRanks<string[]>(2, "p2p.ts", "steadyStateGcs", 500_000)
  const minor = String(constants.NODE_PERFORMANCE_GC_MINOR)
  t.deepEqual(
    gcs.map((kinds) => kinds.filter((k) => k === minor)),
    [[], []],
  )
})
