/*
 * serial-c: the serial C reference of the benchmark workloads, built by the
 * bench (bench/workloads/serialc.ts) with gcc -O3 -march=native
 * -ffp-contract=off into a cache directory; never committed as a binary.
 *
 *   serial WORKLOAD REPS ARGS...  (see main below)
 *
 * Inputs (initial fields, matrices) come from the harness as raw float64
 * files written by the TypeScript side, and outputs (final fields, products)
 * go back the same way, so the checks and fingerprints are computed by the
 * same TypeScript code as for every other implementation. The kernels keep
 * the TypeScript loops' operation order and -ffp-contract=off keeps gcc from
 * fusing a multiply and an add, so fields and products are bit-identical to
 * serial-js. Each repetition resets (untimed) and times its phases with
 * CLOCK_MONOTONIC; one JSON line on stdout:
 *   {"wall":[...],"phases":{"name":[...],...},"scalars":{...}}
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double *readDoubles(const char *path, size_t n) {
  double *out = aligned_alloc(64, ((n * sizeof(double) + 63) / 64) * 64 + 64);
  FILE *f = fopen(path, "rb");
  if (out == NULL || f == NULL || fread(out, sizeof(double), n, f) != n) {
    fprintf(stderr, "serial-c: cannot read %zu doubles from %s\n", n, path);
    exit(1);
  }
  fclose(f);
  return out;
}

static void writeDoubles(const char *path, const double *values, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(values, sizeof(double), n, f) != n) {
    fprintf(stderr, "serial-c: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

static double *zeros(size_t n) {
  double *out = aligned_alloc(64, ((n * sizeof(double) + 63) / 64) * 64 + 64);
  if (out == NULL) {
    fprintf(stderr, "serial-c: out of memory (%zu doubles)\n", n);
    exit(1);
  }
  memset(out, 0, n * sizeof(double));
  return out;
}

/* Timings: up to 2 phases × 100 repetitions. */
static int reps;
static int phaseCount;
static const char *phaseNames[2];
static double phaseSeconds[2][100];

static void printTimings(const char *scalars) {
  printf("{\"wall\":[");
  for (int r = 0; r < reps; r++) {
    double total = 0;
    for (int p = 0; p < phaseCount; p++) total += phaseSeconds[p][r];
    printf("%s%.9g", r ? "," : "", total);
  }
  printf("],\"phases\":{");
  for (int p = 0; p < phaseCount; p++) {
    printf("%s\"%s\":[", p ? "," : "", phaseNames[p]);
    for (int r = 0; r < reps; r++) printf("%s%.9g", r ? "," : "", phaseSeconds[p][r]);
    printf("]");
  }
  printf("},\"scalars\":{%s}}\n", scalars);
}

/* heat1d N R STEPS IN OUT: the 3-point stencil of heat1d.ts, both ends fixed. */
static void heat1d(char **argv) {
  size_t n = strtoull(argv[0], NULL, 10);
  double r = strtod(argv[1], NULL);
  long steps = strtol(argv[2], NULL, 10);
  double *u0 = readDoubles(argv[3], n), *u = zeros(n), *next = zeros(n);
  phaseCount = 1;
  phaseNames[0] = "run";
  for (int rep = 0; rep < reps; rep++) {
    memcpy(u, u0, n * sizeof(double));
    double t0 = now();
    for (long s = 0; s < steps; s++) {
      for (size_t i = 1; i <= n - 2; i++) next[i] = u[i] + r * (u[i - 1] - 2 * u[i] + u[i + 1]);
      double *done = u;
      u = next;
      next = done;
    }
    phaseSeconds[0][rep] = now() - t0;
  }
  writeDoubles(argv[4], u, n);
  printTimings("");
}

