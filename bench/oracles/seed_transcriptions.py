#!/usr/bin/env python3
"""Independent Python transcriptions of the seed systems' rewards, checked against the examples.

Usage (any python3 >= 3.9, no packages):

    python3 bench/oracles/seed_transcriptions.py [path/to/reward]     # default: `reward` on PATH

For each example below, `reward score examples/NAME.reward examples/NAME.jsonl` is compared row
by row with a transcription of the source's formula, written here from the paper or its
released code (each example's header cites both). Where the reference runs in float64 the
comparison is exact (or to 1e-12 where the summation order differs); the transcriptions are
not the reference code itself (most of it needs a simulator, a GPU trainer or an LLM judge),
so they check the spec against the formula as read, term by term.
"""

import json
import math
import re
import string
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REWARD = sys.argv[1] if len(sys.argv) > 1 else "reward"


def score(name, *params):
    args = [REWARD, "score"]
    for p in params:
        args += ["--param", p]
    args += [str(ROOT / f"examples/{name}.reward"), str(ROOT / f"examples/{name}.jsonl")]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def rows(name):
    return [json.loads(line) for line in (ROOT / f"examples/{name}.jsonl").read_text().splitlines()]


# ---------------------------------------------------------------- carl_driving
# autonomousvision/CaRL team_code_roach/reward/simple_reward.py, SimpleReward.get (defaults).
def carl(row):
    last, total = 0.0, 0.0
    for s in row["steps"]:
        g = lambda k: s.get(k) or False
        term = any(g(k) for k in ["collision", "red_light", "stop_sign", "blocked", "off_route", "off_road", "timeout"])
        terminal = (0.0 - 1.0) if term and (g("collision") or g("red_light")) else 0.0
        progress = s["route_completion"] - last
        last = s["route_completion"]
        if g("outside_lanes"):
            progress = 0.0
        limit = s.get("speed_limit_kmh")
        limit = limit / 3.6 if isinstance(limit, float) else 6.0
        if s["speed"] - limit > 0.0:
            progress = max(0.0, 1.0 - (s["speed"] - limit) / 2.23) * progress
        if g("ttc"):
            progress = 0.5 * progress
        comfort = 1.0 - 0.5 * (min(max(s.get("comfort_violations") or 0, 0), 6) / 6.0)
        if comfort < 1.0:
            progress = comfort * progress
        progress = (0.5 if g("lane_center") else 1.0) * progress
        total += progress + terminal
        if term:
            break
    return total


# ---------------------------------------------------------------- chasing_tail_rubric
# Jun-Kai-Zhang/rubrics generator/score_responses.py, parse_explicit_verifier_output.
def chasing_tail(row):
    w = {c.get("local_id", f"c{i + 1}"): int(c.get("weight", 1)) for i, c in enumerate(row["criteria"])}
    s = row["verifier_output"].strip()
    m = re.search(r"\{.*\}", s, re.DOTALL)
    pair = r'"(c\d+)"\s*:\s*"(yes|no)"'
    if m:
        js = m.group(0)
    else:
        pairs = re.findall(pair, s, re.IGNORECASE)
        if not pairs:
            return 0.0
        js = "{" + ", ".join(f'"{k}":"{v}"' for k, v in pairs) + "}"
    try:
        answers = json.loads(js)
    except json.JSONDecodeError:
        pairs = re.findall(pair, js, re.IGNORECASE)
        if not pairs:
            return 0.0
        answers = {k: v.lower() for k, v in pairs}
    return float(sum(w[k] for k, a in answers.items() if k in w and a.lower() == "yes"))


# ---------------------------------------------------------------- ui_r1_gui_action
# UI-R1 src/ui_r1/src/open_r1/grpo_json_action_coord.py: accuracy_action + accuracy_coord + format.
def _ui_answer(r):
    m = re.search(r"<answer>(.*?)</answer>", r, re.DOTALL)
    return m.group(1).strip() if m else None


def _ui_action(r):
    a = _ui_answer(r)
    if a is None:
        return None
    m = re.search(r"'action':\s*'(\w+)'", a) or re.search(r"'action':\s*(\w+)", a)
    return m.group(1) if m else None


def _ui_ints(r, pat, n):
    a = _ui_answer(r)
    m = re.search(pat, a) if a is not None else None
    return [int(m.group(i + 1)) for i in range(n)] if m else [0] * n


