/* W6 limit: the bare loop for `always(not collided) and eventually(at_goal)` over data already
 * in memory (no JSON), N trajectories × T steps of pseudo-random data with the shape of
 * bench/gen_w6.py (rare collisions, a goal region reached late or never). One pass per
 * trajectory, as a hand-written monitor would do it; prints ns/step for two loops:
 * - truth only, over precomputed booleans (`collided`, `at_goal`): the floor of the truth;
 * - the same work as bench/w6_safe.reward: from x, y (doubles) and collided (a byte), the
 *   truth of `safe` and its robustness (min over steps of ±inf for `not collided`, max over
 *   steps of min(x - 9, y - 9) for `at_goal`, their min).
 * Usage: cc -O2 -o /tmp/w6_loop bench/w6_loop.c && /tmp/w6_loop [N] [T] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200, t = argc > 2 ? atol(argv[2]) : 10000;
    unsigned char *collided = malloc(n * t), *at_goal = malloc(n * t);
    double *x = malloc(n * t * sizeof(double)), *y = malloc(n * t * sizeof(double));
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (long i = 0; i < n * t; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        collided[i] = (s % 20000) == 0;
        at_goal[i] = (i % t) > t - 50 && (s % 3) == 0;
        x[i] = 10.0 * (double)(i % t) / (double)t + (double)(s % 1000) * 1e-4;
        y[i] = at_goal[i] ? 9.5 : 2.0 + (double)(s % 7000) * 1e-3;
    }
    struct timespec a, b;
    long holds = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int rep = 0; rep < 5; rep++) {
        holds = 0;
        for (long k = 0; k < n; k++) {
            int safe = 1, reached = 0;
            const unsigned char *c = collided + k * t, *g = at_goal + k * t;
            for (long i = 0; i < t; i++) {
                safe &= !c[i];
                reached |= g[i];
            }
            holds += safe && reached;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 5.0 / (n * t);
    printf("bare loop: %ld of %ld hold; %.3f ns/step (%.0f M steps/s)\n", holds, n, ns, 1e3 / ns);

    double total = 0.0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int rep = 0; rep < 5; rep++) {
        holds = 0;
        total = 0.0;
        for (long k = 0; k < n; k++) {
            int safe = 1, reached = 0;
            double never = INFINITY, best = -INFINITY;
            const unsigned char *c = collided + k * t;
            const double *xs = x + k * t, *ys = y + k * t;
            for (long i = 0; i < t; i++) {
                /* Comparisons, not fmin/fmax (library calls at -O2): this data has no NaN. */
                double dx = xs[i] - 9.0, dy = ys[i] - 9.0;
                double goal = dx < dy ? dx : dy, atom = c[i] ? -INFINITY : INFINITY;
                safe &= !c[i];
                reached |= dx > 0.0 && dy > 0.0;
                never = atom < never ? atom : never;
                best = goal > best ? goal : best;
            }
            holds += safe && reached;
            total += never < best ? never : best;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 5.0 / (n * t);
    printf("bare loop, truth and robustness from x, y, collided: %ld of %ld hold, total %g; %.3f ns/step (%.0f M steps/s)\n",
           holds, n, total, ns, 1e3 / ns);
    return 0;
}
