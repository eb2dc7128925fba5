#!/usr/bin/env python3
"""W1 peer: open-r1's GRPO reward (accuracy + format + tag count, weights 1/1/1) as TRL and
open-r1 compute it, on the rollouts of bench/gen_w1.py, timed on data already in memory.

Usage:
    peer_w1.py score ROLLOUTS.jsonl [--mv-limit K] [--repeat R]   (runs in bench/.venv-mathverify)
    peer_w1.py compare ROLLOUTS.jsonl OURS.jsonl PEER.jsonl        (plain python3, no venv)

score: one JSON line per rollout to stdout, {"format": f, "tag_count": t, "accuracy": a}
(accuracy only for the first K rollouts: 1.0 / 0.0 / null = TRL's None, gold not parseable),
and the timing line to stderr:
    PEER w1 <n> <median s format+tag on n> <K> <s accuracy on K> <median s json.loads of n>
- accuracy: `trl.rewards.accuracy_reward` itself (TRL 1.16.0, math-verify 0.9.0 inside: parse the
  gold, parse the completion with boxed answers first, verify; TRL's own timeouts, 10 s parse /
  5 s verify, active in the main thread), called once per prompt's group of completions, as
  GRPOTrainer calls a reward function on a batch. math-verify takes milliseconds per completion,
  so it is timed once on the first K rollouts (--mv-limit, default all), after one warm-up call.
- format and tag count: open-r1's `format_reward` and `tag_count_reward`, re-typed here from
  huggingface/open-r1 src/open_r1/rewards.py (re.match of
  r"^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$" with re.DOTALL | re.MULTILINE; 0.25 per
  tag string counted exactly once with str.count), called on the whole batch; median of R runs.
The virtualenv is the one of bench/oracles/math_corpus.py, created here too if missing:
    pip install math-verify[antlr4_13_2]==0.9.0; pip install --no-deps trl==1.16.0 packaging

compare: checks that our format and tag-count terms equal the peer's on every rollout (exit 1
otherwise), and prints accuracy against the known truth (column `truth`) for ours (all rollouts
and the first K) and math-verify (the first K), their agreement, and the split by answer form
and wrapper.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-mathverify"
MV_SPEC = os.environ.get("MATH_VERIFY_SPEC", "math-verify[antlr4_13_2]==0.9.0")
TRL_SPEC = os.environ.get("TRL_SPEC", "trl==1.16.0")

# ---------------------------------------------------------------- open-r1, re-typed
# huggingface/open-r1, src/open_r1/rewards.py: format_reward and tag_count_reward (same
# expressions, taking plain strings instead of chat messages).
FORMAT_PATTERN = r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$"


def format_reward(contents):
    matches = [re.match(FORMAT_PATTERN, content, re.DOTALL | re.MULTILINE) for content in contents]
    return [1.0 if match else 0.0 for match in matches]


def tag_count_reward(contents):
    def count_tags(text: str) -> float:
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

    return [count_tags(c) for c in contents]


# ---------------------------------------------------------------- venv


def ensure_venv() -> None:
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    probe = subprocess.run([str(py), "-c", "import math_verify, trl.rewards"], capture_output=True)
    if probe.returncode != 0:
        pip = [str(py), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + [MV_SPEC], check=True)
        subprocess.run(pip + ["--no-deps", TRL_SPEC, "packaging"], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def score(path: str, mv_limit: int | None, repeat: int) -> None:
    ensure_venv()
    import logging

    logging.disable(logging.WARNING)  # math-verify logs every unparseable answer
    from trl.rewards import accuracy_reward

    lines = open(path, encoding="utf-8").read().splitlines()
    parse_times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        rows = [json.loads(line) for line in lines]
        parse_times.append(time.perf_counter() - t0)
    contents = [r["completion"] for r in rows]
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fmt = format_reward(contents)
        tag = tag_count_reward(contents)
        times.append(time.perf_counter() - t0)
    k = len(rows) if mv_limit is None else min(mv_limit, len(rows))
    # warm-up: the first call imports sympy parts and builds math-verify's regexes
    accuracy_reward([[{"role": "assistant", "content": "\\boxed{1}"}]], ["$1$"])
    acc = []
    t0 = time.perf_counter()
    i = 0
    while i < k:
        j = i
        while j < k and rows[j]["prompt_id"] == rows[i]["prompt_id"]:
            j += 1
        acc += accuracy_reward([[{"role": "assistant", "content": c}] for c in contents[i:j]],
                               [r["solution"] for r in rows[i:j]])
        i = j
    mv_s = time.perf_counter() - t0
    out = sys.stdout
    for idx, (f, t) in enumerate(zip(fmt, tag)):
        rec = {"format": f, "tag_count": t}
        if idx < k:
            rec["accuracy"] = acc[idx]
        out.write(json.dumps(rec) + "\n")
    sys.stderr.write(f"PEER w1 {len(rows)} {statistics.median(times):.6f} {k} {mv_s:.6f} "
                     f"{statistics.median(parse_times):.6f}\n")


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.2f}%" if b else "-"


def compare(rollouts: str, ours_path: str, peer_path: str) -> None:
    rows = [json.loads(line) for line in open(rollouts, encoding="utf-8")]
    ours = [json.loads(line) for line in open(ours_path, encoding="utf-8")]
    peer = [json.loads(line) for line in open(peer_path, encoding="utf-8")]
    if not (len(rows) == len(ours) == len(peer)):
        sys.exit(f"W1: {len(rows)} rollouts, {len(ours)} of our lines, {len(peer)} peer lines")
    bad = []
    for i, (o, p) in enumerate(zip(ours, peer)):
        if "terms" not in o:
            bad.append((i, "error record", o))
            continue
        t = o["terms"]
        if float(t["format"]) != p["format"] or t["tag_count"] != p["tag_count"]:
            bad.append((i, (t["format"], t["tag_count"]), (p["format"], p["tag_count"])))
    if bad:
        print(f"W1: format/tag count DIFFER from open-r1's on {len(bad)} rollouts, e.g. #{bad[0][0]}: "
              f"ours {bad[0][1]} vs peer {bad[0][2]}")
        sys.exit(1)
    n = len(rows)
    k = sum(1 for p in peer if "accuracy" in p)
    fmt_on = sum(1 for p in peer if p["format"] == 1.0)
    print(f"  format and tag count identical to open-r1's regexes on all {n} completions "
          f"(format met by {fmt_on}, tag count 1.0 on {sum(1 for p in peer if p['tag_count'] == 1.0)})")
    truth = [r["truth"] for r in rows]
    o_acc = [o["terms"]["accuracy"] for o in ours]
    m_acc = [p.get("accuracy") == 1.0 for p in peer[:k]]
    m_none = sum(1 for p in peer[:k] if p.get("accuracy") is None)
    o_right = sum(1 for a, t in zip(o_acc, truth) if a == t)
    o_right_k = sum(1 for a, t in zip(o_acc[:k], truth[:k]) if a == t)
    m_right = sum(1 for a, t in zip(m_acc, truth[:k]) if a == t)
    agree = sum(1 for a, b in zip(o_acc[:k], m_acc) if a == b)
    sub = f"all {k}" if k == n else f"the first {k}"
    print(f"  accuracy term right against the known truth: ours {o_right}/{n} = {pct(o_right, n)}; "
          + ("" if k == n else f"on the first {k}: ours {pct(o_right_k, k)}, ")
          + f"math-verify (TRL accuracy_reward) {m_right}/{k} = {pct(m_right, k)} "
          f"({m_none} None: gold not parseable, counted wrong)")
    print(f"  ours and math-verify agree on {agree}/{k} = {pct(agree, k)}; where they differ, ours is "
          f"right on {sum(1 for a, b, t in zip(o_acc[:k], m_acc, truth) if a != b and a == t)}, "
          f"math-verify on {sum(1 for a, b, t in zip(o_acc[:k], m_acc, truth) if a != b and b == t)}")
    for key in ("form", "wrapper", "layout", "solution_style"):
        vals = sorted({r[key] for r in rows[:k]})
        cells = []
        for v in vals:
            idx = [i for i in range(k) if rows[i][key] == v]
            o = sum(1 for i in idx if o_acc[i] == truth[i])
            m = sum(1 for i in idx if m_acc[i] == truth[i])
            cells.append(f"{v} {len(idx)}: {pct(o, len(idx))} / {pct(m, len(idx))}")
        print(f"  right by {key} ({sub}; ours / math-verify): " + "; ".join(cells))


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "score":
        mv_limit, repeat, path = None, 3, None
        i = 1
        while i < len(args):
            if args[i] == "--mv-limit":
                mv_limit = int(args[i + 1]); i += 2
            elif args[i] == "--repeat":
                repeat = int(args[i + 1]); i += 2
            else:
                path = args[i]; i += 1
        score(path, mv_limit, repeat)
    elif args and args[0] == "compare" and len(args) == 4:
        compare(*args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