def ui_r1(row):
    c, sol, scales = row["completion"], row["solution"], row["scales"]
    pa, ga = _ui_action(c), _ui_action(sol)
    match = bool(pa and ga and pa == ga)
    coord = 0.0
    if match:
        if pa == "click":
            p = _ui_ints(c, r"\[(\d+),\s*(\d+)]", 2)
            p = [int(p[0] * scales[0]), int(p[1] * scales[1])]
            b = _ui_ints(sol, r"\[(\d+),\s*(\d+),\s*(\d+),\s*(\d+)]", 4)
            coord = 1.0 if b[0] <= p[0] <= b[2] and b[1] <= p[1] <= b[3] else 0.0
        else:
            coord = 1.0
    fmt = 1.0 if re.fullmatch(r"<think>.*?</think>\s*<answer>.*?</answer>", c, re.DOTALL) else 0.0
    return (1.0 if match else 0.0) + coord + fmt


# ---------------------------------------------------------------- crowdvlm_count
# yeyimilk/CrowdVLM-R1 .../open_r1/grpo_rec.py: count_reward + count_format_reward.
def crowdvlm(row):
    c, sol = row["completion"], row["solution"]
    reward = 0.0
    try:
        m = re.search(r"<answer>(\d+)</answer>", c, re.DOTALL)
        if m:
            gap = abs(sol - int(m.group(1))) / sol
            if gap < 0.5:
                reward = 1.5 - gap
    except ZeroDivisionError:
        pass
    if reward < 0 or reward > 1000000 or math.isinf(reward):
        reward = 0.0
    fmt = 1.0 if re.fullmatch(r"<think>.*?</think>\s*<answer>(\d+)</answer>", c, re.DOTALL) else 0.0
    return reward + fmt


