"""trapezoid, mpi4py: 4 * integral_0^1 sqrt(1 - x^2) dx = pi by the trapezoidal rule
on 100,000,000 intervals (quick: 1,000,003).

Mirrors bench/workloads/trapezoid.ts + trapezoid.comm.ts:
- each rank sums a block [first, last) of intervals (block_range: remainders
  to the first ranks, no interval lost): h * ((f(first h) + f(last h)) / 2 +
  sum of f(i h) for the inner points), f(x) = sqrt(max(0, 1 - x^2)), x_i = i*h
  exactly as the TypeScript kernel computes it;
- the partial sums are added on rank 0 with a lowercase reduce (a float);
- timed region (3 repetitions, min reported): local sum + reduce, between Barriers.

The local sum is the lecture's vectorised rule (y = f(x); h*(y[0]/2 + sum(y[1:-1])
+ y[-1]/2)) evaluated over blocks of 2^16 points rather than one array of the
rank's whole range: 10^8 points at once would allocate (and page-fault) several
GB of temporaries per repetition. Partial sums are added in a different order
than the TypeScript loop, so the result agrees to rounding, not bit for bit
(as between rank counts on the TypeScript side).

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/trapezoid.py [--quick] [--reps 3]
"""
import math

import numpy as np
from mpi4py import MPI

from harness import block_range, finish, parse_common, report_problems, time_kernel, workload_line

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick, reps = parse_common()

intervals = 1_000_003 if quick else 100_000_000
params = {"intervals": intervals}
h = 1.0 / intervals
BLOCK = 2**16  # points per vectorised block


def f(x):
    return np.sqrt(np.maximum(0.0, 1.0 - x * x))


def trapezoid_sum(first, last):
    """h * the trapezoids over intervals [first, last): inner points once, the two ends halved."""
    if last <= first:
        return 0.0
    ends = f(np.array([first * h, last * h]))
    total = 0.5 * (ends[0] + ends[1])
    for start in range(first + 1, last, BLOCK):
        stop = min(start + BLOCK, last)
        total += np.sum(f(np.arange(start, stop, dtype=np.float64) * h))
    return float(total * h)


first, last = block_range(intervals, size, rank)
integral = 0.0


def run():
    global integral
    integral = comm.reduce(trapezoid_sum(first, last), op=MPI.SUM, root=0)


wall, _ = time_kernel(comm, {"run": run}, reps)

if rank == 0:
    result = {"integral": integral, "pi_estimate": 4 * integral, "abs_err": abs(4 * integral - math.pi)}
    workload_line("trapezoid", size, params, reps, wall, result, {"Mintervals_per_s": intervals / min(wall) / 1e6})
    if not result["abs_err"] < 1e-6:
        report_problems(f"trapezoid mpi4py on {size} rank(s)", [f"|4*integral - pi| = {result['abs_err']} >= 1e-6"])
finish()
