/*
 * mpi_allreduce_batches: C-MPI's MPI_Allreduce (SUM) of one double, timed as
 * bench/allreduce_batches.ts times rankflow's: 10⁵ warm-up calls, a
 * barrier, then 200 batches of 1000 calls; the mean over all of them and the
 * best batch (what is left of the call once a loaded machine's descheduling
 * is taken out), the slowest rank's of each. Rank 0 prints one JSON line.
 *
 *   mpicc -O2 -o /tmp/mpi_allreduce_batches bench/c/mpi_allreduce_batches.c
 *   mpirun -np 2 --mca btl self,vader /tmp/mpi_allreduce_batches
 */
#include <mpi.h>
#include <stdio.h>

#define BATCHES 200
#define CALLS 1000

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  double in = rank + 1, out = 0, best = 1e9;
  for (int i = 0; i < 100000; i++) MPI_Allreduce(&in, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int b = 0; b < BATCHES; b++) {
    double start = MPI_Wtime();
    for (int i = 0; i < CALLS; i++) MPI_Allreduce(&in, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double each = (MPI_Wtime() - start) / CALLS;
    if (each < best) best = each;
  }
  double mine[2] = {(MPI_Wtime() - t0) / ((double)BATCHES * CALLS), best}, slowest[2];
  MPI_Allreduce(mine, slowest, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  int ok = out == size * (size + 1) / 2.0;
  if (rank == 0)
    printf("{\"workload\":\"allreduce\",\"impl\":\"c-mpi\",\"ranks\":%d,\"params\":{\"op\":\"allreduce_1_double_batches\",\"bytes\":8,\"calls\":%d},"
           "\"result\":{\"check\":%g},\"metrics\":{\"us_per_call\":%.4f,\"best_batch_us\":%.4f}}\n",
           size, BATCHES * CALLS, out, slowest[0] * 1e6, slowest[1] * 1e6);
  MPI_Finalize();
  return ok ? 0 : 1;
}