# ---------------------------------------------------------------- maniplvm_trajectory
# ManipLVM-R1 (arXiv:2505.16517) trajectory terms as the example documents them.
def _d(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _dfd(p, q):
    ca = [[0.0] * len(q) for _ in p]
    for i in range(len(p)):
        for j in range(len(q)):
            c = _d(p[i], q[j])
            if i == 0 and j == 0:
                ca[i][j] = c
            elif i == 0:
                ca[i][j] = max(ca[i][j - 1], c)
            elif j == 0:
                ca[i][j] = max(ca[i - 1][j], c)
            else:
                ca[i][j] = max(min(ca[i - 1][j], ca[i - 1][j - 1], ca[i][j - 1]), c)
    return ca[-1][-1]


def _hd(p, q):
    return max(max(min(_d(a, b) for b in q) for a in p), max(min(_d(a, b) for a in p) for b in q))


def _rmse(p, g):
    n, m, s = len(p), len(g), 0.0
    for j in range(m):
        t = 0.0 if m == 1 else j * (n - 1) / (m - 1)
        i = int(math.floor(t))
        f, i2 = t - i, min(i + 1, n - 1)
        x = [p[i][0] + f * (p[i2][0] - p[i][0]), p[i][1] + f * (p[i2][1] - p[i][1])]
        s += _d(x, g[j]) ** 2
    return math.sqrt(s / m)


def maniplvm(row):
    a = re.search(r"<answer>(.*?)</answer>", row["completion"], re.S)
    a = a.group(1) if a else ""
    p = [[float(x), float(y)] for x, y in re.findall(r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]", a)]
    g = row["solution"]
    if not p:
        return 0.0
    fmt = 1.0 if re.search(r"<think>.*?</think>\s*<answer>.*?</answer>", row["completion"], re.S) and 3 <= len(p) <= 10 else 0.0
    k = 0.01
    return fmt + (math.exp(-k * _dfd(p, g)) + math.exp(-k * _hd(p, g)) + math.exp(-k * _rmse(p, g))) + math.exp(-k * _d(p[-1], g[-1]))


# ---------------------------------------------------------------- router_r1
# Router-R1 format_reward (verl/trainer/main_ppo.py of the fork the example cites), EM, cost.
POOL = {"qwen2.5-7b-instruct", "llama-3.1-8b-instruct", "llama-3.1-70b-instruct",
        "mistral-7b-instruct", "mixtral-8x22b-instruct", "gemma-2-27b-instruct"}
TAGS = ["search", "think", "answer", "information"]


def _router_format(c):
    m = re.findall(r"<(search|answer|think|information)>(.*?)</\1>", c, re.DOTALL)
    if not m or any(c.count(f"<{t}>") != c.count(f"</{t}>") for t in TAGS):
        return -1.0
    n = Counter()
    bad = False
    for action, content in m:
        content = content.strip()
        n[action] += 1
        if action == "search":
            if content.count(":") == 1:
                head, tail = content.split(":")[0], content.split(":")[-1]
                if (tail.strip() == "" or "llm-name" in content.lower() or "your-query" in content.lower()
                        or head.strip().lower() in tail.strip().lower()):
                    bad = True
                if head.strip().lower().replace(" ", "") not in POOL:
                    bad = True
            else:
                bad = True
        if action == "think" and content in ("...", ""):
            return -1.0
        if any(content.count(f"<{t}>") + content.count(f"</{t}>") for t in TAGS):
            return -1.0
    if n["answer"] != 1 or n["think"] == 0 or n["search"] != n["information"]:
        return -1.0
    c = c.strip()
    if c[:7] != "<think>" or c.rfind("</answer>") + 9 != len(c) or bad:
        return -1.0
    return 0.0


def _squad(s):
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def router(row, alpha):
    f = _router_format(row["completion"])
    if f < 0:
        return -1.0
    m = list(re.finditer(r"<answer>(.*?)</answer>", row["completion"], re.DOTALL))
    em = 0.0
    if m:
        a = _squad(m[-1].group(1).strip())
        em = 1.0 if any(_squad(g) == a for g in row["golden_answers"]) else 0.0
    cost = 0.5
    if "cost" in row and "cost_window" in row:
        lo, hi = row["cost_window"]["low"], row["cost_window"]["high"]
        if hi - lo >= 1e-8:
            cost = 1.0 - min(max((math.sqrt(row["cost"]) - lo) / (hi - lo), 0.0), 1.0)
    return f + (1 - alpha) * em + alpha * cost


# ---------------------------------------------------------------- omninwm_occupancy
# OmniNWM (arXiv:2510.18313) Eq. (1) with the occupancy query the example documents.
OBSTACLES = {"barrier", "bicycle", "bus", "car", "construction_vehicle", "motorcycle", "pedestrian",
             "traffic_cone", "trailer", "truck"}


def omninwm(row):
    out = []
    for s in row["steps"]:
        cy, sy = math.cos(s["yaw"]), math.sin(s["yaw"])
        col = any(c["label"] in OBSTACLES
                  and abs((c["x"] - s["x"]) * cy + (c["y"] - s["y"]) * sy) <= 4.08 / 2 + 0.2
                  and abs(-(c["x"] - s["x"]) * sy + (c["y"] - s["y"]) * cy) <= 1.73 / 2 + 0.2
                  for c in s["cells"])
        off = not any(c["label"] == "driveable_surface" and abs(c["x"] - s["x"]) <= 0.2 and abs(c["y"] - s["y"]) <= 0.2
                      for c in s["cells"])
        rc = -0.5 * abs(s["v"]) if col else 0.0
        rb = -0.3 if off else 0.0
        rv = -0.2 * math.tanh(abs(s["v"] - s.get("v_target", 10.0))) if s.get("flow", True) else 0.0
        out.append(1.0 + (rc + rb + rv) / 3.0)
    return sum(out) / len(out) if out else 0.0


# ---------------------------------------------------------------- par_reward
# PorUna-byte/PAR trainers/reward_shaper.py: length penalty, then reward_sigmoid + reward_relative.
def par(row):
    x = row["reward"]
    n = row.get("response_tokens", 0)
    if n > 300:
        x -= 0.01 * (n - 300)
    refs = row["ref_rewards"][:10]
    return sum(1 / (1 + math.exp(-(x - r))) for r in refs) / len(refs) if refs else 0.5


# ---------------------------------------------------------------- bounded_process_rewards
# PURE (CJReinforce/PURE openrlhf/utils/utils.py) and Clip/Delta (arXiv:2410.15115).
def _pure(p, t=0.1):
    if not p:
        return []
    xs = [-x / t for x in p]
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    z = sum(e)
    return [e[i] / z * p[i] for i in range(len(p))]


def _clip(p):
    return [min(x - 0.5, 0.0) for x in p]


def _delta(p):
    return [p[k] - p[k + 1] if k + 1 < len(p) else p[k] for k in range(len(p))]


MODES = {"pure": _pure, "sum": lambda p: p, "clip": _clip, "delta": _delta, "clip_delta": lambda p: _delta(_clip(p))}


def bounded(row, mode):
    outcome = 0.0 if "correct" not in row else (0.0 if row["correct"] else -1.0)
    return sum(MODES[mode](row["steps"])) + outcome


# ---------------------------------------------------------------- copo_group
# hijih/copo-code verl/trainer/ppo/core_algos.py: compute_score_global, local advantage, blend.
def copo(all_rows):
    groups = defaultdict(list)
    for i, r in enumerate(all_rows):
        groups[r["prompt_id"]].append(i)
    out = []
    for r in all_rows:
        idx = groups[r["prompt_id"]]
        n = len(idx)
        rs = [all_rows[j]["reward"] for j in idx]
        counts = Counter(all_rows[j]["answer"] for j in idx)
        h = -sum((v / n) * math.log2(v / n) for v in counts.values())
        lam = 0.0 if n == 1 else (1 - 1 / n) / math.log2(n)
        glob = (sum(rs) / n) * (1 - lam * h)
        if n == 1:
            adv = r["reward"] / (1.0 + 1e-6)
        else:
            mean = sum(rs) / n
            adv = (r["reward"] - mean) / (math.sqrt(sum((x - mean) ** 2 for x in rs) / (n - 1)) + 1e-6)
        w = 0.0 if n > 1 and len(set(rs)) == 1 else 1 / (1 + math.exp(-(h - 0.5)))
        out.append({"global_reward": glob, "local_advantage": adv, "local_weight": w})
    return out


# ---------------------------------------------------------------- rlrr_relative_rank
# The within-group rank normalisation of examples/rlrr_relative_rank.reward (RLRR's own mapping
# could not be read: see that file's header), with mean ranks for ties, and the GRPO advantage.
def rlrr(all_rows):
    groups = defaultdict(list)
    for r in all_rows:
        groups[r["prompt_id"]].append(r["rm_score"])
    out = []
    for r in all_rows:
        xs = groups[r["prompt_id"]]
        n, x = len(xs), r["rm_score"]
        below = sum(1 for y in xs if y < x)
        equal = sum(1 for y in xs if y == x)
        rank = below + (equal + 1) / 2
        mean = sum(xs) / n
        std = math.sqrt(sum((y - mean) ** 2 for y in xs) / n)
        out.append({"rank_reward": 0.5 if n == 1 else (rank - 1) / (n - 1),
                    "grpo_advantage": (x - mean) / (std + 0.0001)})
    return out


def close(a, b, tol):
    return a == b if tol == 0 else abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def main():
    failures = 0

    def check(label, expected, got, tol=0.0):
        nonlocal failures
        bad = [(i + 1, e, g) for i, (e, g) in enumerate(zip(expected, got)) if not close(e, g, tol)]
        if len(expected) != len(got):
            bad.append(("rows", len(expected), len(got)))
        failures += len(bad)
        print(f"{label}: {len(expected) - len(bad)}/{len(expected)} rows agree" + ("" if not bad else f"  {bad}"))

    simple = [("carl_driving", carl, 0.0), ("chasing_tail_rubric", chasing_tail, 0.0),
              ("ui_r1_gui_action", ui_r1, 0.0), ("crowdvlm_count", crowdvlm, 0.0),
              ("maniplvm_trajectory", maniplvm, 1e-9), ("omninwm_occupancy", omninwm, 1e-12),
              ("par_reward", par, 1e-15)]
    for name, fn, tol in simple:
        check(name, [fn(r) for r in rows(name)], [o["score"] for o in score(name)], tol)
    for alpha in (0.0, 0.3):
        check(f"router_r1 (cost_coe={alpha})", [router(r, alpha) for r in rows("router_r1")],
              [o["score"] for o in score("router_r1", f"cost_coe={alpha}")])
    for mode in MODES:
        check(f"bounded_process_rewards (mode={mode})", [bounded(r, mode) for r in rows("bounded_process_rewards")],
              [o["score"] for o in score("bounded_process_rewards", f'mode="{mode}"')], 1e-12)
    want = copo(rows("copo_group"))
    got = [o["terms"] for o in score("copo_group")]
    for term, tol in [("global_reward", 1e-12), ("local_advantage", 1e-9), ("local_weight", 1e-12)]:
        check(f"copo_group {term}", [w[term] for w in want], [g[term] for g in got], tol)
    want = rlrr(rows("rlrr_relative_rank"))
    got = [o["terms"] for o in score("rlrr_relative_rank")]
    for term, tol in [("rank_reward", 0.0), ("grpo_advantage", 1e-12)]:
        check(f"rlrr_relative_rank {term}", [w[term] for w in want], [g[term] for g in got], tol)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
