// One suite, two transports: the communicator's own test fixtures (test/fixtures/p2p.ts,
// collectives.ts, topology.ts, windows.ts, …) run on MPI processes under mpirun and on worker
// threads, and every rank's result must be the same on both — values, types, bits of float
// reductions, errors refused with their messages. test/comm/*.test.ts asserts what those results
// must be on threads; this file asserts that MPI gives exactly those.
import test from "ava"
import { type FixtureCall, onMpiRanks, onThreadRanks, requireMpirun } from "./mpirun.ts"

const values: unknown[] = [
  42,
  -0.5,
  "a string",
  "",
  true,
  null,
  [1, "two", { three: 3 }],
  new Map<unknown, unknown>([[1, "one"], ["set", new Set([1, 2])]]),
  new Date(1234567890),
  10n ** 30n,
  Uint8Array.of(1, 2, 3).buffer,
  new DataView(Uint8Array.of(9, 8, 7, 6).buffer, 1, 2),
  Int8Array.of(-128, 127),
  Uint16Array.of(65535),
  Int32Array.of(-(2 ** 31)),
  Float32Array.of(1.5, -0, Infinity),
  Float64Array.of(Math.PI, NaN, -1e308),
  BigInt64Array.of(-(2n ** 63n)),
  new Float64Array(0),
]

/** Deterministic calls: the same results on every transport, rank by rank. */
const CALLS: FixtureCall[] = [
  // First: the job's first allreduce happens while other ranks wait on a nonblocking one.
  ["collectives.ts", "allreduceOverNonblocking"],
  ["p2p.ts", "echoTypes", values],
  ["p2p.ts", "allToAllValue", { a: [1, 2, 3], b: "x".repeat(50_000) }],
  ["p2p.ts", "ringShift", 10],
  ["p2p.ts", "ringShift", 300_000],
  ["p2p.ts", "recvIntoEveryType", 1000],
  ["p2p.ts", "recvIntoEveryType", 70_000],
  ["p2p.ts", "anySourceOrder", 200],
  ["p2p.ts", "probeThenReceive"],
  // Payloads of up to 8 bytes travel with their header in the MPI tag: mixed on one link with every other shape.
  ["p2p.ts", "frameShapes", 300],
  // A receive that waits is armed in the addon (the message copied into the buffer in C): the same results and refusals.
  ["p2p.ts", "armedReceives", 2000],
  ["collectives.ts", "moveData", 10],
  ["collectives.ts", "moveData", 1003],
  ["collectives.ts", "reductions"],
  ["collectives.ts", "typedReductions", 1000],
  ["collectives.ts", "typedReductions", 20_000],
  ["collectives.ts", "allreduceBits", { n: 100_000, integers: false }],
  ["collectives.ts", "allreduceBits", { n: 1 << 20, integers: true }],
  // Allreduces through MPI_Allgather + a local fold (one rank per process): the engine's bits, on world, dup and split.
  ["collectives.ts", "nativeAllreduceBits"],
  ["collectives.ts", "nonblocking"],
  ["collectives.ts", "badCollectiveArguments"],
  ["collectives.ts", "bcastEveryRoot"],
  ["topology.ts", "splitParity"],
  ["topology.ts", "dupIsolates"],
  ["topology.ts", "grid"],
  ["reduceInputs.ts", "refusedEverywhere"],
  // mpi4py's further vocabulary (issue 14): the same on both transports.
  ["vocabulary.ts", "synchronousRing"],
  ["vocabulary.ts", "anyAndSome"],
  ["vocabulary.ts", "persistentRounds"],
  ["vocabulary.ts", "collectivesAndSelf"],
  ["vocabulary.ts", "pool"],
  // Windowed allreduces read other ranks' blocks in place on threads, go by message across MPI processes: the same bits.
  ["windows.ts", "compare", { length: 1000 }],
]

/** Calls written for one rank count (as test/comm runs them). */
const ONLY_ON: Record<number, FixtureCall[]> = {
  2: [
    ["p2p.ts", "tagMatching"],
    ["p2p.ts", "simultaneousLargeSends", 8 * 1024 * 1024],
  ],
  3: [["p2p.ts", "badCalls"]],
  4: [],
}

/** [MPI processes, rank threads per process]: one rank per process, and hybrid (2 × 2 = 4 ranks). */
const LAYOUTS: ReadonlyArray<readonly [number, number]> = [
  [2, 1],
  [3, 1],
  [4, 1],
  [2, 2],
]

for (const [processes, perProcess] of LAYOUTS) {
  const ranks = processes * perProcess
  const layout = perProcess === 1 ? `${ranks} MPI processes` : `${processes} MPI processes × ${perProcess} threads (hybrid)`
  test(`the communicator's fixtures give the same results on ${layout} as on ${ranks} threads`, async (t) => {
    if (!requireMpirun(t)) return
    const calls = [...CALLS, ...ONLY_ON[ranks]!]
    const onMpi = await onMpiRanks(processes, calls, perProcess)
    const onThreads = await onThreadRanks(ranks, calls)
    t.is(onMpi.length, calls.length)
    for (let i = 0; i < calls.length; i++) {
      const [fixture, name] = calls[i]!
      t.deepEqual(onMpi[i], onThreads[i], `${fixture} ${name} on ${ranks} ranks`)
    }
  })
}

test("fetchAndAdd on an MPI-3 RMA window deals every ticket exactly once across 3 processes, and across 2 processes × 2 threads", async (t) => {
  if (!requireMpirun(t)) return
  const tickets = 500
  for (const [processes, perProcess, target] of [[3, 1, 0], [3, 1, 2], [2, 2, 1], [2, 2, 2]] as const) {
    const ranks = processes * perProcess
    const [results] = (await onMpiRanks(processes, [["windows.ts", "tickets", { tickets, target }]], perProcess)) as Array<Array<{ mine: number[]; final: number; errors: string[] }>>
    const all = results!.flatMap((r) => r.mine).sort((a, b) => a - b)
    t.deepEqual(all, Array.from({ length: ranks * tickets }, (_, i) => i), `target ${target}`)
    // The counter is the target's own element: the total there, untouched elsewhere.
    t.deepEqual(results!.map((r) => r.final), Array.from({ length: ranks }, (_, r) => (r === target ? ranks * tickets : 0)))
    // Foreign arrays, a Float64 window, a rank or an index out of range are refused on MPI too.
    t.true(results!.every((r) => r.errors.length === 4 && r.errors.every((e) => typeof e === "string" && /fetchAndAdd/.test(e))), JSON.stringify(results![0]!.errors))
  }
})
