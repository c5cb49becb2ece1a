import test from "ava"
import fc from "fast-check"
import { compactTag, mpiTagOf } from "../../src/transport/mpi.ts"

// The addon (native/mpi/mpi.c, `arrived`) unpacks a compact frame's header from its MPI tag as
// context = (tag >> 20) & 0x3ff, tag = (tag >> 5) & 0x7fff, kind = tag & 0x1f, with bit 30 set.
const unpack = (mpiTag: number): [number, number, number] => [(mpiTag >> 20) & 0x3ff, (mpiTag >> 5) & 0x7fff, mpiTag & 0x1f]

test("a compact frame's MPI tag holds its context, tag and kind, within MPI's tags and apart from every channel tag", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 0, max: 31 }), (context, tag, kind) => {
      const mpiTag = compactTag(context, tag, kind)
      return mpiTag > 0 && mpiTag <= 0x7fff_ffff && (mpiTag & (1 << 30)) !== 0 && unpack(mpiTag).join() === [context, tag, kind].join()
    }),
  )
  // Headered frames use the channel tags of up to 2^14 threads per process (and +1): bit 30 clear.
  t.is(mpiTagOf(16383, 16383, 16384) + 1 < 1 << 30, true)
})

test("a header that does not fit the MPI tag gets no compact tag (the frame then carries it)", (t) => {
  for (const [context, tag, kind] of [[1024, 0, 16], [0, 32768, 16], [0, -1, 16], [-2, 0, 16], [0, 0, 32], [5000, 2 ** 30 - 1, 24]] as const)
    t.is(compactTag(context, tag, kind), -1, `context ${context}, tag ${tag}, kind ${kind}`)
  t.is(compactTag(1023, 32767, 31), 0x7fff_ffff)
  t.is(compactTag(0, 0, 0), 1 << 30)
})
