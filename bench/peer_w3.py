#!/usr/bin/env python3
"""W3 peer: the shaping terms of bench/w3_shaping.reward computed by TRL's own reward functions
and open-r1's (re-typed), on the rollouts of bench/gen_w3.py, timed on data already in memory
(the conversion to each function's input format and json.loads are timed apart), median of
--repeat runs.

Usage:
    peer_w3.py score ROLLOUTS.jsonl [--repeat R]      (runs in bench/.venv-trl)
    peer_w3.py compare OURS.jsonl PEER.jsonl          (plain python3, no venv)

score: one JSON object per rollout to stdout, {"cosine", "repetition", "repetition_text",
"overlong", "length", "score"}, and the timing line to stderr:
    PEER w3 <n> <tokens> <s cosine> <s repetition> <s repetition_text> <s overlong> <s length>
        <s total> <s json.loads>
Every function is called once per prompt's group of completions (GRPOTrainer calls a reward
function on a batch), with the arguments GRPOTrainer passes:
- cosine: trl.rewards.get_cosine_scaled_reward(max_len=8192) (defaults -1, -0.5, 0.5, 1) on
  (completions, solution, completion_ids). It gets correctness from TRL's accuracy_reward
  (math-verify); that module attribute is replaced by a function returning the group's
  `correct` column (1.0 / 0.0), as bench/oracles/trl_rewards.py does, so TRL's own length
  schedule is what runs. W1 times math-verify.
- repetition: trl.rewards.get_repetition_penalty_reward(ngram_size=3, max_penalty=-1.0) on the ids.
- overlong: trl.rewards.get_soft_overlong_punishment(max_completion_len=8192, soft_punish_cache=2048).
- repetition_text and length: open-r1's `get_repetition_penalty_reward(3, -1.0)` (n-grams of the
  lower-cased words) and `len_reward` (Kimi k1.5: lengths in characters, min/max over the batch,
  here a prompt's group), re-typed below from huggingface/open-r1 src/open_r1/rewards.py, with
  correctness from the `correct` column instead of math-verify (open-r1 treats an unparseable
  gold as correct; every row here has a flag).
- score: cosine + repetition + repetition_text + overlong + length, in that order (as ours).
The venv is bench/.venv-trl (TRL 1.16.0 without dependencies: trl.rewards needs neither torch
nor transformers), created here too if missing.
compare: every value must equal ours exactly (-0.0 == 0.0); otherwise the largest difference is
printed and it exits 1 unless every difference is within 1e-12.
"""
import json
import os
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-trl"
TRL_SPEC = os.environ.get("TRL_SPEC", "trl==1.16.0")
MAX_LEN, NGRAM, MAX_PENALTY, MAX_COMPLETION_LEN, CACHE = 8192, 3, -1.0, 8192, 2048
KEYS = ["cosine", "repetition", "repetition_text", "overlong", "length", "score"]


# ---------------------------------------------------------------- open-r1, re-typed
# huggingface/open-r1, src/open_r1/rewards.py: get_repetition_penalty_reward (text form) and
# len_reward, with math-verify's verdict replaced by the given `correctness` list.
def get_repetition_penalty_reward(ngram_size: int, max_penalty: float):
    if max_penalty > 0:
        raise ValueError(f"max_penalty {max_penalty} should not be positive")

    def zipngram(text: str, ngram_size: int):
        words = text.lower().split()
        return zip(*[words[i:] for i in range(ngram_size)])

    def repetition_penalty_reward(completions, **kwargs) -> list[float]:
        contents = [completion[0]["content"] for completion in completions]
        rewards = []
        for completion in contents:
            if completion == "":
                rewards.append(0.0)
                continue
            if len(completion.split()) < ngram_size:
                rewards.append(0.0)
                continue
            ngrams = set()
            total = 0
            for ng in zipngram(completion, ngram_size):
                ngrams.add(ng)
                total += 1
            scaling = 1 - len(ngrams) / total
            reward = scaling * max_penalty
            rewards.append(reward)
        return rewards

    return repetition_penalty_reward


def len_reward(completions, correctness) -> list[float]:
    contents = [completion[0]["content"] for completion in completions]
    lengths = [len(content) for content in contents]
    min_len = min(lengths)
    max_len = max(lengths)
    if max_len == min_len:
        return [0.0] * len(completions)
    rewards = []
    for length, is_correct in zip(lengths, correctness):
        lambda_val = 0.5 - (length - min_len) / (max_len - min_len)
        if is_correct:
            reward = lambda_val
        else:
            reward = min(0, lambda_val)
        rewards.append(float(reward))
    return rewards


# ---------------------------------------------------------------- venv


