"""The mpi4py side of the benchmark harness (the counterpart of
bench/workloads/harness.ts, kernel.ts, field.ts and fingerprint.ts).

Run any program of this directory with (from the repository root):

    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/<name>.py [--quick]

(Open MPI 4.1.4 picks the ob1 PML and the vader shared-memory BTL by itself
on one machine; `--mca btl self,vader` pins that and works too.)

What is shared here:
- `time_kernel`: the timing loop of kernel.ts/rank.ts — per repetition an
  untimed reset, then each phase between two Barriers, timed with MPI.Wtime;
  the repetition's wall time is the sum of its phases. Rank 0's clock is
  reported, as in the TypeScript harness (the closing Barrier makes it the
  slowest rank's time);
- `print_line`: one JSON line {"workload","impl","ranks","params","wall_s",
  "result","metrics"} with wall_s = the minimum over repetitions and
  metrics.min_s / metrics.median_s (the upper median, as medianOf);
- `block_range`: rankflow's blockRange (remainders to the first blocks);
- `Fingerprint`: fingerprint.ts vectorised with numpy uint32 arithmetic, so a
  field's fingerprint is the same on every rank count;
- `field_result`: field.ts/field.comm.ts — a heat field's error statistics
  reduced to rank 0 (Reduce SUM of [Σ err², count, lane₀, lane₁], Reduce MAX
  of [max err, max |u|]).
"""
import json
import sys

import numpy as np
from mpi4py import MPI


def option(name, default=None):
    """The value after `name` on the command line, or `default`."""
    argv = sys.argv[1:]
    if name in argv and argv.index(name) + 1 < len(argv):
        return argv[argv.index(name) + 1]
    return default


def parse_common():
    """--quick (tiny sizes) and --reps N (default 3), as the TypeScript harness."""
    quick = "--quick" in sys.argv[1:]
    reps = int(option("--reps", "3"))
    if reps < 1:
        raise SystemExit("--reps takes a positive integer")
    return quick, reps


def block_range(n, parts, index):
    """[start, end) of block `index` of n items in `parts` blocks, remainders to the first blocks."""
    base, extra = divmod(n, parts)
    start = index * base + min(index, extra)
    return start, start + base + (1 if index < extra else 0)


def block_counts(n, parts):
    return np.array([block_range(n, parts, i)[1] - block_range(n, parts, i)[0] for i in range(parts)], dtype=np.int64)


def time_kernel(comm, phases, reps, reset=None):
    """Runs `phases` (an ordered dict name -> callable) `reps` times; returns (wall, {name: [seconds]})."""
    wall = []
    per_phase = {name: [] for name in phases}
    for _ in range(reps):
        if reset is not None:
            reset()
        total = 0.0
        for name, phase in phases.items():
            comm.Barrier()
            t0 = MPI.Wtime()
            phase()
            comm.Barrier()
            seconds = MPI.Wtime() - t0
            per_phase[name].append(seconds)
            total += seconds
        wall.append(total)
    return wall, per_phase


def median_of(values):
    """The median (the upper one of an even count), as kernel.ts."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _plain(value):
    """numpy scalars to plain Python numbers, for json."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def print_line(workload, impl, ranks, params, wall_s, result, metrics):
    print(json.dumps(_plain({"workload": workload, "impl": impl, "ranks": ranks, "params": params,
                             "wall_s": wall_s, "result": result, "metrics": metrics}),
                     separators=(",", ":")), flush=True)


def workload_line(workload, ranks, params, reps, wall, result, metrics):
    """The line of a harness workload: wall_s = min over reps, plus min_s and median_s."""
    seconds = min(wall)
    print_line(workload, "mpi4py", ranks, {**params, "reps": reps}, seconds, result,
               {**metrics, "min_s": seconds, "median_s": median_of(wall)})


_failed = False


def report_problems(where, problems):
    """Prints a result's problems on stderr (rank 0); the program then exits 1 (see finish)."""
    global _failed
    for problem in problems:
        print(f"bench/mpi4py: {where}: {problem}", file=sys.stderr, flush=True)
        _failed = True


def finish():
    """Exit status 1 when a check failed, as the TypeScript harness."""
    if _failed:
        sys.exit(1)


# --- fingerprint.ts, vectorised --------------------------------------------------------

_U32 = np.uint32


def _imul(x, c):
    return x * _U32(c)  # uint32 arithmetic wraps modulo 2^32: Math.imul's low 32 bits


def _mix(x, y, m1, m2):
    x = _imul(x ^ (x >> _U32(16)), m1) ^ y
    x = _imul(x ^ (x >> _U32(13)), m2)
    return x ^ (x >> _U32(16))


class Fingerprint:
    """Two lanes, each Σ mix(value bits, global index) mod 2^32 (SUM-reduce them across ranks)."""

    def __init__(self):
        self.lanes = np.zeros(2)

    def add(self, values, global_index):
        """Adds float64 `values` (any shape, C order) whose global indices are `global_index` (same shape)."""
        words = np.ascontiguousarray(values, dtype=np.float64).reshape(-1).view(np.uint32)
        lo, hi = words[0::2], words[1::2]
        g = np.asarray(global_index, dtype=np.uint64).reshape(-1).astype(np.uint32)
        with np.errstate(over="ignore"):
            a = _mix(lo ^ _imul(g, 0x9E3779B1), hi, 0x85EBCA6B, 0xC2B2AE35)
            b = _mix(hi ^ _imul(g, 0x7FEB352D), lo, 0x846CA68B, 0x27D4EB2F)
        self.lanes[0] = (int(self.lanes[0]) + int(a.sum(dtype=np.uint64))) % 2**32
        self.lanes[1] = (int(self.lanes[1]) + int(b.sum(dtype=np.uint64))) % 2**32
        return self


def fingerprint_hex(lanes):
    return "".join(f"{int(v) % 2**32:08x}" for v in lanes)


# --- field.ts / field.comm.ts --------------------------------------------------------------

def field_result(comm, values, exact, global_index):
    """A heat field's statistics on rank 0 (None elsewhere): every rank's `values` against `exact`, reduced. Collective."""
    error = np.abs(values - exact)
    fp = Fingerprint().add(values, global_index)
    sums = np.array([float(np.sum(error * error)), float(values.size), fp.lanes[0], fp.lanes[1]])
    maxima = np.array([float(error.max(initial=0.0)), float(np.abs(values).max(initial=0.0))])
    total_sums = np.zeros(4)
    total_maxima = np.zeros(2)
    comm.Reduce(sums, total_sums, op=MPI.SUM, root=0)
    comm.Reduce(maxima, total_maxima, op=MPI.MAX, root=0)
    if comm.Get_rank() != 0:
        return None  # the whole field's result is on rank 0
    return {
        "max_abs_err": float(total_maxima[0]),
        "l2_err": float(np.sqrt(total_sums[0] / total_sums[1])),
        "max_abs_u": float(total_maxima[1]),
        "fingerprint": fingerprint_hex(total_sums[2:]),
    }


def check_field(result, peak, tolerance):
    """field.ts checkField."""
    problems = []
    if not result["max_abs_err"] < tolerance:
        problems.append(f"max |u - exact| = {result['max_abs_err']} >= {tolerance}")
    if not abs(result["max_abs_u"] - peak) < tolerance:
        problems.append(f"max |u| = {result['max_abs_u']}, expected ~ {peak}")
    if len(result["fingerprint"]) != 16:
        problems.append(f"fingerprint {result['fingerprint']} is not 16 hex digits")
    return problems
