"""heat2d, mpi4py: the 2-D heat equation, 5-point explicit stencil, on an nx x ny grid of
spacing h = 1/(nx - 1) (x in [0, 1], y in [0, Ly]), u0 = sin(pi x) sin(pi y / Ly),
Dirichlet 0 on the edges. Full size 4096 x 4096, 100 steps, r = alpha dt / h^2 = 0.2
(quick: 61 x 47, 60 steps).

Mirrors bench/workloads/heat2d.ts + heat2d.comm.ts:
- a 2-D Cartesian layout of the ranks: MPI.Compute_dims(size, 2) and
  Create_cart(dims, periods=[False, False]); dims[0] splits the rows, dims[1]
  the columns (block_range, remainders to the first blocks); one block of
  rows x cols per rank with a ghost layer; neighbours from Shift(0, 1) (above,
  below) and Shift(1, 1) (left, right), PROC_NULL on the edges;
- each step exchanges the four faces with Sendrecv: row faces are contiguous
  numpy slices sent and received in place; column faces are strided, so they
  are copied into a contiguous buffer before sending and copied back from a
  contiguous receive buffer (skipped towards PROC_NULL, as the TypeScript
  side does); then the vectorised stencil over the block's points that are not
  on the global edge, and the two buffers are swapped;
- timed region (3 repetitions, min reported): all the steps, between Barriers;
  the untimed reset zeroes both buffers and writes the initial field;
- result (untimed): max |u - exact|, RMS error, max |u| and the fingerprint,
  reduced to rank 0 and checked as heat2d.ts does (error < 1e-3).

Differences: the numpy stencil allocates temporaries each step (the idiom).
The fingerprint is the same on every rank count but not equal to the
TypeScript one (numpy's sin differs from V8's in the last bit at some points).

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/heat2d.py [--quick] [--reps 3]
"""
import math

import numpy as np
from mpi4py import MPI

from harness import block_range, check_field, field_result, finish, parse_common, report_problems, time_kernel, workload_line

comm = MPI.COMM_WORLD
size = comm.Get_size()
quick, reps = parse_common()

params = {"nx": 61, "ny": 47, "steps": 60, "r": 0.2} if quick else {"nx": 4096, "ny": 4096, "steps": 100, "r": 0.2}
nx, ny, steps, r = params["nx"], params["ny"], params["steps"], params["r"]

TAG_DOWN, TAG_UP, TAG_RIGHT, TAG_LEFT = 1, 2, 3, 4

dims = MPI.Compute_dims(size, 2)
grid = comm.Create_cart(dims, periods=[False, False])
rank = grid.Get_rank()
coords = grid.Get_coords(rank)
row_start, row_end = block_range(ny, dims[0], coords[0])
col_start, col_end = block_range(nx, dims[1], coords[1])
rows = row_end - row_start
cols = col_end - col_start
above, below = grid.Shift(0, 1)
left, right = grid.Shift(1, 1)

# Points on the global edge keep their Dirichlet value: the update skips them.
i0 = 2 if row_start == 0 else 1
i1 = rows if row_end == ny else rows + 1  # exclusive
j0 = 2 if col_start == 0 else 1
j1 = cols if col_end == nx else cols + 1

u = np.zeros((rows + 2, cols + 2))
u_new = np.zeros((rows + 2, cols + 2))
send_column = np.empty(rows)
recv_column = np.empty(rows)

global_rows = np.arange(row_start, row_end)
global_cols = np.arange(col_start, col_end)


def initial_block():
    """sin(pi x_j) sin(pi y_i / Ly) on this rank's block, 0 on the grid's edges."""
    sin_y = np.sin(np.pi * global_rows / (ny - 1))
    sin_x = np.sin(np.pi * global_cols / (nx - 1))
    sin_y[(global_rows == 0) | (global_rows == ny - 1)] = 0.0
    sin_x[(global_cols == 0) | (global_cols == nx - 1)] = 0.0
    return sin_y[:, None] * sin_x[None, :]


def decay():
    """e^(-pi^2 (1 + 1/Ly^2) alpha t), alpha t = steps r h^2."""
    h = 1 / (nx - 1)
    ly = (ny - 1) * h
    return math.exp(-(math.pi**2) * (1 + 1 / ly**2) * steps * r * h * h)


def reset():
    u.fill(0.0)
    u_new.fill(0.0)
    u[1:rows + 1, 1:cols + 1] = initial_block()


def exchange_column(field, send_col, dest, recv_col, source, tag):
    """Sends column `send_col` to `dest`, receives column `recv_col` from `source` (through contiguous copies)."""
    if dest != MPI.PROC_NULL:
        send_column[:] = field[1:rows + 1, send_col]
    grid.Sendrecv(send_column, dest=dest, sendtag=tag, recvbuf=recv_column, source=source, recvtag=tag)
    if source != MPI.PROC_NULL:
        field[1:rows + 1, recv_col] = recv_column


def run():
    global u, u_new
    for _ in range(steps):
        grid.Sendrecv(u[rows, 1:cols + 1], dest=below, sendtag=TAG_DOWN, recvbuf=u[0, 1:cols + 1], source=above, recvtag=TAG_DOWN)
        grid.Sendrecv(u[1, 1:cols + 1], dest=above, sendtag=TAG_UP, recvbuf=u[rows + 1, 1:cols + 1], source=below, recvtag=TAG_UP)
        exchange_column(u, cols, right, 0, left, TAG_RIGHT)
        exchange_column(u, 1, left, cols + 1, right, TAG_LEFT)
        u_new[i0:i1, j0:j1] = u[i0:i1, j0:j1] + r * (
            u[i0 - 1:i1 - 1, j0:j1] + u[i0 + 1:i1 + 1, j0:j1] + u[i0:i1, j0 - 1:j1 - 1] + u[i0:i1, j0 + 1:j1 + 1] - 4 * u[i0:i1, j0:j1]
        )
        u, u_new = u_new, u


wall, _ = time_kernel(grid, {"run": run}, reps, reset)

d = decay()
result = field_result(grid, u[1:rows + 1, 1:cols + 1], d * initial_block(), global_rows[:, None] * nx + global_cols[None, :])
if rank == 0:
    seconds = min(wall)
    updates = (nx - 2) * (ny - 2) * steps
    metrics = {
        "us_per_step": seconds / steps * 1e6,
        "Mupdates_per_s": updates / seconds / 1e6,
        "GBps": 16 * updates / seconds / 1e9,  # one read and one write of 8 bytes per cell update
    }
    workload_line("heat2d", size, params, reps, wall, result, metrics)
    report_problems(f"heat2d mpi4py on {size} rank(s)", check_field(result, d, 1e-3))
finish()
