"""allreduce, mpi4py: collective costs on the N ranks mpiexec starts (the TypeScript
suite runs 2, 4 and 8), beside the single-thread copy of 8 MiB (numpy.copyto)
measured in the same run.

Mirrors bench/allreduce.ts, for the cases that have an mpi4py counterpart:
- allreduce_1_double: lowercase comm.allreduce(float(rank + 1), op=MPI.SUM)
  (a pickled Python float — the lecture's way for a scalar);
- allreduce_1Mi_doubles: Allreduce of a 1 Mi float64 numpy array into a
  preallocated result (rankflow: allreduce(vector, SUM, result));
- allreduce_1Mi_doubles_in_place: Allreduce(MPI.IN_PLACE, buffer) (values grow,
  as on the TypeScript side);
- bcast_8MiB: Bcast of an 8 MiB uint8 numpy array from rank 0 (bcastInto).
Extra, with no TypeScript line of its own:
- allreduce_1_double_buffer: uppercase Allreduce of a 1-element numpy array,
  the buffer counterpart of allreduce_1_double (rankflow sends a number on its
  raw 8-byte lane, which is closer to this than to pickling).
Not mirrored: the *_window cases (rankflow's shared-memory windows from
comm.alloc; Open MPI's Allreduce has no such variant).

Timing (timeCalls): reps calls untimed (warm-up), a Barrier, reps timed calls;
seconds per call = elapsed / reps on each rank, then the slowest rank's
(allreduce MAX). reps: 100,000 (quick 20,000) for one double, 40 (quick 5)
for the big ones.

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/allreduce.py [--quick]
"""
import sys

import numpy as np
from mpi4py import MPI

from harness import print_line, report_problems, finish

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick = "--quick" in sys.argv[1:]
MiB = 1024 * 1024


def time_calls(reps, op):
    """Seconds per call of `op` (the slowest rank's), between Barriers, after `reps` warm-up calls."""
    for _ in range(reps):
        op()
    comm.Barrier()
    t0 = MPI.Wtime()
    for _ in range(reps):
        op()
    seconds = (MPI.Wtime() - t0) / reps
    return comm.allreduce(seconds, op=MPI.MAX)


scalar_reps = 20_000 if quick else 100_000
big_reps = 5 if quick else 40
rows = []  # (name, bytes, reps, seconds, check, expected)
expected_sum = size * (size + 1) / 2

box = {"scalar": 0.0}


def scalar_allreduce():
    box["scalar"] = comm.allreduce(float(rank + 1), op=MPI.SUM)


rows.append(("allreduce_1_double", 8, scalar_reps, time_calls(scalar_reps, scalar_allreduce), box["scalar"], expected_sum))

one = np.array([float(rank + 1)])
one_sum = np.zeros(1)
rows.append(("allreduce_1_double_buffer", 8, scalar_reps,
             time_calls(scalar_reps, lambda: comm.Allreduce(one, one_sum, op=MPI.SUM)), float(one_sum[0]), expected_sum))

vector = np.full(MiB, float(rank + 1))
total = np.zeros(MiB)
rows.append(("allreduce_1Mi_doubles", 8 * MiB, big_reps,
             time_calls(big_reps, lambda: comm.Allreduce(vector, total, op=MPI.SUM)), float(total[-1]), expected_sum))

in_place = np.full(MiB, 1 / 2**40)
rows.append(("allreduce_1Mi_doubles_in_place", 8 * MiB, big_reps,
             time_calls(big_reps, lambda: comm.Allreduce(MPI.IN_PLACE, in_place, op=MPI.SUM)), 1 if in_place[0] > 0 else 0, 1))

buffer = np.full(8 * MiB, 7 if rank == 0 else 0, dtype=np.uint8)
rows.append(("bcast_8MiB", 8 * MiB, big_reps, time_calls(big_reps, lambda: comm.Bcast(buffer, root=0)), int(buffer[-1]), 7))


def copy_seconds(nbytes, reps):
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty(nbytes, dtype=np.uint8)
    for _ in range(10):
        np.copyto(dst, src)
    t0 = MPI.Wtime()
    for _ in range(reps):
        np.copyto(dst, src)
    return (MPI.Wtime() - t0) / reps


if rank == 0:
    copy = copy_seconds(8 * MiB, 20 if quick else 200)
    for name, nbytes, reps, seconds, check, expected in rows:
        print_line("allreduce", "mpi4py", size, {"op": name, "bytes": nbytes, "reps": reps, "copy_engine": "numpy.copyto"},
                   seconds * reps, {"check": check},
                   {"us_per_call": seconds * 1e6, "copy_8MiB_us": copy * 1e6, "ratio_to_8MiB_copy": seconds / copy,
                    # one timed loop per case (as the TypeScript side): min_s = median_s = wall_s
                    "min_s": seconds * reps, "median_s": seconds * reps})
        if check != expected:
            report_problems(f"allreduce {name} mpi4py on {size} rank(s)", [f"check {check}, expected {expected}"])
comm.Barrier()
finish()
