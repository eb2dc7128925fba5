#!/usr/bin/env python3
"""Plain-Python peer of examples/r1_zero.reward, written the way open-r1/TRL write it:
format_reward (re.match with DOTALL|MULTILINE), tag_count_reward, and an accuracy check on the
<answer> content (exact string or float match; math-verify itself is the peer of issue 5).

Usage: peer_r1.py rollouts.jsonl  -> prints rollouts/s (single core) to stderr, scores to stdout
"""
import json
import re
import sys
import time

FORMAT = re.compile(r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$", re.DOTALL | re.MULTILINE)
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
BOXED = re.compile(r"\\boxed\{(.*)\}")


def tag_count(text: str) -> float:
    count = 0.0
    if text.count("<think>\n") == 1:
        count += 0.25
    if text.count("\n</think>\n") == 1:
        count += 0.25
    if text.count("\n<answer>\n") == 1:
        count += 0.25
    if text.count("\n</answer>") == 1:
        count += 0.25
    return count


def accuracy(text: str, gold: str) -> float:
    m = ANSWER.search(text)
    if not m:
        return 0.0
    pred = m.group(1).strip()
    if not pred:
        return 0.0
    if pred == gold:
        return 1.0
    try:
        return 1.0 if abs(float(pred) - float(gold)) <= 1e-9 * max(1.0, abs(float(gold))) else 0.0
    except ValueError:
        return 0.0


def main() -> None:
    rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
    start = time.perf_counter()
    out = []
    for r in rows:
        c = r["completion"]
        m = BOXED.search(r["solution"])
        g = m.group(1) if m else r["solution"].strip()
        fmt = 1.0 if FORMAT.match(c) else 0.0
        out.append(accuracy(c, g) + fmt + tag_count(c))
    elapsed = time.perf_counter() - start
    sys.stderr.write(f"peer: {len(rows)} rollouts in {elapsed:.3f} s = {len(rows) / elapsed:.0f} rollouts/s (scoring only, parsing excluded)\n")
    for s in out:
        print(s)


if __name__ == "__main__":
    main()
