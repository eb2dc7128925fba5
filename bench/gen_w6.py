#!/usr/bin/env python3
"""W6 workload: N robot trajectories of T steps {x, y, collided} in the 10 × 10 arena of
bench/w6_safe.reward and bench/w6_window.reward (goal region x > 9 and y > 9).

Usage: gen_w6.py N T > rollouts.jsonl     (one {"steps": [{"x", "y", "collided"}, ...]} per line)

Each trajectory is a noisy walk pulled towards a target (x += 0.01 (tx - x) + N(0, s), the
same for y, clipped to [0, 10], 4 decimals): the target is the goal corner (9.6, 9.6) for half
of them and a random point otherwise, and the noise s is drawn per trajectory in [0.03, 0.3], so
some reach the goal and stay (long dwells satisfy the windowed formulas), some wander in and out,
some never arrive. A collision happens with probability ln(2) / T per step (about half of the
trajectories have one, whatever T). Starts in [0, 3]². Deterministic: fixed seed.
"""
import json
import math
import random
import sys

SEED = 6


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    t = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(SEED)
    p_collide = math.log(2) / t
    out = sys.stdout
    for _ in range(n):
        if rng.random() < 0.5:
            tx = ty = 9.6
        else:
            tx, ty = rng.uniform(0, 10), rng.uniform(0, 10)
        s = rng.uniform(0.03, 0.3)
        x, y = rng.uniform(0, 3), rng.uniform(0, 3)
        parts = []
        for _ in range(t):
            x = min(10.0, max(0.0, x + 0.01 * (tx - x) + rng.gauss(0, s)))
            y = min(10.0, max(0.0, y + 0.01 * (ty - y) + rng.gauss(0, s)))
            c = "true" if rng.random() < p_collide else "false"
            parts.append(f'{{"x":{round(x, 4)!r},"y":{round(y, 4)!r},"collided":{c}}}')
        out.write('{"steps":[' + ",".join(parts) + "]}\n")


if __name__ == "__main__":
    main()
