"""matmul, mpi4py: C = A B, N = 1000 (each matrix 8 MB), entries uniform in [0, 1)
(quick: N = 67). One timed phase, as bench/workloads/matmul.ts: rank 0 holds A
and B; Scatterv of A's rows (remainders to the first ranks), Bcast of B, the
local rows A_local @ B (BLAS dgemm; Debian's numpy links the reference BLAS,
threads pinned to 1), Gatherv of C on rank 0. 3 repetitions.

Result: sum(C) checked against A's column sums . B's row sums (relative
1e-10), and C's fingerprint (same on every rank count; differs from the
TypeScript one: A and B are numpy's default_rng([seed, 0]) and
default_rng([seed, 1]), and BLAS sums in its own order).

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/matmul.py [--quick] [--reps 3]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core per rank, before numpy loads its BLAS

import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

from harness import Fingerprint, block_counts, fingerprint_hex, finish, parse_common, report_problems, time_kernel, workload_line  # noqa: E402

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick, reps = parse_common()

params = {"n": 67 if quick else 1000, "seed": 11}
n, seed = params["n"], params["seed"]

rows = block_counts(n, size)
row_displs = np.concatenate(([0], np.cumsum(rows)[:-1]))
mine = int(rows[rank])

if rank == 0:
    A = np.random.default_rng([seed, 0]).random((n, n))
    B0 = np.random.default_rng([seed, 1]).random((n, n))
else:
    A = None
    B0 = None

B = np.empty((n, n))
state = {"C": None}


def reset():
    if rank == 0:
        B[:] = B0


def multiply():
    A_local = np.empty((mine, n))
    comm.Scatterv([A, rows * n, row_displs * n, MPI.DOUBLE] if rank == 0 else None, A_local, root=0)
    comm.Bcast(B, root=0)
    C_local = A_local @ B
    C = np.empty((n, n)) if rank == 0 else None
    comm.Gatherv(C_local, [C, rows * n, row_displs * n, MPI.DOUBLE] if rank == 0 else None, root=0)
    state["C"] = C


wall, phases = time_kernel(comm, {"multiply": multiply}, reps, reset)

if rank == 0:
    C = state["C"]
    result = {"c_fingerprint": fingerprint_hex(Fingerprint().add(C.ravel(), np.arange(n * n)).lanes), "c_sum": float(np.sum(C))}
    workload_line("matmul", size, params, reps, wall, result, {"GFLOPs": 2 * n**3 / min(wall) / 1e9})
    expected = float(A.sum(axis=0) @ B0.sum(axis=1))
    problems = [] if abs(result["c_sum"] - expected) <= 1e-10 * expected else [f"sum C = {result['c_sum']}, expected {expected}"]
    report_problems(f"matmul mpi4py on {size} rank(s)", problems)
finish()
