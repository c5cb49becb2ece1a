"""pi_mc, mpi4py: Monte Carlo pi from 100,000,000 points of [0, 1)^2 (quick: 3,000,000).

Mirrors bench/workloads/pi_mc.ts + pi_mc.comm.ts:
- the samples are cut into chunks of 2^20; chunk c draws its points from its
  own generator, seeded with (seed, c), whichever rank runs it, so `inside` is
  the same on every rank count;
- each rank counts a block of whole chunks (block_range over the chunks) and
  the counts are summed on rank 0 with a lowercase reduce (a Python int);
- timed region (3 repetitions, min reported): count + reduce, between Barriers.

Unavoidable difference: the generator. rankflow draws from its own
randomStream (src/pipeline/random.ts); here each chunk uses numpy's
default_rng([seed, c]) (PCG64), so `inside` differs from the TypeScript value
(the params' "rng" says which generator was used); pi is checked the same way
(|pi_hat - pi| < 6 sigma).

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/pi_mc.py [--quick] [--reps 3]
"""
import math

import numpy as np
from mpi4py import MPI

from harness import block_range, finish, parse_common, report_problems, time_kernel, workload_line

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick, reps = parse_common()

samples = 3_000_000 if quick else 100_000_000
seed = 2024
chunk = 2**20
params = {"samples": samples, "seed": seed, "chunk": chunk,
          "rng": f"numpy default_rng([seed, chunk]) (PCG64), numpy {np.__version__}"}

chunks = -(-samples // chunk)
first, end = block_range(chunks, size, rank)
x = np.empty(chunk)  # allocated once: each chunk's points are drawn into them
y = np.empty(chunk)


def count_inside(first, end):
    inside = 0
    for c in range(first, end):
        n = min(chunk, samples - c * chunk)
        rng = np.random.default_rng([seed, c])
        rng.random(out=x[:n])
        rng.random(out=y[:n])
        inside += int(np.count_nonzero(x[:n] ** 2 + y[:n] ** 2 <= 1.0))
    return inside


total = 0


def run():
    global total
    total = comm.reduce(count_inside(first, end), op=MPI.SUM, root=0)


wall, _ = time_kernel(comm, {"run": run}, reps)

if rank == 0:
    pi = 4 * total / samples
    quarter = math.pi / 4
    result = {"pi": pi, "abs_err": abs(pi - math.pi), "sigma": 4 * math.sqrt(quarter * (1 - quarter) / samples), "inside": total}
    seconds = min(wall)
    workload_line("pi_mc", size, params, reps, wall, result, {"Msamples_per_s": samples / seconds / 1e6})
    if not result["abs_err"] < 6 * result["sigma"]:
        report_problems(f"pi_mc mpi4py on {size} rank(s)", [f"|pi_hat - pi| = {result['abs_err']} is over 6 sigma (sigma = {result['sigma']})"])
finish()
