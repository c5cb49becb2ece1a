/**
 * A check that every rank called a pattern with the same shape: ranks that
 * disagree on the layout would wait on each other forever, so they fail at
 * once, naming the first rank that differs.
 *
 * Layer: patterns.
 */
import type { Comm } from "../comm/comm.ts"
import { InvalidArgument } from "../errors.ts"

/** Throws `InvalidArgument` on every rank unless all pass equal `values` (a collective call). */
export function agree(comm: Comm, op: string, what: string, values: ReadonlyArray<number>): void {
  const all = comm.allgather(values)
  const mine = values.join(", ")
  const other = all.findIndex((v) => v.join(", ") !== all[0]!.join(", "))
  if (other >= 0)
    throw new InvalidArgument(op, what, `[${mine}]`, `differs between ranks (rank 0: [${all[0]!.join(", ")}], rank ${other}: [${all[other]!.join(", ")}]): every rank must pass the same`)
}
