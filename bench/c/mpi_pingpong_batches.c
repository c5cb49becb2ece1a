/*
 * mpi_pingpong_batches: C-MPI's 8 B ping-pong (MPI_Send / MPI_Recv) between
 * 2 processes, timed as bench/pingpong_batches.ts times rankflow's: 10⁵
 * warm-up round trips, a barrier, then 200 batches of 1000; the mean one-way
 * time over all of them and the best batch (what is left once a loaded
 * machine's descheduling is taken out), on rank 0's clock. Rank 0 prints one
 * JSON line.
 *
 *   mpicc -O2 -o /tmp/mpi_pingpong_batches bench/c/mpi_pingpong_batches.c
 *   mpirun -np 2 --mca btl self,vader /tmp/mpi_pingpong_batches
 */
#include <mpi.h>
#include <stdio.h>

#define BATCHES 200
#define TRIPS 1000

static void trip(int rank, char *buffer) {
  int peer = 1 - rank;
  if (rank == 0) {
    MPI_Send(buffer, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
    MPI_Recv(buffer, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(buffer, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Send(buffer, 8, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) {
    if (rank == 0) fprintf(stderr, "mpi_pingpong_batches runs on 2 processes, not %d\n", size);
    MPI_Finalize();
    return 2;
  }
  char buffer[8] = {0};
  for (int i = 0; i < 100000; i++) trip(rank, buffer);
  MPI_Barrier(MPI_COMM_WORLD);
  double best = 1e9, t0 = MPI_Wtime();
  for (int b = 0; b < BATCHES; b++) {
    double start = MPI_Wtime();
    for (int i = 0; i < TRIPS; i++) trip(rank, buffer);
    double each = (MPI_Wtime() - start) / (2.0 * TRIPS);
    if (each < best) best = each;
  }
  double mean = (MPI_Wtime() - t0) / (2.0 * BATCHES * TRIPS);
  if (rank == 0)
    printf("{\"workload\":\"pingpong\",\"impl\":\"c-mpi\",\"ranks\":2,\"params\":{\"op\":\"pingpong_8B_batches\",\"bytes\":8,\"trips\":%d},\"result\":{\"bytes\":8},\"metrics\":{\"one_way_us\":%.4f,\"best_batch_us\":%.4f}}\n",
           BATCHES * TRIPS, mean * 1e6, best * 1e6);
  MPI_Finalize();
  return 0;
}
