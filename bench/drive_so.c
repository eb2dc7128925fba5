/* Times a reward library on a JSON Lines file from C: reward_score_json per line (the library
 * API's per-call path) and reward_score_batch on the whole buffer. Prints scores to stdout and
 * timings to stderr. Build: cc -O2 -o drive drive_so.c -I DIR -L DIR -lNAME -Wl,-rpath,DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include HEADER

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    FILE *f = fopen(argv[1], "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc(size + 1);
    if (fread(data, 1, size, f) != (size_t)size) return 2;
    data[size] = 0;
    size_t lines = 0;
    for (long i = 0; i < size; i++) lines += data[i] == '\n';
    double *scores = malloc(sizeof(double) * (lines + 1));
    double t0 = now();
    size_t k = 0;
    char *p = data;
    while (*p) {
        char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        reward_score_json(p, n, &scores[k++]);
        p += n + (e ? 1 : 0);
    }
    double t1 = now();
    int64_t m = reward_score_batch(data, size, scores, lines + 1);
    double t2 = now();
    fprintf(stderr, "so per-call: %zu rollouts in %.3f s = %.0f rollouts/s\n", k, t1 - t0, k / (t1 - t0));
    fprintf(stderr, "so batch: %lld rollouts in %.3f s = %.0f rollouts/s\n", (long long)m, t2 - t1, m / (t2 - t1));
    for (size_t i = 0; i < k; i++) printf("%.17g\n", scores[i]);
    return 0;
}
