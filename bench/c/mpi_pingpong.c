/*
 * mpi_pingpong: the C-MPI reference of bench/pingpong.ts (and of
 * bench/mpi4py/pingpong.py's buffer path): one-way latency and bandwidth of
 * MPI_Send / MPI_Recv between 2 processes. Built by the bench
 * (bench/mpi_reference.ts) with mpicc -O2 into a cache directory; never
 * committed as a binary.
 *
 *   mpirun -np 2 mpi_pingpong [--quick]
 *
 * Same sizes and round trips as pingpong.ts: 8 B, 1 KiB, 1 MiB, 8 MiB, 64 MiB,
 * 100,000,000 B (quick: the first four); trips = max(3, min(2000 quick /
 * 100,000, (2e7 quick / 4e8) / max(bytes, 2048))); min(trips, 100) untimed
 * warm-up round trips, a barrier, then the timed loop on rank 0's clock;
 * one-way time = elapsed / (2 trips). Rank 1 answers with its own buffer.
 * Each received message is checked (its first and last bytes hold the
 * sender's rank + 1); exit status 1 if one was wrong.
 *
 * Rank 0 prints one JSON line per size (bench/workloads/harness.ts's schema):
 *   {"workload":"pingpong","impl":"c-mpi","ranks":2,"params":{"bytes":B,"trips":T},
 *    "wall_s":S,"result":{"bytes":B},"metrics":{"one_way_us":U,"bandwidth_GBps":G,"min_s":S,"median_s":S}}
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long trips_for(long bytes, int quick) {
  long by_size = (long)((quick ? 2e7 : 4e8) / (double)(bytes > 2048 ? bytes : 2048));
  long cap = quick ? 2000 : 100000;
  long trips = by_size < cap ? by_size : cap;
  return trips > 3 ? trips : 3;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 2) {
    if (rank == 0) fprintf(stderr, "mpi_pingpong runs on 2 processes, not %d\n", size);
    MPI_Finalize();
    return 2;
  }
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const long sizes[] = {8, 1024, 1024 * 1024, 8 * 1024 * 1024, 64 * 1024 * 1024, 100000000};
  int count = quick ? 4 : 6;
  int peer = 1 - rank;
  int ok = 1;

  for (int s = 0; s < count; s++) {
    long bytes = sizes[s];
    long trips = trips_for(bytes, quick);
    unsigned char *buffer = malloc((size_t)bytes);
    if (buffer == NULL) MPI_Abort(MPI_COMM_WORLD, 1);
    double elapsed = 0;
    for (int timed = 0; timed < 2; timed++) {
      long n = timed ? trips : (trips < 100 ? trips : 100);
      if (timed) MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      for (long i = 0; i < n; i++) {
        if (rank == 0) {
          buffer[0] = buffer[bytes - 1] = 1;
          MPI_Send(buffer, (int)bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
          MPI_Recv(buffer, (int)bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          if (buffer[0] != 2 || buffer[bytes - 1] != 2) ok = 0;
        } else {
          MPI_Recv(buffer, (int)bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          if (buffer[0] != 1 || buffer[bytes - 1] != 1) ok = 0;
          buffer[0] = buffer[bytes - 1] = 2;
          MPI_Send(buffer, (int)bytes, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
        }
      }
      elapsed = MPI_Wtime() - t0;
    }
    free(buffer);
    if (rank == 0) {
      double one_way = elapsed / (2.0 * (double)trips);
      printf("{\"workload\":\"pingpong\",\"impl\":\"c-mpi\",\"ranks\":2,\"params\":{\"bytes\":%ld,\"trips\":%ld},"
             "\"wall_s\":%.9g,\"result\":{\"bytes\":%ld},\"metrics\":{\"one_way_us\":%.6g,\"bandwidth_GBps\":%.6g,"
             "\"min_s\":%.9g,\"median_s\":%.9g}}\n",
             bytes, trips, elapsed, bytes, one_way * 1e6, (double)bytes / one_way / 1e9, elapsed, elapsed);
      fflush(stdout);
    }
  }
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  if (!all_ok && rank == 0) fprintf(stderr, "mpi_pingpong: a received message had the wrong contents\n");
  MPI_Finalize();
  return all_ok ? 0 : 1;
}
