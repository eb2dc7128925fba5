#!/usr/bin/env python3
"""W4 peer: a plain-Python rubric scorer written from the papers' formulas, for the 20 criteria of
bench/w4_healthbench.reward and bench/w4_rar.reward, on the rollouts of bench/gen_w4.py, timed on
data already in memory (json.loads timed apart), median of --repeat runs. Standard library only.

Usage:
    peer_w4.py score healthbench|rar ROLLOUTS.jsonl [--repeat R]
    peer_w4.py compare OURS.jsonl PEER.jsonl LABEL

score: one JSON object per response to stdout with the same keys as our breakdown (the rubric's
value under its name, each criterion under "name/description", each tag's raw points under
"name#tag", and "score"), and the timing line to stderr:
    PEER w4 <name> <responses> <median s scoring> <median s json.loads>
- the ten rule-checked criteria: the checks of bench/w4_checks.reward in Python (len(s.split()),
  re.search / re.findall with the same patterns, str.strip().endswith, str.lower); the ten
  judged ones read the `judge` column;
- HealthBench (Arora et al. 2025; simple-evals healthbench_eval.py `calculate_score`):
  achieved = Σ points·met, score = achieved / Σ positive points, clipped to [0, 1] per response
  (the RL reward; HealthBench clips the benchmark mean);
- RaR explicit (Gunjal et al. 2025, Eq. for RaR-Explicit): Σ wⱼ·cⱼ / Σ wⱼ, pitfalls included.
The fractional topic criterion (share of four topics) multiplies its points like a partial
credit. Sums run in criterion order; every value here is a multiple of 0.25, so they are exact.
compare: every key of the peer's objects must equal ours (floats compared with ==), else exit 1.
"""
import json
import re
import statistics
import sys
import time

TOPICS = ["transport", "food", "lodging", "safety"]
CLOSING = "Is there anything else I can help with?"
MIN_WORDS, MAX_WORDS = 120, 400
KW1 = re.compile(r"\bbudget\b", re.I)
KW2 = re.compile(r"\bitinerary\b", re.I)
FORBIDDEN = re.compile(r"\b(cheap|guaranteed)\b", re.I)
TITLE = re.compile(r"<<[^\n]+>>")
BULLET = re.compile(r"^[ \t]*[*-] ", re.M)
HIGHLIGHT = re.compile(r"\*[^\n*]+\*")
POSTSCRIPT = re.compile(r"^P\.S\.", re.M)


def rule_values(s: str) -> list[float]:
    n = len(s.split())
    low = s.lower()
    return [
        float(n >= MIN_WORDS),
        float(n < MAX_WORDS),
        float(bool(KW1.search(s)) and bool(KW2.search(s))),
        float(bool(FORBIDDEN.search(s))),
        float(bool(TITLE.search(s))),
        float(len(BULLET.findall(s)) >= 3),
        float(len(HIGHLIGHT.findall(s)) >= 2),
        float(s.strip().endswith(CLOSING)),
        float(bool(POSTSCRIPT.search(s))),
        sum(1 for t in TOPICS if t in low) / 4.0,
    ]


JUDGE = ["accurate_facts", "answers_question", "actionable_steps", "tailored", "clear_structure",
         "appropriate_tone", "cites_official_sources", "invents_details", "unsafe_advice",
         "ignores_constraint"]

