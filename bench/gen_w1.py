#!/usr/bin/env python3
"""W1 workload: an R1-zero math step, PROMPTS prompts x PER_PROMPT completions of think/answer
text whose answers have a known truth. Deterministic (fixed seed).

Usage: gen_w1.py [PROMPTS] [PER_PROMPT] > rollouts.jsonl     (default 512 16: the design's 8,192)

Why: W1 compares examples/open_r1_grpo.reward (accuracy + format + tag count) with TRL's
accuracy_reward (math-verify) and open-r1's format / tag-count regexes. Format and tag count
must agree exactly; for accuracy neither checker is the truth, so every completion carries the
truth by construction, and both are scored against it.

Where the answers come from: tests/fixtures/math_corpus.jsonl (bench/oracles/math_corpus.py)
groups 680 gold answers (17 categories x 40) with 3 forms of equal value and 2 near misses each,
equality asserted on the underlying values by that generator. The golds are shuffled once (fixed
seed) and prompt p takes gold p mod 680, so any prefix of the prompts mixes the categories; its
completions state:
    45 %  the gold as written (truth: equal)                       form "gold"
    20 %  one of its 3 equal forms (\\frac{50}{12} for \\frac{25}{6}) form "equal"
    25 %  one of its 2 near misses (off by one, wrong sign, ...)     form "wrong"
    10 %  nothing: empty <answer> tags (truth: not equal)           form "empty"
The solution column is NuminaMath-style half the time ("... so the answer is $\\boxed{G}$.")
and the bare gold as the corpus writes it (MATH-style, sometimes inside $...$) otherwise.

Layouts (the format and tag-count terms): 75 % open-r1's exact layout
"<think>\\nR\\n</think>\\n<answer>\\nA\\n</answer>", 5 % the same followed by "\\nI hope this helps."
(open-r1's MULTILINE regex accepts it), 10 % no tags (reasoning, then "So the final answer is
$\\boxed{A}$."), 5 % tags on one line ("<think>R</think><answer>A</answer>": no format, tag count
0), 5 % think block then a boxed sentence (tag count 0.5). Inside <answer> the answer is a boxed
sentence (50 %), "$A$" (25 %) or bare (25 %). The reasoning R is 500-8,000 words (log-uniform;
a word stands for a token) of filler with inline math ($x_3 = 17$, $\\frac{4}{9}$); it never says
"answer is" and never uses \\boxed, so the stated answer is the one in the answer block (or the
final boxed sentence). The truth does not depend on the wrapper: an answer stated bare inside
<answer> tags is stated (math_corpus.py's convention).

Each line: {"prompt_id", "completion", "solution", "truth", "category", "form", "layout",
"wrapper", "solution_style" (boxed / bare)}; the spec reads completion and solution, the rest is
for the report.
"""
import json
import random
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "math_corpus.jsonl"
SEED = 20261202

WORDS = ("so we need to compute the value of x then add the remaining terms and check that "
         "the result is consistent with the constraints given in the problem statement wait "
         "let me recheck this step because the sign might be wrong hmm okay substituting back "
         "gives the same expression which simplifies nicely").split()
VARS = ["x", "y", "n", "k", "a_1", "x_3", "S", "r"]


def inline_math(rng: random.Random) -> str:
    k = rng.randrange(4)
    if k == 0:
        return f"${rng.choice(VARS)} = {rng.randint(-50, 200)}$"
    if k == 1:
        return f"$\\frac{{{rng.randint(1, 30)}}}{{{rng.randint(2, 40)}}}$"
    if k == 2:
        return f"${rng.randint(2, 20)} \\cdot {rng.randint(2, 20)} = {rng.randint(4, 400)}$"
    return f"$\\sqrt{{{rng.randint(2, 99)}}}$"


def reasoning(rng: random.Random) -> str:
    n = int(500 * 16 ** rng.random())
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.02:
            out.append(inline_math(rng))
        elif r < 0.05:
            out.append(rng.choice([".\n", ",", ".\n\n", ":"]))
        else:
            out.append(rng.choice(WORDS))
    return " ".join(out)


def strip_dollars(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == "$" and s[-1] == "$" else s


def wrap(rng: random.Random, answer: str) -> tuple[str, str]:
    r = rng.random()
    if r < 0.5:
        return "boxed", rng.choice(["So the final answer is $\\boxed{%s}$.", "Therefore, $\\boxed{%s}$.",
                                    "$\\boxed{%s}$"]) % answer
    if r < 0.75:
        return "dollar", f"${answer}$"
    return "bare", answer


def main() -> None:
    prompts = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    groups: dict[tuple[str, str], list[dict]] = {}
    with open(CORPUS, encoding="utf-8") as fh:
        next(fh)  # meta
        for line in fh:
            r = json.loads(line)
            groups.setdefault((r["category"], r["gold"]), []).append(r)
    keys = list(groups)  # file order, then a fixed shuffle: any prefix of prompts mixes categories
    random.Random(SEED + 1).shuffle(keys)
    rng = random.Random(SEED)
    for p in range(prompts):
        category, gold = keys[p % len(keys)]
        equal = [r["answer"] for r in groups[(category, gold)] if r["equal"]]
        wrong = [r["answer"] for r in groups[(category, gold)] if not r["equal"]]
        g = strip_dollars(gold)
        if rng.random() < 0.5:
            style = "boxed"
            solution = (f"Working through the problem step by step, we find {inline_math(rng)} and then "
                        f"simplify, so the answer is $\\boxed{{{g}}}$.")
        else:
            style, solution = "bare", gold
        for _ in range(per):
            r = rng.random()
            if r < 0.45:
                form, answer, truth = "gold", g, True
            elif r < 0.65:
                form, answer, truth = "equal", rng.choice(equal), True
            elif r < 0.9:
                form, answer, truth = "wrong", rng.choice(wrong), False
            else:
                form, answer, truth = "empty", "", False
            think = reasoning(rng)
            lay = rng.random()
            if form == "empty":
                layout, wrapper = "r1", "empty"
                completion = f"<think>\n{think}\n</think>\n<answer>\n\n</answer>"
            elif lay < 0.75:
                layout, (wrapper, a) = "r1", wrap(rng, answer)
                completion = f"<think>\n{think}\n</think>\n<answer>\n{a}\n</answer>"
            elif lay < 0.80:
                layout, (wrapper, a) = "r1+text", wrap(rng, answer)
                completion = f"<think>\n{think}\n</think>\n<answer>\n{a}\n</answer>\nI hope this helps."
            elif lay < 0.90:
                layout, wrapper = "no_tags", "boxed"
                completion = f"{think}\n\nSo the final answer is $\\boxed{{{answer}}}$."
            elif lay < 0.95:
                layout, (wrapper, a) = "one_line", wrap(rng, answer)
                completion = f"<think>{think}</think><answer>{a}</answer>"
            else:
                layout, wrapper = "think_only", "boxed"
                completion = f"<think>\n{think}\n</think>\nSo the final answer is $\\boxed{{{answer}}}$."
            print(json.dumps({"prompt_id": f"w1-{p:04d}", "completion": completion, "solution": solution,
                              "truth": truth, "category": category, "form": form, "layout": layout,
                              "wrapper": wrapper, "solution_style": style}))


if __name__ == "__main__":
    main()