/* heat2d NX NY STEPS R IN OUT: the 5-point stencil of heat2d.ts, edges fixed. */
static void heat2d(char **argv) {
  size_t nx = strtoull(argv[0], NULL, 10), ny = strtoull(argv[1], NULL, 10);
  long steps = strtol(argv[2], NULL, 10);
  double r = strtod(argv[3], NULL);
  double *u0 = readDoubles(argv[4], nx * ny), *u = zeros(nx * ny), *next = zeros(nx * ny);
  phaseCount = 1;
  phaseNames[0] = "run";
  for (int rep = 0; rep < reps; rep++) {
    memcpy(u, u0, nx * ny * sizeof(double));
    double t0 = now();
    for (long s = 0; s < steps; s++) {
      for (size_t i = 1; i < ny - 1; i++) {
        const double *restrict c = u + i * nx;
        double *restrict o = next + i * nx;
        for (size_t j = 1; j < nx - 1; j++) o[j] = c[j] + r * (c[j - nx] + c[j + nx] + c[j - 1] + c[j + 1] - 4 * c[j]);
      }
      double *done = u;
      u = next;
      next = done;
    }
    phaseSeconds[0][rep] = now() - t0;
  }
  writeDoubles(argv[5], u, nx * ny);
  printTimings("");
}

/* y = A·x over `rows` rows in matvec.ts multiplyRows' order: each dot product in two interleaved
   halves (even and odd j, in order), then s0 + s1, then the odd last term. The pair of sums is one
   SIMD register for gcc; rows go four at a time so x is read once per four rows. */
