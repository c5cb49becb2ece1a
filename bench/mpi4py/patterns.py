"""patterns, mpi4py: the cost per item of a manager-worker farm and of a 3-stage pipeline,
hand-written with lowercase send / recv of small Python objects.

Mirrors bench/patterns.ts (run on 2, 4 and 8 ranks there):
- farm_tiny_tasks (2 ranks or more): 200,000 trivial tasks (quick 2,000),
  task i is the int i and its result i + 1; rank 0 is the manager and deals
  tasks on demand to the other ranks, collecting the results in task order —
  the lecture's manager-worker pattern, with rankflow managerWorker's
  protocol: a task and its result travel as one message tagged with the
  task's index + 1 (tag 0 = stop); the manager first queues 2 tasks at each
  worker (managerWorker's default prefetch = 1: one computing, one waiting),
  then answers each result, received from ANY_SOURCE / ANY_TAG, with the next
  task for that worker (status.Get_source()); finally it sends every worker a
  stop. check = sum of the results = n (n + 1) / 2;
- stream_tiny_items (4 ranks or more): 200,000 items (quick 2,000) through
  3 stages x + 1, x * 2, x - 1 on ranks 1, 2, 3 (other ranks idle), rank 0
  feeding the first stage and collecting the last stage's results in order,
  with at most 12 items in flight (rankflow Stream's window, 4 per stage
  rank); an END tag flows down the chain at the end. The sum is broadcast
  (bcast) as on the TypeScript side. check = n^2;
- timing (timed()): one untimed run (warm-up), a Barrier, the timed run, a
  Barrier; rank 0's clock; us_per_item = seconds / count.
Not mirrored: farm_uneven and stream_stages, whose tasks are a busy loop of
scalar arithmetic (pure-Python loops would measure the interpreter, not MPI).
Difference: rankflow's patterns also duplicate the communicator (and split it
for worker groups) on every call; here everything runs on COMM_WORLD.

Run (from the repository root):
    mpiexec --allow-run-as-root --oversubscribe -n N python3 bench/mpi4py/patterns.py [--quick]
"""
import sys

from mpi4py import MPI

from harness import finish, print_line, report_problems

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
size = comm.Get_size()
quick = "--quick" in sys.argv[1:]
count = 2_000 if quick else 200_000

STOP = 0
PREFETCH = 1


def farm_tiny(tasks_count):
    """Manager-worker farm of trivial tasks; the sum of the results on rank 0 (0 elsewhere)."""
    if rank == 0:
        tasks = iter(range(tasks_count))
        results = [None] * tasks_count
        dealt = 0
        pending = 0

        def deal(worker):
            nonlocal dealt, pending
            task = next(tasks, None)
            if task is None:
                return False
            comm.send(task, dest=worker, tag=dealt + 1)
            dealt += 1
            pending += 1
            return True

        full = False
        for _ in range(PREFETCH + 1):
            for worker in range(1, size):
                if not deal(worker):
                    full = True
                    break
            if full:
                break
        status = MPI.Status()
        while pending > 0:
            result = comm.recv(source=MPI.ANY_SOURCE, tag=MPI.ANY_TAG, status=status)
            pending -= 1
            results[status.Get_tag() - 1] = result
            deal(status.Get_source())
        for worker in range(1, size):
            comm.send(None, dest=worker, tag=STOP)
        return sum(results)
    status = MPI.Status()
    while True:
        task = comm.recv(source=0, tag=MPI.ANY_TAG, status=status)
        tag = status.Get_tag()
        if tag == STOP:
            return 0
        comm.send(task + 1, dest=0, tag=tag)


DATA = 1
END = 2
STAGES = [lambda x: x + 1, lambda x: x * 2, lambda x: x - 1]


def stream_tiny(items):
    """items 0 … n−1 through the 3 stages on ranks 1, 2, 3; the sum of the results on every rank."""
    window = 4 * len(STAGES)
    last = len(STAGES)
    total = 0
    if rank == 0:
        sent = received = 0
        status = MPI.Status()
        for item in range(items):
            while sent - received >= window:
                total += comm.recv(source=last, tag=DATA)
                received += 1
            comm.send(item, dest=1, tag=DATA)
            sent += 1
        comm.send(None, dest=1, tag=END)
        while received < sent:
            total += comm.recv(source=last, tag=DATA)
            received += 1
        comm.recv(source=last, tag=END, status=status)
    elif rank <= last:
        stage = STAGES[rank - 1]
        down = rank + 1 if rank < last else 0
        status = MPI.Status()
        while True:
            value = comm.recv(source=rank - 1, tag=MPI.ANY_TAG, status=status)
            if status.Get_tag() == END:
                comm.send(None, dest=down, tag=END)
                break
            comm.send(stage(value), dest=down, tag=DATA)
    return comm.bcast(total, root=0)


def timed(run):
    run()  # warm-up
    comm.Barrier()
    t0 = MPI.Wtime()
    check = run()
    comm.Barrier()
    return MPI.Wtime() - t0, check


def report(pattern, seconds, check, expected):
    if rank != 0:
        return
    print_line("patterns", "mpi4py", size, {"pattern": pattern, "count": count}, seconds, {"check": check},
               # one timed run (as the TypeScript side): min_s = median_s = wall_s
               {"us_per_item": seconds / count * 1e6, "min_s": seconds, "median_s": seconds})
    if check != expected:
        report_problems(f"patterns {pattern} mpi4py on {size} rank(s)", [f"check {check}, expected {expected}"])


if size < 2 and rank == 0:
    print("patterns: farm_tiny_tasks needs 2 ranks or more, stream_tiny_items 4 or more; nothing to run on 1", file=sys.stderr)
if size >= 2:
    seconds, check = timed(lambda: farm_tiny(count))
    report("farm_tiny_tasks", seconds, check, count * (count + 1) // 2)
if size >= 4:
    seconds, check = timed(lambda: stream_tiny(count))
    report("stream_tiny_items", seconds, check, count * count)
finish()
