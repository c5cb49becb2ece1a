// Rank functions for bench/deadlock_report.ts: programs that deadlock (and one that does not, for start-up).
import type { Comm } from "rankflow"

/** Returns at once: the job's start-up and teardown, to subtract. */
export function none(): void {}

/** Both ranks receive first (the seed's pitfall). */
export function recvRecv(comm: Comm): void {
  comm.recv(comm.size - 1 - comm.rank, 1)
}

/** Both ranks ssend first: each waits for a receive the other never posts. */
export function ssendBoth(comm: Comm): void {
  comm.ssend(comm.rank, comm.size - 1 - comm.rank, 1)
}

/** Rank 0 waits for a message nobody sends, the others in a barrier rank 0 never reaches. */
export function collectiveVersusRecv(comm: Comm): void {
  if (comm.rank === 0) comm.recv(comm.size - 1, 9)
  comm.barrier()
}

/**
 * Not a deadlock: a nonblocking allreduce on 3 ranks whose user combine takes `ms`, run by rank 0
 * inside a blocking recv while ranks 1 and 2 wait for the result (as test/fixtures/deadlocks.ts).
 */
export function slowReduction(comm: Comm, ms: number): number {
  const slowSum = {
    concat: (a: number, b: number): number => {
      const start = Date.now()
      while (Date.now() - start < ms);
      return a + b
    },
  }
  const request = comm.iallreduce(comm.rank + 1, slowSum)
  if (comm.rank === 0) {
    comm.recv(1, 5)
    return request.wait()
  }
  const sum = request.wait()
  if (comm.rank === 1) comm.send(sum, 0, 5)
  return sum
}
