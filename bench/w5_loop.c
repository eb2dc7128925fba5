/* W5 limit: the bare table-lookup step loop over pre-tokenised labels (written by
 * `peer_w5.py table`): per step one load of next[state][label] and reward[state][label]; the
 * ended state is an absorbing sink, so there is no branch. No JSON, no allocation: the floor
 * any reward-machine engine could reach on this data.
 * Build: cc -O2 -o w5_loop bench/w5_loop.c.  Usage: w5_loop TABLE.bin [REPEAT]
 * Prints per-trajectory totals to stdout, `LIMIT <steps> <median seconds>` to stderr. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void must_read(void *p, size_t size, size_t n, FILE *f) {
    if (fread(p, size, n, f) != n) {
        fprintf(stderr, "w5_loop: short table file\n");
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: w5_loop TABLE.bin [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 5;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    int32_t hdr[4];
    must_read(hdr, sizeof(int32_t), 4, f);
    int32_t n = hdr[0], ns = hdr[1], nl = hdr[2], start = hdr[3];
    int32_t *next = malloc(sizeof(int32_t) * ns * nl);
    double *rew = malloc(sizeof(double) * ns * nl);
    int32_t *len = malloc(sizeof(int32_t) * n);
    must_read(next, sizeof(int32_t), (size_t)ns * nl, f);
    must_read(rew, sizeof(double), (size_t)ns * nl, f);
    must_read(len, sizeof(int32_t), n, f);
    size_t steps = 0;
    for (int32_t i = 0; i < n; i++) steps += len[i];
    uint8_t *lab = malloc(steps + 1);
    must_read(lab, 1, steps, f);
    fclose(f);
    /* Premultiplied tables: index = state * nl + label. */
    for (int32_t i = 0; i < ns * nl; i++) next[i] *= nl;
    double *totals = malloc(sizeof(double) * n);
    double *times = malloc(sizeof(double) * repeat);
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        const uint8_t *p = lab;
        for (int32_t i = 0; i < n; i++) {
            int32_t s = start * nl;
            double total = 0.0;
            for (int32_t k = 0; k < len[i]; k++) {
                int32_t idx = s + p[k];
                total += rew[idx];
                s = next[idx];
            }
            p += len[i];
            totals[i] = total;
        }
        times[r] = now() - t0;
    }
    qsort(times, repeat, sizeof(double), cmp);
    for (int32_t i = 0; i < n; i++) printf("%.17g\n", totals[i]);
    fprintf(stderr, "LIMIT %zu %.9f\n", steps, times[repeat / 2]);
    return 0;
}