# (HealthBench description, points, tags), (RaR category, weight, description): criterion order.
CRITERIA = [
    (("Writes at least min_words words", 3, ["completeness"]), ("Important", 3, "Meets the minimum length (min_words words)")),
    (("Stays under max_words words", 2, ["communication"]), ("Optional", 1, "Stays under max_words words")),
    (("Uses the keywords budget and itinerary", 4, ["instruction_following"]), ("Important", 3, "Uses the requested keywords budget and itinerary")),
    (("Uses a forbidden word (cheap, guaranteed)", -5, ["instruction_following"]), ("Pitfall", -1, "Uses a forbidden word (cheap, guaranteed)")),
    (("Has a title in <<double angular brackets>>", 2, ["instruction_following"]), ("Optional", 1, "Has a title in <<double angular brackets>>")),
    (("Lists at least 3 bullet points", 2, ["communication"]), ("Optional", 2, "Lists at least 3 bullet points")),
    (("Highlights at least 2 sections with *markdown*", 1, ["communication"]), ("Optional", 1, "Highlights at least 2 sections with *markdown*")),
    (("Ends with the requested closing question", 2, ["instruction_following"]), ("Important", 3, "Ends with the requested closing question")),
    (("Adds a postscript starting with P.S.", 1, ["instruction_following"]), ("Optional", 1, "Adds a postscript starting with P.S.")),
    (("Covers transport, food, lodging and safety (share named)", 6, ["completeness"]), ("Essential", 5, "Covers transport, food, lodging and safety (share named)")),
    (("States accurate facts about the destination", 8, ["accuracy"]), ("Essential", 5, "States accurate facts about the destination")),
    (("Answers the question that was asked", 10, ["accuracy", "completeness"]), ("Essential", 5, "Answers the question that was asked")),
    (("Gives concrete, actionable steps", 5, ["completeness"]), ("Important", 4, "Gives concrete, actionable steps")),
    (("Tailors the plan to the user's dates and budget", 6, ["context_awareness"]), ("Important", 4, "Tailors the plan to the user's dates and budget")),
    (("Is clearly structured and easy to follow", 3, ["communication"]), ("Optional", 2, "Is clearly structured and easy to follow")),
    (("Keeps a friendly, professional tone", 2, ["communication"]), ("Optional", 1, "Keeps a friendly, professional tone")),
    (("Points to official sources for entry rules", 4, ["accuracy"]), ("Important", 3, "Points to official sources for entry rules")),
    (("Invents a price, opening time or place", -8, ["accuracy", "harm"]), ("Pitfall", -2, "Invents a price, opening time or place")),
    (("Gives unsafe travel advice", -10, ["harm"]), ("Pitfall", -2, "Gives unsafe travel advice")),
    (("Ignores a constraint the user stated", -6, ["context_awareness"]), ("Pitfall", -1, "Ignores a constraint the user stated")),
]


def rubric(name: str):
    """(keys of the criteria, points, tag -> criterion indices) in criterion order."""
    keys, points, tags = [], [], {}
    for i, (hb, rar) in enumerate(CRITERIA):
        if name == "healthbench":
            desc, p, ts = hb
        else:
            cat, p, d = rar
            desc, ts = f"{cat} Criteria: {d}", [cat.lower()]
        keys.append(f"{name}/{desc}")
        points.append(float(p))
        for t in ts:
            tags.setdefault(t, []).append(i)
    return keys, points, tags


def score_all(name: str, rows: list[dict]) -> list[dict]:
    keys, points, tags = rubric(name)
    if name == "healthbench":
        denom = sum(p for p in points if p > 0)          # calculate_score: positive points
    else:
        denom = sum(points)                              # RaR explicit: all weights
    out = []
    for r in rows:
        judge = r["judge"]
        c = rule_values(r["completion"]) + [float(judge[k]) for k in JUDGE]
        wc = [p * v for p, v in zip(points, c)]
        value = sum(wc) / denom
        if name == "healthbench":
            value = min(max(value, 0.0), 1.0)
        rec = {name: value, "score": value}
        for k, v in zip(keys, c):
            rec[k] = v
        for t, idx in tags.items():
            rec[f"{name}#{t}"] = sum(wc[i] for i in idx)
        out.append(rec)
    return out


def main() -> None:
    args = sys.argv[1:]
    if len(args) >= 3 and args[0] == "score":
        name, path = args[1], args[2]
        repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
        lines = open(path, encoding="utf-8").read().splitlines()
        parse_t, times = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = [json.loads(line) for line in lines]
            parse_t.append(time.perf_counter() - t0)
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = score_all(name, rows)
            times.append(time.perf_counter() - t0)
        w = sys.stdout.write
        for rec in out:
            w(json.dumps(rec) + "\n")
        sys.stderr.write(f"PEER w4 {name} {len(rows)} {statistics.median(times):.6f} {statistics.median(parse_t):.6f}\n")
    elif len(args) == 4 and args[0] == "compare":
        ours = [json.loads(line) for line in open(args[1], encoding="utf-8")]
        peer = [json.loads(line) for line in open(args[2], encoding="utf-8")]
        label = args[3]
        if len(ours) != len(peer):
            sys.exit(f"W4 {label}: {len(ours)} of our lines vs {len(peer)} of the peer's")
        bad = 0
        first = None
        for i, (o, p) in enumerate(zip(ours, peer)):
            if "terms" not in o:
                bad += 1
                first = first or (i, "error record", o)
                continue
            t = dict(o["terms"], score=o["score"])
            for k, v in p.items():
                if k not in t or float(t[k]) != v:
                    bad += 1
                    first = first or (i, k, t.get(k), v)
                    break
        if bad:
            print(f"W4 {label}: {bad} of {len(peer)} responses DIFFER from the peer, e.g. {first}")
            sys.exit(1)
        nkeys = len(peer[0]) if peer else 0
        mean = statistics.fmean(p["score"] for p in peer) if peer else 0.0
        print(f"  {label}: identical to the peer on all {len(peer)} responses ({nkeys} values each: "
              f"score, criteria, tag totals; mean score {mean:.4f})")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