def ensure_venv() -> None:
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if subprocess.run([str(py), "-c", "import trl.rewards"], capture_output=True).returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", TRL_SPEC, "packaging"], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def score(path: str, repeat: int) -> None:
    ensure_venv()
    import trl.rewards.accuracy_rewards as accuracy_rewards
    from trl.rewards import (get_cosine_scaled_reward, get_repetition_penalty_reward as trl_repetition,
                             get_soft_overlong_punishment)

    lines = open(path, encoding="utf-8").read().splitlines()
    parse_t = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        rows = [json.loads(line) for line in lines]
        parse_t.append(time.perf_counter() - t0)
    # groups of consecutive rows with one prompt_id, in the arguments GRPOTrainer passes
    groups = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j]["prompt_id"] == rows[i]["prompt_id"]:
            j += 1
        g = rows[i:j]
        groups.append({
            "completions": [[{"role": "assistant", "content": r["completion"]}] for r in g],
            "solution": [""] * len(g),
            "completion_ids": [r["completion_ids"] for r in g],
            "flags": [1.0 if r["correct"] else 0.0 for r in g],
        })
        i = j
    cosine_fn = get_cosine_scaled_reward(max_len=MAX_LEN)
    rep_fn = trl_repetition(ngram_size=NGRAM, max_penalty=MAX_PENALTY)
    rep_text_fn = get_repetition_penalty_reward(NGRAM, MAX_PENALTY)
    over_fn = get_soft_overlong_punishment(max_completion_len=MAX_COMPLETION_LEN, soft_punish_cache=CACHE)
    current = {}
    accuracy_rewards.accuracy_reward = lambda completions, solution, **kw: list(current["flags"])

    def run_cosine(g):
        current["flags"] = g["flags"]
        return cosine_fn(g["completions"], g["solution"], g["completion_ids"])

    parts = {
        "cosine": run_cosine,
        "repetition": lambda g: rep_fn(g["completion_ids"]),
        "repetition_text": lambda g: rep_text_fn(g["completions"]),
        "overlong": lambda g: over_fn(g["completion_ids"]),
        "length": lambda g: len_reward(g["completions"], g["flags"]),
    }
    results, times = {}, {}
    for name, fn in parts.items():
        ts = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            vals = []
            for g in groups:
                vals += fn(g)
            ts.append(time.perf_counter() - t0)
        results[name], times[name] = vals, statistics.median(ts)
    total = sum(times.values())
    w = sys.stdout.write
    for k in range(len(rows)):
        rec = {name: results[name][k] for name in parts}
        rec["score"] = rec["cosine"] + rec["repetition"] + rec["repetition_text"] + rec["overlong"] + rec["length"]
        w(json.dumps(rec) + "\n")
    tokens = sum(len(r["completion_ids"]) for r in rows)
    sys.stderr.write(f"PEER w3 {len(rows)} {tokens} " + " ".join(f"{times[p]:.6f}" for p in parts)
                     + f" {total:.6f} {statistics.median(parse_t):.6f}\n")


def compare(ours_path: str, peer_path: str) -> None:
    ours = [json.loads(line) for line in open(ours_path, encoding="utf-8")]
    peer = [json.loads(line) for line in open(peer_path, encoding="utf-8")]
    if len(ours) != len(peer):
        sys.exit(f"W3: {len(ours)} of our lines vs {len(peer)} of the peer's")
    worst = (0.0, None)
    diffs = {k: 0 for k in KEYS}
    for i, (o, p) in enumerate(zip(ours, peer)):
        if "terms" not in o:
            sys.exit(f"W3: our line {i + 1} is an error record: {o}")
        t = dict(o["terms"], score=o["score"])
        for k in KEYS:
            a, b = float(t[k]), float(p[k])
            if a != b:
                diffs[k] += 1
                d = abs(a - b)
                if d > worst[0] or worst[1] is None:
                    worst = (d, (i, k, a, b))
    n = len(peer)
    nonzero = {k: sum(1 for p in peer if p[k] != 0) for k in KEYS}
    if any(diffs.values()):
        print(f"  values that differ: {diffs}; largest difference {worst[0]:.3g} at {worst[1]}")
        if worst[0] > 1e-12:
            print("W3: DIFFERENT from the peer beyond 1e-12")
            sys.exit(1)
        print(f"  every difference is within 1e-12 on all {n} rollouts")
    else:
        print(f"  identical to the peer on all {n} rollouts, every term equal (==, so -0.0 = 0.0) "
              f"(non-zero: " + ", ".join(f"{k} {v}" for k, v in nonzero.items()) + ")")


def main() -> None:
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "score":
        repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
        score(args[1], repeat)
    elif len(args) == 3 and args[0] == "compare":
        compare(args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
