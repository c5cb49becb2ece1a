// docs/mpi4py.md cannot drift from the API: every rankflow name its table
// uses exists (an export of the package, or a member of the communicator,
// Cartesian communicator, request, status or random stream it names), and the
// table covers the lecture's vocabulary and mpi4py's common calls.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import test from "ava"
import * as rankflow from "rankflow"
import { onRanks, ROOT } from "./helpers.ts"

const text = readFileSync(join(ROOT, "docs/mpi4py.md"), "utf8")
const rows = text
  .split("\n")
  .filter((line) => line.startsWith("| ") && !line.startsWith("| mpi4py |"))
  .map((line) => line.split(" | ").map((cell) => cell.replace(/^\| |\s*\|$/g, "")))
const codeIn = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
const mpi4pyColumn = rows.map((r) => r[0]!).join("\n")
const rankflowSpans = rows.flatMap((r) => codeIn(r[1] ?? ""))

/** Names the table may use that are not rankflow's: the fp-ts interfaces a custom op implements. */
const EXTERNAL = new Set(["Semigroup", "Monoid"])

/** Exported names: values at run time, and types as src/index.ts lists them. */
const index = readFileSync(join(ROOT, "src/index.ts"), "utf8")
const exported = (name: string): boolean => name in rankflow || new RegExp(`\\b(type )?${name}\\b[,\\s}]`).test(index.replace(/^\s*\/\/.*$/gm, ""))

test("the table has one row per call, with an mpi4py and a rankflow spelling", (t) => {
  t.true(rows.length >= 50, `${rows.length} rows`)
  for (const row of rows) {
    t.is(row.length, 3, row.join(" | "))
    t.not(codeIn(row[0]!).length, 0, row.join(" | "))
  }
})

test("every call of the lecture and mpi4py's common ones have a row", (t) => {
  // The lecture's vocabulary (every comm./MPI. name its programs use), then mpi4py's common calls.
  const lecture = ["Get_rank", "Get_size", "Barrier", "bcast", "send", "recv", "scatter", "gather", "reduce", "allreduce", "allgather", "Bcast", "isend", "irecv", "Sendrecv", "Send", "Recv", "Isend", "Irecv", "Gather", "Scatter", "Reduce", "Allreduce", "wait", "MPI.SUM", "MPI.PROD", "MPI.MIN", "MPI.MAX", "MPI.LOR", "MPI.LAND", "MPI.PROC_NULL", "MPI.DOUBLE", "MPI.TAG_UB", "Get_attr", "COMM_WORLD", "np.random.seed", "time.time", "exit()", "mpiexec -n"]
  const common = ["Wait", "Scatterv", "Gatherv", "ANY_SOURCE", "ANY_TAG", "Create_cart", "Split", "Wtime", "Abort", "Status", "Probe", "Waitall", "Compute_dims", "Shift", "sendrecv", "Get_count", "Ssend", "Issend", "Sendrecv_replace", "Bsend", "Rsend", "Waitany", "Testany", "waitsome", "testsome", "Cancel", "Is_cancelled", "REQUEST_NULL", "Send_init", "Recv_init", "Startall", "Reduce_scatter", "Reduce_scatter_block", "IN_PLACE", "MPI.REPLACE", "MPI.NO_OP", "Fetch_and_op", "COMM_SELF", "MPIPoolExecutor", "submit", "starmap"]
  for (const name of [...lecture, ...common]) t.true(mpi4pyColumn.toLowerCase().includes(name.toLowerCase()), `no row for ${name}`)
})

test("every rankflow name in the table exists: package exports and members of comm, cart, request, status, rng", async (t) => {
  const [members] = await onRanks<Record<string, string[]>>(1, "members.ts", "members")
  let checked = 0
  for (const span of rankflowSpans) {
    if (/^(npx|import|--)/.test(span)) continue // a command line, or the import statement itself
    for (const [, object, member] of span.matchAll(/\b(comm|cart|request|status|rng)\.(\w+)/g)) {
      checked++
      t.true(members![object!]!.includes(member!), `${object}.${member} (in \`${span}\`) does not exist`)
    }
    // Free-standing names: calls, constants and classes (not preceded by a dot; single letters are type parameters).
    for (const [, name] of span.replace(/\b(comm|cart|request|status|rng)\.\w+/g, "").matchAll(/(?<![.\w])([A-Za-z_]\w*)(?=\s*\(|\b)/g)) {
      const isCall = new RegExp(`(?<![.\\w])${name}\\s*(<[^>]*>)?\\(`).test(span)
      const isConstantOrClass = /^[A-Z]/.test(name!) && name!.length > 1
      if (!isCall && !isConstantOrClass) continue // an argument or a keyword
      if (name! in globalThis || EXTERNAL.has(name!)) continue // Float64Array, …
      checked++
      t.true(exported(name!), `${name} (in \`${span}\`) is not exported by rankflow`)
    }
  }
  t.true(checked >= 60, `${checked} names checked`)
})

test("the notes' argument orders are the signatures' (scatterv, sendrecvInto, recv<T>)", (t) => {
  // The rows that differ from mpi4py spell out rankflow's parameter lists: compare them with the source.
  const comm = readFileSync(join(ROOT, "src/comm/comm.ts"), "utf8")
  const params = (method: string): string[] => {
    const signature = new RegExp(`\\n  ${method}(?:<[^(]*>)?\\(([^)]*)\\)`).exec(comm)![1]!
    return signature.split(",").map((p) => p.trim().split(/[?:= ]/)[0]!).filter(Boolean)
  }
  for (const method of ["scatterv", "sendrecv", "sendrecvInto", "recv", "recvInto", "gatherv", "bcast", "irecv", "irecvInto", "isend", "send", "ssend", "issend", "sendrecvReplace", "sendInit", "ssendInit", "recvInit", "recvInitInto", "reduceScatter", "reduceScatterBlock", "fetchAndOp", "accumulate"]) {
    const documented = rankflowSpans.filter((s) => s.startsWith(`comm.${method}(`) || s.startsWith(`comm.${method}<`))
    t.not(documented.length, 0, `comm.${method} has no row`)
    for (const span of documented) {
      const args = /\(([^)]*)\)/.exec(span)![1]!.split(",").map((a) => a.trim())
      t.deepEqual(args, params(method).slice(0, args.length), `${span} vs comm.${method}(${params(method).join(", ")})`)
    }
  }
})
