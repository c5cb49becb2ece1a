"""heat1d_small and heat1d_large, mpi4py: the 1-D heat equation u_t = alpha u_xx on [0, 1],
n points x_i = i dx (dx = 1/(n - 1)), explicit 3-point stencil, u0 = sin(pi x),
Dirichlet 0; exact solution sin(pi x) exp(-alpha pi^2 t).

    --size small (default): heat1d_small, n = 1004, alpha = 0.01, dt = 1e-5, 50,000 steps (quick: 2,000)
    --size large:           heat1d_large, n = 10,000,000, 200 steps, dt = 0.25 dx^2 / alpha
                            (quick: n = 100,003, 20 steps)

Mirrors bench/workloads/heat1d.ts + heat1d.comm.ts (and the lecture's
mpi_heat_equation.py):
- a line of ranks from Create_cart([size], periods=[False]) and Shift(0, 1)
  (PROC_NULL past the ends); block partition with remainders (block_range);
  one ghost cell per side;
- each step: two Sendrecv of one-element numpy slices (my last point -> right
  neighbour's left ghost, my first point -> left neighbour's right ghost), then
  the vectorised stencil u_new[lo:hi] = u + r (u_left - 2 u + u_right) over the
  points that are not on the global ends (those keep their Dirichlet 0), then
  the two buffers are swapped;
- timed region (3 repetitions, min reported): all the steps, between Barriers;
  the untimed reset puts the initial field back before each repetition;
- result (untimed): max |u - exact|, RMS error, max |u| and the field's
  fingerprint, reduced to rank 0 (harness.field_result), checked as the
  TypeScript side does (error < 1e-3, max |u| within 1e-3 of the exact peak).

Differences: the numpy stencil allocates temporaries each step (the idiom),
where the TypeScript loop writes in place. The fingerprint is identical on every
rank count but not equal to the TypeScript one: numpy's (SIMD) sin differs from
V8's in the last bit for some points, so the initial fields differ by an ulp.

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/heat1d.py --size small|large [--quick] [--reps 3]
"""
import math
import sys

import numpy as np
from mpi4py import MPI

from harness import block_range, check_field, field_result, finish, option, parse_common, report_problems, time_kernel, workload_line

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick, reps = parse_common()
which = option("--size", "small")
if which not in ("small", "large"):
    sys.exit("--size takes small or large")


def large_dt(n, alpha):
    return 0.25 / (n - 1) ** 2 / alpha


if which == "small":
    name = "heat1d_small"
    params = {"n": 1004, "alpha": 0.01, "dt": 1e-5, "steps": 2_000 if quick else 50_000}
else:
    name = "heat1d_large"
    n_large = 100_003 if quick else 10_000_000
    params = {"n": n_large, "alpha": 0.01, "dt": large_dt(n_large, 0.01), "steps": 20 if quick else 200}

n, alpha, dt, steps = params["n"], params["alpha"], params["dt"], params["steps"]
r = (alpha * dt) * (n - 1) ** 2  # alpha dt / dx^2


def initial_value(i):
    """sin(pi x_i) for global indices i (an array), 0 at both ends."""
    u = np.sin(np.pi * i / (n - 1))
    u[(i == 0) | (i == n - 1)] = 0.0
    return u


decay = math.exp(-alpha * math.pi**2 * steps * dt)

line = comm.Create_cart([size], periods=[False])
left, right = line.Shift(0, 1)
start, end = block_range(n, size, rank)
nloc = end - start
# Points on the global ends keep their Dirichlet value: the update skips them.
lo = 2 if start == 0 else 1
hi = nloc - 1 if end == n else nloc  # inclusive

u = np.zeros(nloc + 2)
u_new = np.zeros(nloc + 2)
mine = np.arange(start, end)


def reset():
    u[1:nloc + 1] = initial_value(mine)


def run():
    global u, u_new
    for _ in range(steps):
        line.Sendrecv(u[nloc:nloc + 1], dest=right, sendtag=0, recvbuf=u[0:1], source=left, recvtag=0)
        line.Sendrecv(u[1:2], dest=left, sendtag=1, recvbuf=u[nloc + 1:nloc + 2], source=right, recvtag=1)
        u_new[lo:hi + 1] = u[lo:hi + 1] + r * (u[lo - 1:hi] - 2 * u[lo:hi + 1] + u[lo + 1:hi + 2])
        u, u_new = u_new, u


wall, _ = time_kernel(line, {"run": run}, reps, reset)

result = field_result(line, u[1:nloc + 1], decay * initial_value(mine), mine)
if rank == 0:
    seconds = min(wall)
    metrics = {
        "us_per_step": seconds / steps * 1e6,
        "Mupdates_per_s": (n - 2) * steps / seconds / 1e6,
        "GBps": 16 * (n - 2) * steps / seconds / 1e9,  # one read and one write of 8 bytes per update
    }
    workload_line(name, size, params, reps, wall, result, metrics)
    report_problems(f"{name} mpi4py on {size} rank(s)", check_field(result, decay, 1e-3))
finish()
