"""matvec, mpi4py: dense y = A x, N = 4000 (A is 128 MB), entries uniform in [0, 1)
(quick: N = 203, 10 iterations). Two timed phases, as bench/workloads/matvec.ts:
- oneshot: distribute A and x, multiply, collect y — rank 0 holds A and x0;
  Scatterv of A's rows (remainders to the first ranks) into a freshly
  allocated local block, Bcast of x, local product A_local @ x, Gatherv of y
  into a fresh array on rank 0 (rankflow's scatterv and gatherv also return
  new arrays, so both sides pay the allocation inside the phase);
- iterate: 50 power iterations with the rows resident: y_local = A_local @ x,
  Allgatherv into the full y on every rank, lambda = ||y||, x = y / lambda.
Each phase is timed between Barriers; 3 repetitions; the untimed reset puts x0
back on rank 0 (the other ranks receive it with the Bcast).

Result: lambda (~ N/2, the dominant eigenvalue), sum(y0) checked against A's
column sums . x0 (relative 1e-10), and y0's fingerprint (same on every rank
count).

Differences:
- A and x0 come from numpy's default_rng([seed, 0]) and default_rng([seed, 1])
  (PCG64), not from rankflow's randomStream, so the numbers (and y_fingerprint,
  lambda's last digits) differ from the TypeScript run; the checks are the same;
- the local product is numpy's @ (BLAS dgemv; on Debian numpy links the
  single-threaded reference BLAS, libblas3), where the TypeScript side runs a
  plain dot-product loop. BLAS threads are pinned to 1 below, so one rank uses
  one core whatever BLAS is installed.

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/matvec.py [--quick] [--reps 3]
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

params = {"n": 203, "iterations": 10, "seed": 7} if quick else {"n": 4000, "iterations": 50, "seed": 7}
n, iterations, seed = params["n"], params["iterations"], params["seed"]

rows = block_counts(n, size)  # rows per rank
row_displs = np.concatenate(([0], np.cumsum(rows)[:-1]))
mine = int(rows[rank])

if rank == 0:
    A = np.random.default_rng([seed, 0]).random((n, n))
    x0 = np.random.default_rng([seed, 1]).random(n)
else:
    A = None
    x0 = None

x = np.empty(n)
y = np.empty(n)
state = {"A_local": np.empty((0, n)), "y0": None, "lambda": 0.0}


def reset():
    if rank == 0:
        x[:] = x0


def oneshot():
    A_local = np.empty((mine, n))
    comm.Scatterv([A, rows * n, row_displs * n, MPI.DOUBLE] if rank == 0 else None, A_local, root=0)
    comm.Bcast(x, root=0)
    y_local = A_local @ x
    y0 = np.empty(n) if rank == 0 else None
    comm.Gatherv(y_local, [y0, rows, row_displs, MPI.DOUBLE] if rank == 0 else None, root=0)
    state["A_local"], state["y0"] = A_local, y0


def iterate():
    A_local = state["A_local"]
    lam = 0.0
    for _ in range(iterations):
        y_local = A_local @ x
        comm.Allgatherv(y_local, [y, rows, row_displs, MPI.DOUBLE])
        lam = np.linalg.norm(y)
        np.divide(y, lam, out=x)
    state["lambda"] = float(lam)


wall, phases = time_kernel(comm, {"oneshot": oneshot, "iterate": iterate}, reps, reset)

if rank == 0:
    y0 = state["y0"]
    lam = state["lambda"]
    result = {
        "y_fingerprint": fingerprint_hex(Fingerprint().add(y0, np.arange(n)).lanes),
        "y_sum": float(np.sum(y0)),
        "lambda": lam,
    }
    iterate_s = min(phases["iterate"])
    metrics = {
        "oneshot_s": min(phases["oneshot"]),
        "us_per_iter": iterate_s / iterations * 1e6,
        "GFLOPs_iter": 2 * n * n * iterations / iterate_s / 1e9,
        "GBps_iter": 8 * n * n * iterations / iterate_s / 1e9,  # A streamed once per iteration
    }
    workload_line("matvec", size, params, reps, wall, result, metrics)
    problems = []
    if not abs(lam / (n / 2) - 1) < 0.02:
        problems.append(f"lambda = {lam}, expected ~ N/2 = {n / 2}")
    expected = float(A.sum(axis=0) @ x0)  # sum of y computed the other way round: column sums . x0
    if not abs(result["y_sum"] - expected) <= 1e-10 * expected:
        problems.append(f"sum y = {result['y_sum']}, expected {expected} (A's column sums . x0)")
    report_problems(f"matvec mpi4py on {size} rank(s)", problems)
finish()
