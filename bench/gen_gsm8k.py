#!/usr/bin/env python3
"""W2 workload: N short GSM8K-style completions (~50-300 words) with `#### n` and `Answer: n`.
Usage: gen_gsm8k.py N > rollouts.jsonl"""
import json
import random
import sys


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rng = random.Random(42)
    words = "first we add the apples then subtract the oranges and multiply by two to get".split()
    for _ in range(n):
        gold = str(rng.randint(0, 5000))
        pred = gold if rng.random() < 0.6 else str(rng.randint(0, 5000))
        body = " ".join(rng.choice(words) for _ in range(rng.randint(50, 300)))
        if pred != gold or rng.random() < 0.5:
            pred_fmt = f"{int(pred):,}"
        else:
            pred_fmt = pred
        completion = f"{body}\nAnswer: {pred}\n#### {pred_fmt}"
        tokens = rng.randint(100, 22000)
        print(json.dumps({"completion": completion, "answer": gold, "response_tokens": tokens}))


if __name__ == "__main__":
    main()
