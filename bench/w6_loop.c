/* W6 limit: the bare loop for `always(not collided) and eventually(at_goal)` over data already
 * in memory (no JSON), N trajectories × T steps of pseudo-random data with the shape of
 * bench/gen_w6.py (rare collisions, a goal region reached late or never). One pass per
 * trajectory, as a hand-written monitor would do it; prints ns/step for two loops:
 * - truth only, over precomputed booleans (`collided`, `at_goal`): the floor of the truth;
 * - the same work as bench/w6_safe.reward: from x, y (doubles) and collided (a byte), the
 *   truth of `safe` and its robustness (min over steps of ±inf for `not collided`, max over
 *   steps of min(x - 9, y - 9) for `at_goal`, their min).
 * - the same work as bench/w6_machine.reward: from x, y and collided, the machine's atoms, its
 *   step from a table per (state, valuation), each step's reward stored (the run record holds
 *   them) and their total.
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

    /* bench/w6_machine.reward: states setout 0, half 1, goal 2, crashed 3 (none terminal);
     * valuation bits collided 1, halfway 2, at_goal 4: next state and reward. */
    static int next[4][8];
    static double pay[4][8];
    for (int v = 0; v < 8; v++) {
        int hit = v & 1, half = (v >> 1) & 1, goal = (v >> 2) & 1;
        next[0][v] = hit ? 3 : half ? 1 : 0;
        pay[0][v] = hit ? -1.0 : half ? 0.5 : 0.0;
        next[1][v] = hit ? 3 : goal ? 2 : !half ? 0 : 1;
        pay[1][v] = hit ? -1.0 : goal ? 1.0 : !half ? -0.25 : 0.0;
        next[2][v] = hit ? 3 : !goal ? 1 : 2;
        pay[2][v] = hit ? -1.0 : !goal ? -0.5 : 0.0;
        next[3][v] = hit ? 3 : 0;
        pay[3][v] = 0.0;
    }
    double *rewards = malloc(t * sizeof(double));
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int rep = 0; rep < 5; rep++) {
        holds = 0;
        total = 0.0;
        for (long k = 0; k < n; k++) {
            const unsigned char *c = collided + k * t;
            const double *xs = x + k * t, *ys = y + k * t;
            int state = 0;
            double sum = 0.0;
            for (long i = 0; i < t; i++) {
                int v = c[i] | ((xs[i] > 5.0) & (ys[i] > 5.0)) << 1 | ((xs[i] > 9.0) & (ys[i] > 9.0)) << 2;
                double r = pay[state][v];
                rewards[i] = r;
                sum += r;
                state = next[state][v];
            }
            holds += state == 2;
            total += sum;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 5.0 / (n * t);
    printf("bare loop, the machine from x, y, collided: %ld of %ld end at the goal, total %g; %.3f ns/step (%.0f M steps/s)\n",
           holds, n, total, ns, 1e3 / ns);
    return 0;
}
