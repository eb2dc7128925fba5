#!/usr/bin/env python3
"""Plain-Python peer of bench/gsm8k_dapo.reward, written from verl's gsm8k.compute_score and
DAPO's reward (Minerva normalisation reduced to the same rules as std::math::normalize_answer
for these integer answers) — the per-call overhead floor of a Python reward.
Usage: peer_gsm8k.py rollouts.jsonl -> prints rollouts/s (scoring only) to stderr, scores to stdout."""
import json
import re
import sys
import time

HASH = re.compile(r"#### (\-?[0-9\.\,]+)")
ANSWER = re.compile(r"(?i)Answer\s*:\s*([^\n]+)")


def extract_solution(s):
    s = s[-300:]
    found = HASH.findall(s)
    if not found:
        return None
    return found[-1].replace(",", "")


def normalize(a):
    a = a.strip().strip("$").replace(" ", "").rstrip(".")
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", a):
        a = a.replace(",", "")
    return a


def soft_overlong(length, max_len, cache):
    if length <= max_len - cache:
        return 0.0
    if length <= max_len:
        return (max_len - cache - length) / cache
    return -1.0


def score(r):
    c, gold = r["completion"], r["answer"]
    sol = extract_solution(c)
    gsm8k = 1.0 if sol is not None and sol == gold else 0.0
    m = ANSWER.findall(c)
    pred = m[-1].strip() if m else ""
    dapo = (1.0 if normalize(pred) == normalize(gold) else -1.0) + soft_overlong(r["response_tokens"], 20480, 4096)
    return gsm8k + dapo


def main():
    rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
    t = time.perf_counter()
    out = [score(r) for r in rows]
    dt = time.perf_counter() - t
    sys.stderr.write(f"peer: {len(rows)} rollouts in {dt:.3f} s = {len(rows) / dt:.0f} rollouts/s (scoring only, parsing excluded)\n")
    for s in out:
        print(s)


if __name__ == "__main__":
    main()
