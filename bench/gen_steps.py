#!/usr/bin/env python3
"""Deterministic numeric workload: N trajectories of T steps (x, y, dx, collided), for a
dense-reward spec (bench/steps.reward). Usage: gen_steps.py N T > rollouts.jsonl"""
import json
import random
import sys


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    t = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rng = random.Random(7)
    for _ in range(n):
        x = y = 0.0
        steps = []
        for _ in range(t):
            dx, dy = rng.uniform(-1, 1), rng.uniform(-1, 1)
            x, y = x + dx, y + dy
            steps.append({"x": round(x, 4), "y": round(y, 4), "dx": round(dx, 4), "collided": rng.random() < 0.01})
        print(json.dumps({"steps": steps, "goal_x": 5.0, "goal_y": 5.0}))


if __name__ == "__main__":
    main()
