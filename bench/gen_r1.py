#!/usr/bin/env python3
"""Deterministic R1-zero workload: N completions of think/answer text with gold answers.

Mix (fixed seed): well-formed and correct, well-formed and wrong, empty answer tags, broken
format, long reasoning (0.5k-8k words). Usage: gen_r1.py N > rollouts.jsonl
"""
import json
import random
import sys

WORDS = ("so we need to compute the value of x then add the remaining terms and check that "
         "the result is consistent with the constraints given in the problem statement").split()


def reasoning(rng: random.Random) -> str:
    n = rng.choice([500, 1000, 2000, 4000, 8000]) // 4 * rng.randint(1, 4)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8192
    rng = random.Random(20261201)
    for i in range(n):
        gold = rng.choice([str(rng.randint(-100, 1000)), f"\\frac{{{rng.randint(1, 9)}}}{{{rng.randint(10, 19)}}}", f"{rng.randint(1, 99)}.5"])
        kind = rng.random()
        think = reasoning(rng)
        if kind < 0.45:
            answer = gold
        elif kind < 0.8:
            answer = str(rng.randint(-100, 1000))
        elif kind < 0.9:
            answer = ""
        else:
            answer = None
        if answer is None:
            completion = f"{think}\nThe answer is {gold}."
        else:
            completion = f"<think>\n{think}\n</think>\n<answer>\n{answer}\n</answer>"
        solution = f"Working through the problem step by step gives $\\boxed{{{gold}}}$."
        print(json.dumps({"problem_id": f"p{i // 16}", "completion": completion, "solution": solution}))


if __name__ == "__main__":
    main()
