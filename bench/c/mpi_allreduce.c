/*
 * mpi_allreduce: the C-MPI reference of bench/allreduce.ts (and of
 * bench/mpi4py/allreduce.py): collective costs on the N processes mpirun
 * starts. Built by the bench (bench/mpi_reference.ts) with mpicc -O2 into a
 * cache directory; never committed as a binary.
 *
 *   mpirun -np N mpi_allreduce [--quick]
 *
 * Cases (the names of allreduce.ts / allreduce.py):
 * - allreduce_1_double: MPI_Allreduce SUM of one double (rank + 1);
 * - allreduce_1Mi_doubles: MPI_Allreduce SUM of 1 Mi doubles into another buffer;
 * - bcast_8MiB: MPI_Bcast of 8 MiB from rank 0.
 * Timing as allreduce.py's time_calls: reps untimed calls (warm-up), a
 * barrier, reps timed calls; seconds per call = elapsed / reps on each rank,
 * then the slowest rank's (MPI_MAX). reps: 100,000 (quick 20,000) for one
 * double, 40 (quick 5) for the big ones. Each result is checked against its
 * expected value (result.check, exit status 1 when wrong).
 *
 * Rank 0 prints one JSON line per case (bench/workloads/harness.ts's schema):
 *   {"workload":"allreduce","impl":"c-mpi","ranks":N,"params":{"op":NAME,"bytes":B,"reps":R},
 *    "wall_s":S,"result":{"check":C},"metrics":{"us_per_call":U,"min_s":S,"median_s":S}}
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024 * 1024)

enum { ALLREDUCE_1, ALLREDUCE_1MI, BCAST_8MIB };

static double one_in, one_out, *vector_in, *vector_out;
static unsigned char *bytes8;

static void call(int which) {
  switch (which) {
    case ALLREDUCE_1: MPI_Allreduce(&one_in, &one_out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); break;
    case ALLREDUCE_1MI: MPI_Allreduce(vector_in, vector_out, MIB, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); break;
    default: MPI_Bcast(bytes8, 8 * MIB, MPI_BYTE, 0, MPI_COMM_WORLD); break;
  }
}

/* Seconds per call (the slowest rank's), after reps warm-up calls. */
static double time_calls(int which, long reps) {
  for (long i = 0; i < reps; i++) call(which);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (long i = 0; i < reps; i++) call(which);
  double mine = (MPI_Wtime() - t0) / (double)reps, slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  long scalar_reps = quick ? 20000 : 100000, big_reps = quick ? 5 : 40;
  double expected = (double)size * (size + 1) / 2;

  one_in = rank + 1;
  vector_in = malloc(MIB * sizeof(double));
  vector_out = malloc(MIB * sizeof(double));
  bytes8 = malloc(8 * MIB);
  if (vector_in == NULL || vector_out == NULL || bytes8 == NULL) MPI_Abort(MPI_COMM_WORLD, 1);
  for (long i = 0; i < MIB; i++) vector_in[i] = rank + 1;
  memset(bytes8, rank == 0 ? 7 : 0, 8 * MIB);

  struct { const char *name; int which; long bytes, reps; } cases[] = {
    {"allreduce_1_double", ALLREDUCE_1, 8, scalar_reps},
    {"allreduce_1Mi_doubles", ALLREDUCE_1MI, 8L * MIB, big_reps},
    {"bcast_8MiB", BCAST_8MIB, 8L * MIB, big_reps},
  };
  int ok = 1;
  for (int c = 0; c < 3; c++) {
    double seconds = time_calls(cases[c].which, cases[c].reps);
    double check = c == 0 ? one_out : c == 1 ? vector_out[MIB - 1] : bytes8[8 * MIB - 1];
    double want = c == 2 ? 7 : expected;
    if (check != want) ok = 0;
    if (rank == 0) {
      double wall = seconds * (double)cases[c].reps;
      printf("{\"workload\":\"allreduce\",\"impl\":\"c-mpi\",\"ranks\":%d,\"params\":{\"op\":\"%s\",\"bytes\":%ld,\"reps\":%ld},"
             "\"wall_s\":%.9g,\"result\":{\"check\":%.17g},\"metrics\":{\"us_per_call\":%.6g,\"min_s\":%.9g,\"median_s\":%.9g}}\n",
             size, cases[c].name, cases[c].bytes, cases[c].reps, wall, check, seconds * 1e6, wall, wall);
      fflush(stdout);
      if (check != want) fprintf(stderr, "mpi_allreduce: %s gave %.17g, expected %.17g\n", cases[c].name, check, want);
    }
  }
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  free(vector_in);
  free(vector_out);
  free(bytes8);
  MPI_Finalize();
  return all_ok ? 0 : 1;
}
