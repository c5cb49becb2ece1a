#!/usr/bin/env bash
# Runs the mpi4py counterparts of the rankflow benchmarks, one program at a
# time, and prints their JSON lines on stdout (progress and errors on stderr).
#
#   bench/mpi4py/run.sh [--quick] [--ranks 1,2,4,8] [--only pi_mc,heat2d,...] [--reps 3] [--timeout SECONDS]
#
# Rank counts mirror the TypeScript suite (npm run bench):
#   pi_mc, trapezoid, heat1d_small, heat1d_large, heat2d, matvec, matmul: 1,2,4,8 (quick: 1,2,4)
#   allreduce, patterns: 2,4,8 (rank counts below 2 are dropped)
#   pingpong: 2 only
# --ranks replaces the rank counts (for pingpong too, which then still runs on 2 only).
# --timeout kills a run that takes longer (coreutils timeout); it is reported on stderr and skipped.
#
# Environment: MPIEXEC (default mpiexec), MPI_FLAGS (default
# "--allow-run-as-root --oversubscribe"; add "--mca btl self,vader" to pin the
# shared-memory transport), PYTHON (default python3: Debian's python
# with python3-mpi4py and python3-numpy, not a pyenv/venv python).
set -u
cd "$(dirname "$0")/../.." || exit 2

MPIEXEC=${MPIEXEC:-mpiexec}
MPI_FLAGS=${MPI_FLAGS:---allow-run-as-root --oversubscribe}
PYTHON=${PYTHON:-python3}
export PYTHONDONTWRITEBYTECODE=1

quick=""
ranks=""
only="pi_mc,trapezoid,heat1d_small,heat1d_large,heat2d,matvec,matmul,pingpong,allreduce,patterns"
reps=""
limit=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --ranks) ranks="$2"; shift ;;
    --only) only="$2"; shift ;;
    --reps) reps="--reps $2"; shift ;;
    --timeout) limit="$2"; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "$quick" ]; then workload_ranks=${ranks:-1,2,4}; else workload_ranks=${ranks:-1,2,4,8}; fi
collective_ranks=${ranks:-2,4,8}

failed=0

# run NAME RANKS ARGS...: one mpiexec run of bench/mpi4py/ARGS[0].
run() {
  local name=$1 n=$2
  shift 2
  echo "# $name on $n rank(s)" >&2
  local cmd=($MPIEXEC $MPI_FLAGS -n "$n" "$PYTHON" "$@")
  if [ "$limit" != 0 ]; then cmd=(timeout --kill-after=10 "$limit" "${cmd[@]}"); fi
  local started=$SECONDS
  "${cmd[@]}"
  local status=$?
  if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    echo "run.sh: $name on $n rank(s) skipped: over ${limit} s" >&2
    failed=1
  elif [ $status -ne 0 ]; then
    echo "run.sh: $name on $n rank(s) failed (exit $status)" >&2
    failed=1
  fi
  echo "#   $((SECONDS - started)) s" >&2
}

for name in ${only//,/ }; do
  case "$name" in
    pi_mc | trapezoid | heat2d | matvec | matmul)
      for n in ${workload_ranks//,/ }; do run "$name" "$n" "bench/mpi4py/$name.py" $quick $reps; done ;;
    heat1d_small | heat1d_large)
      for n in ${workload_ranks//,/ }; do run "$name" "$n" bench/mpi4py/heat1d.py --size "${name#heat1d_}" $quick $reps; done ;;
    pingpong)
      run pingpong 2 bench/mpi4py/pingpong.py $quick ;;
    allreduce | patterns)
      for n in ${collective_ranks//,/ }; do
        if [ "$n" -ge 2 ]; then run "$name" "$n" "bench/mpi4py/$name.py" $quick; fi
      done ;;
    *) echo "run.sh: unknown workload $name" >&2; failed=1 ;;
  esac
done
exit $failed
