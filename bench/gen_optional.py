#!/usr/bin/env python3
"""Trajectories whose steps leave optional fields out (helper of bench/run_optional.sh).

Usage:
    gen_optional.py carl N T > rollouts.jsonl    CARLA steps for examples/carl_driving.reward:
        route_completion and speed always; speed_limit_kmh on 95% of steps (never the first);
        comfort_violations on 20%; each of the ten event flags on 5% (true rarely for the
        terminal ones); the rest left out, as CaRL's per-step info leaves them.
    gen_optional.py robot N T > rollouts.jsonl   robot steps for examples/robot_reach_avoid.reward:
        x, y (a random walk), obstacle_dist always; `bumped` given on 30% of steps, null on 10%,
        left out on the rest.

Seeded, so a run is reproducible.
"""
import json
import random
import sys

TERMINAL = ["collision", "red_light", "stop_sign", "blocked", "off_route", "off_road", "timeout"]
PENALTIES = ["outside_lanes", "ttc", "lane_center"]


def carl_step(rng, i, completion):
    s = {"route_completion": round(completion, 4), "speed": round(rng.uniform(0, 12), 3)}
    if i > 0 and rng.random() < 0.95:
        s["speed_limit_kmh"] = rng.choice([30.0, 40.0, 50.0])
    if rng.random() < 0.2:
        s["comfort_violations"] = rng.randint(0, 6)
    for f in PENALTIES + TERMINAL:
        if rng.random() < 0.05:
            s[f] = rng.random() < (0.0002 if f in TERMINAL else 0.3)
    return s


def robot_step(rng, pos):
    pos[0] += rng.uniform(-0.1, 0.2)
    pos[1] += rng.uniform(-0.1, 0.2)
    s = {"x": round(pos[0], 3), "y": round(pos[1], 3), "obstacle_dist": round(rng.uniform(0.4, 3.0), 3)}
    u = rng.random()
    if u < 0.3:
        s["bumped"] = rng.random() < 0.001
    elif u < 0.4:
        s["bumped"] = None
    return s


def main():
    kind, n, t = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(11)
    for r in range(n):
        if kind == "carl":
            steps, completion = [], 0.0
            for i in range(t):
                completion += rng.uniform(0.0, 0.02)
                steps.append(carl_step(rng, i, completion))
        else:
            pos = [0.0, 0.0]
            steps = [robot_step(rng, pos) for _ in range(t)]
        print(json.dumps({"run": f"{kind}{r}", "steps": steps}))


if __name__ == "__main__":
    main()
