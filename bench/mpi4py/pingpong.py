"""pingpong, mpi4py: one-way latency and bandwidth between 2 ranks, for messages of
8 B, 1 KiB, 1 MiB, 8 MiB, 64 MiB and 100,000,000 B (quick: the first four),
beside the single-thread copy bandwidth (numpy.copyto) measured in the same run.

Mirrors bench/pingpong.ts:
- two paths, told apart by impl as the TypeScript lines are ("buffer" /
  "serialized"), prefixed with mpi4py:
  * "mpi4py-buffer": uppercase Send / Recv of a numpy uint8 array (the
    counterpart of send + recvInto of a Uint8Array);
  * "mpi4py-serialized": lowercase send / recv of a Python object
    {"blob": <the numpy array>} (pickled; the counterpart of rankflow's
    serialized path for an object holding the bytes);
  rank 1 answers each message with its own (as in the TypeScript version,
  not an echo of the received object);
- round trips per size: max(3, min(2000 quick / 100,000, floor((2e7 quick /
  4e8) / max(bytes, 2048)))); min(trips, 100) untimed warm-up round trips,
  a Barrier, then the timed loop on rank 0's clock; one-way time =
  elapsed / (2 trips);
- copy_GBps: np.copyto of the same size, as many times as trips (warm-up
  min(trips, 100)), on rank 0 after the ping-pongs (rank 1 idle).

Run (2 ranks; from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n 2 python3 bench/mpi4py/pingpong.py [--quick]
"""
import sys

import numpy as np
from mpi4py import MPI

from harness import print_line

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
if size != 2:
    if rank == 0:
        print("pingpong runs on 2 ranks", file=sys.stderr)
    sys.exit(2)
quick = "--quick" in sys.argv[1:]

KiB = 1024
MiB = 1024 * KiB
SIZES = [8, KiB, MiB, 8 * MiB, 64 * MiB, 100_000_000]


def trips_for(nbytes):
    return max(3, min(2000 if quick else 100_000, int((2e7 if quick else 4e8) // max(nbytes, 2048))))


def pingpong(nbytes, trips, serialized):
    """Seconds per one-way message, measured by rank 0 (rank 1 answers)."""
    peer = 1 - rank
    buffer = np.full(nbytes, rank + 1, dtype=np.uint8)
    message = {"blob": buffer}

    if serialized:
        def once():
            if rank == 0:
                comm.send(message, dest=peer, tag=1)
                comm.recv(source=peer, tag=1)
            else:
                comm.recv(source=peer, tag=1)
                comm.send(message, dest=peer, tag=1)
    else:
        def once():
            if rank == 0:
                comm.Send(buffer, dest=peer, tag=1)
                comm.Recv(buffer, source=peer, tag=1)
            else:
                comm.Recv(buffer, source=peer, tag=1)
                comm.Send(buffer, dest=peer, tag=1)

    for _ in range(min(trips, 100)):  # warm-up
        once()
    comm.Barrier()
    t0 = MPI.Wtime()
    for _ in range(trips):
        once()
    return (MPI.Wtime() - t0) / (2 * trips)


def copy_bandwidth(nbytes):
    """Single-thread copy bandwidth (bytes/s) of `nbytes` with np.copyto."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty(nbytes, dtype=np.uint8)
    reps = trips_for(nbytes)
    for _ in range(min(reps, 100)):
        np.copyto(dst, src)
    t0 = MPI.Wtime()
    for _ in range(reps):
        np.copyto(dst, src)
    return nbytes * reps / (MPI.Wtime() - t0)


timings = []
for nbytes in SIZES[:4] if quick else SIZES:
    for path in ("buffer", "serialized"):
        trips = trips_for(nbytes)
        timings.append((nbytes, path, trips, pingpong(nbytes, trips, path == "serialized")))

if rank == 0:
    copy = {}
    for nbytes, path, trips, seconds in timings:
        if nbytes not in copy:
            copy[nbytes] = copy_bandwidth(nbytes)
        bandwidth = nbytes / seconds
        print_line("pingpong", f"mpi4py-{path}", 2,
                   {"bytes": nbytes, "trips": trips, "copy_engine": "numpy.copyto", "path": path},
                   seconds * 2 * trips, {"bytes": nbytes},
                   {"one_way_us": seconds * 1e6, "bandwidth_GBps": bandwidth / 1e9,
                    "copy_GBps": copy[nbytes] / 1e9, "ratio_to_copy": bandwidth / copy[nbytes],
                    # one timed loop per size (as the TypeScript side): min_s = median_s = wall_s
                    "min_s": seconds * 2 * trips, "median_s": seconds * 2 * trips})
comm.Barrier()