static void multiplyRows(const double *restrict a, size_t rows, size_t n, const double *restrict x, double *restrict y) {
  size_t i = 0;
  for (; i + 4 <= rows; i += 4) {
    double s[4][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    const double *row = a + i * n;
    size_t j = 0;
    for (; j + 1 < n; j += 2)
      for (int r = 0; r < 4; r++) {
        s[r][0] += row[r * n + j] * x[j];
        s[r][1] += row[r * n + j + 1] * x[j + 1];
      }
    for (int r = 0; r < 4; r++) y[i + r] = j < n ? s[r][0] + s[r][1] + row[r * n + j] * x[j] : s[r][0] + s[r][1];
  }
  for (; i < rows; i++) {
    double s0 = 0, s1 = 0;
    const double *row = a + i * n;
    size_t j = 0;
    for (; j + 1 < n; j += 2) {
      s0 += row[j] * x[j];
      s1 += row[j + 1] * x[j + 1];
    }
    y[i] = j < n ? s0 + s1 + row[j] * x[j] : s0 + s1;
  }
}

static double normalizeInto(const double *y, double *x, size_t n) {
  double squares = 0;
  for (size_t i = 0; i < n; i++) squares += y[i] * y[i];
  double norm = sqrt(squares);
  for (size_t i = 0; i < n; i++) x[i] = y[i] / norm;
  return norm;
}

/* matvec N ITERATIONS A X0 OUT: a one-shot product, then power iterations (matvec.ts). */
static void matvec(char **argv) {
  size_t n = strtoull(argv[0], NULL, 10);
  long iterations = strtol(argv[1], NULL, 10);
  double *a = readDoubles(argv[2], n * n), *x0 = readDoubles(argv[3], n);
  double *x = zeros(n), *y = zeros(n), *y0 = zeros(n);
  double lambda = 0;
  phaseCount = 2;
  phaseNames[0] = "oneshot";
  phaseNames[1] = "iterate";
  for (int rep = 0; rep < reps; rep++) {
    memcpy(x, x0, n * sizeof(double));
    double t0 = now();
    multiplyRows(a, n, n, x0, y0);
    double t1 = now();
    for (long k = 0; k < iterations; k++) {
      multiplyRows(a, n, n, x, y);
      lambda = normalizeInto(y, x, n);
    }
    phaseSeconds[0][rep] = t1 - t0;
    phaseSeconds[1][rep] = now() - t1;
  }
  writeDoubles(argv[4], y0, n);
  char scalars[64];
  snprintf(scalars, sizeof scalars, "\"lambda\":%.17g", lambda);
  printTimings(scalars);
}

/* matmul N A B OUT: C = A·B, i-p-j loops (each element summed in order p = 0, 1, ...). */
static void matmul(char **argv) {
  size_t n = strtoull(argv[0], NULL, 10);
  double *a = readDoubles(argv[1], n * n), *b = readDoubles(argv[2], n * n), *c = zeros(n * n);
  phaseCount = 1;
  phaseNames[0] = "multiply";
  for (int rep = 0; rep < reps; rep++) {
    double t0 = now();
    memset(c, 0, n * n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
      double *restrict ci = c + i * n;
      for (size_t p = 0; p < n; p++) {
        const double aip = a[i * n + p];
        const double *restrict bp = b + p * n;
        for (size_t j = 0; j < n; j++) ci[j] += aip * bp[j];
      }
    }
    phaseSeconds[0][rep] = now() - t0;
  }
  writeDoubles(argv[3], c, n * n);
  printTimings("");
}

/* trapezoid INTERVALS: trapezoid.ts trapezoidSum over all intervals. */
static double f(double x) { return sqrt(fmax(0, 1 - x * x)); }

static void trapezoid(char **argv) {
  long intervals = strtol(argv[0], NULL, 10);
  double integral = 0;
  phaseCount = 1;
  phaseNames[0] = "run";
  for (int rep = 0; rep < reps; rep++) {
    double t0 = now();
    double h = 1.0 / (double)intervals;
    double sum = (f(0 * h) + f((double)intervals * h)) / 2;
    for (long i = 1; i < intervals; i++) sum += f((double)i * h);
    integral = sum * h;
    phaseSeconds[0][rep] = now() - t0;
  }
  char scalars[64];
  snprintf(scalars, sizeof scalars, "\"integral\":%.17g", integral);
  printTimings(scalars);
}

/* pi SAMPLES SEED CHUNK: Monte Carlo π in chunks; chunk c draws from xoshiro256+ seeded by
   splitmix64 from (seed, c) — its own generator, so `inside` differs from rankflow's streams. */
static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void pi(char **argv) {
  long samples = strtol(argv[0], NULL, 10), seed = strtol(argv[1], NULL, 10), chunk = strtol(argv[2], NULL, 10);
  long inside = 0;
  phaseCount = 1;
  phaseNames[0] = "run";
  for (int rep = 0; rep < reps; rep++) {
    double t0 = now();
    inside = 0;
    for (long c = 0; c * chunk < samples; c++) {
      uint64_t sm = (uint64_t)seed * 0x100000001b3ULL ^ (uint64_t)c, s[4];
      for (int k = 0; k < 4; k++) s[k] = splitmix(&sm);
      long count = samples - c * chunk < chunk ? samples - c * chunk : chunk;
      for (long i = 0; i < count; i++) {
        double v[2];
        for (int k = 0; k < 2; k++) {
          uint64_t result = s[0] + s[3], t = s[1] << 17;
          s[2] ^= s[0];
          s[3] ^= s[1];
          s[1] ^= s[2];
          s[0] ^= s[3];
          s[2] ^= t;
          s[3] = rotl(s[3], 45);
          v[k] = (double)(result >> 11) * 0x1.0p-53;
        }
        inside += v[0] * v[0] + v[1] * v[1] <= 1;
      }
    }
    phaseSeconds[0][rep] = now() - t0;
  }
  char scalars[64];
  snprintf(scalars, sizeof scalars, "\"inside\":%ld", inside);
  printTimings(scalars);
}

int main(int argc, char **argv) {
  static const struct { const char *name; int args; void (*run)(char **); } workloads[] = {
    {"heat1d", 5, heat1d}, {"heat2d", 6, heat2d}, {"matvec", 5, matvec}, {"matmul", 4, matmul}, {"trapezoid", 1, trapezoid}, {"pi", 3, pi},
  };
  if (argc >= 3) {
    reps = atoi(argv[2]);
    for (size_t w = 0; w < sizeof workloads / sizeof workloads[0]; w++)
      if (strcmp(argv[1], workloads[w].name) == 0 && argc == 3 + workloads[w].args && reps >= 1 && reps <= 100) {
        workloads[w].run(argv + 3);
        return 0;
      }
  }
  fprintf(stderr, "usage: serial heat1d|heat2d|matvec|matmul|trapezoid|pi REPS ARGS... (see bench/c/serial.c)\n");
  return 2;
}
