#!/usr/bin/env python3
"""Oracle for tests/parity.rs: scores a fixed corpus with TRL's own reward functions.

Usage (from anywhere; any python3 >= 3.10):

    python3 bench/oracles/trl_rewards.py            # writes tests/fixtures/trl_rewards.jsonl
    python3 bench/oracles/trl_rewards.py -o OUT.jsonl

The first run creates the virtualenv bench/.venv-trl (gitignored) and installs TRL there with
`pip install --no-deps trl packaging`: `trl.rewards` needs neither torch nor transformers, only
`packaging` (for trl.import_utils). The version is pinned (TRL_SPEC, default below) so that the
fixture can be regenerated identically; set TRL_SPEC=trl to take the newest release (the venv is
reinstalled when the installed version differs).

The corpus is deterministic (fixed seed; no clock, no hash order). Every case is one JSON line:

    {"id": 17, "fn": "think_format_reward", "group": "layout", "params": {...},
     "input": {...}, "expected": 1.0}

- `fn`: the TRL function; `params`: the arguments of its factory (the spec's params, passed as
  `--param` overrides); `input`: the row the spec reads; `expected`: TRL's score (null = TRL
  returned None: the example is skipped).
- `excluded` (only on some cases): why the spec cannot be compared on this case; the test checks
  that each such case is rejected as a row error, never silently scored, and lists them all.
  Such a case has `input_line` (the row's JSON text, as a string) instead of `input`, because its
  input is not valid Unicode (a lone surrogate) and cannot appear raw in a strict JSON line.

The first line is {"meta": {...}}: TRL version, the functions covered (with their spec files), the
functions left out and why, how each function was called, and the number of cases.

Functions of trl.rewards and how they are driven:
- think_format_reward(completions): called as is, conversational format
  `[[{"role": "assistant", "content": text}]]`.
- get_soft_overlong_punishment(max_completion_len, soft_punish_cache)(completion_ids): only
  len(ids) is read; the ids are `range(n)` (a real int sequence, cheap for any n). The row carries
  `completion_length` = n.
- get_cosine_scaled_reward(max_len, ...)(completions, solution, completion_ids): correctness comes
  from accuracy_reward, which needs math-verify; it is replaced (module attribute patched) by the
  case's `correct` flag (true / false / null = gold not parseable), so TRL's own length schedule is
  what is compared. The row carries `completion_length` and `correct`.
- get_repetition_penalty_reward(ngram_size, max_penalty)(completion_ids): called on real token-id
  lists; the row carries `completion_ids`.
- accuracy_reward, reasoning_accuracy_reward: skipped (need math-verify; the equivalence checker
  is not what this fixture tests).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-trl"
TRL_SPEC = os.environ.get("TRL_SPEC", "trl==1.16.0")
SEED = 20250614
SPECS = {
    "think_format_reward": "tests/fixtures/trl_think_format.reward",
    "get_soft_overlong_punishment": "tests/fixtures/trl_soft_overlong.reward",
    "get_cosine_scaled_reward": "tests/fixtures/trl_cosine_scaled.reward",
    "get_repetition_penalty_reward": "tests/fixtures/trl_repetition_penalty.reward",
}


# ---------------------------------------------------------------- virtualenv


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    """Re-executes this script inside bench/.venv-trl, creating and filling it if needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = TRL_SPEC.split("==", 1)[1] if "==" in TRL_SPEC else None
    probe = subprocess.run(
        [str(venv_python()), "-c", "import trl; print(trl.__version__)"],
        capture_output=True, text=True,
    )
    installed = probe.stdout.strip() if probe.returncode == 0 else None
    if installed is None or (wanted is not None and installed != wanted):
        print(f"installing {TRL_SPEC} packaging (--no-deps) into {VENV}", file=sys.stderr)
        subprocess.run(
            [str(venv_python()), "-m", "pip", "install", "--quiet", "--no-deps", TRL_SPEC, "packaging"],
            check=True,
        )
    os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])


# ---------------------------------------------------------------- corpus: think format

WORDS = ("so we need to compute the value of x then add the remaining terms and check that the "
         "result is consistent with the constraints given in the problem statement").split()

# Reasoning / answer contents. Some contain tag look-alikes on purpose.
CONTENTS = [
    "", " ", "\n", "a", "42", "x = 2\ny = 3", "Let me think.\n\nStep 1: 3 + 4 = 7.\nStep 2: done.",
    "line one\r\nline two\r\n", "\t indented \t", "trailing newline\n", "\n\nleading blank lines",
    "unicode: héllo wörld, 你好, مرحبا, שלום, Ελληνικά, 😀👍🏽, e\u0301 (combining), \u200bzero width",
    "math: $\\frac{1}{2} + \\sqrt{2} \\approx 1.914$ and \\boxed{7}",
    "<", ">", "</", "<think", "think>", "</think", "/think>", "< think>", "<think >", "<THINK>",
    "<Think>", "<think/>", "<thinking>", "</thinking>", "<\\think>", "&lt;think&gt;",
    "<answer>", "</answer>", "<answer>5</answer>", "NUL\u0000byte", "\u2028line sep\u2029para sep",
    "\ufeffBOM inside", "emoji 🤔 thinking", "CJK 思考 <思考>",
    "<think>", "</think>", "<think>nested</think>", "a</think>b", "<think><think>",
]

OPENERS = ["<think>", "<think>\n", "<think>\r\n", "<think>\n\n", "<think> ", "", "<Think>",
           "<THINK>", "<think >", "< think>", "<think/>", "<thinking>", "think>", "<think"]
CLOSERS = ["</think>", "\n</think>", "\r\n</think>", "</think>\n", "", "</Think>", "</think >",
           "<\\think>", "</ think>", "</thinking>", "<think>", "</think></think>", "</think"]
PREFIXES = ["", " ", "\n", "\r\n", "\t", "Sure! ", "Okay.\n", "\ufeff", "\u200b", "<|im_start|>assistant\n",
            "</think>", "<answer>\n1\n</answer>\n", "\u00a0", "思考: "]
MIDDLES = ["\n", "", "\r\n", "\n\n", " ", "\nThe answer is 4.\n", "So: ", "<think>", "\n<think>\n"]
ANSWERS = ["<answer>\n4\n</answer>", "<answer>4</answer>", "<answer>\r\n4\r\n</answer>", "<answer></answer>",
           "", "4", "<answer>\n<answer>4</answer>\n</answer>", "</answer><answer>", "<answer>\n4\n",
           "The final answer is \\boxed{4}.", "<answer>\n答案是四\n</answer>"]
SUFFIXES = ["", "\n", "\n\n", "\r\n", " ", " done", "\nP.S. hope this helps", "<|im_end|>", "\n<think>",
            "</think>", "\n</answer>", "<think>\nmore\n</think>", "\u0000", " 🙂"]

# Tokens for random insertion.
FUZZ_TOKENS = ["<think>", "</think>", "<answer>", "</answer>", "<think", "</think", "think>", "<", ">",
               "/", "\n", "\r\n", "\r", " ", "\t", "<Think>", "<think/>", "é", "思", "😀", "\u0000",
               "\u200b", "\ufeff", "x", "42", "<<think>>", "<</think>>"]


def reasoning(rng: random.Random, n_words: int) -> str:
    out = []
    for i in range(n_words):
        out.append(rng.choice(WORDS))
        if rng.random() < 0.08:
            out.append(rng.choice(["\n", "\n\n", ".\n", ",", ". "]))
    return " ".join(out)


def canonical(think: str, answer: str, nl: str = "\n") -> str:
    return f"<think>{nl}{think}{nl}</think>{nl}<answer>{nl}{answer}{nl}</answer>"


def mutate(rng: random.Random, s: str) -> str:
    """One random edit: insert a fuzz token, delete a span, duplicate a span, or swap two halves."""
    op = rng.randrange(5)
    if op <= 1 or len(s) < 2:
        i = rng.randint(0, len(s))
        return s[:i] + rng.choice(FUZZ_TOKENS) + s[i:]
    i, j = sorted(rng.sample(range(len(s) + 1), 2))
    if op == 2:
        return s[:i] + s[j:]
    if op == 3:
        return s[:j] + s[i:j] + s[j:]
    return s[j:] + s[:j]


def think_format_corpus(rng: random.Random) -> list[tuple[str, str]]:
    """(group, completion) pairs."""
    cases: list[tuple[str, str]] = []
    add = lambda group, text: cases.append((group, text))

    # The TRL docstring examples.
    add("docstring", "<think>\nThis is my reasoning.\n</think>\nThis is my answer.")
    add("docstring", "<think>\nThis is my reasoning.\nThis is my answer.")

    # Canonical R1 layouts over every content, with \n and \r\n.
    for c in CONTENTS:
        add("canonical", canonical(c, "4"))
        add("canonical", canonical("reasoning", c))
        add("canonical-crlf", canonical(c, "4", "\r\n"))
    # Trailing newlines / text after </answer>, same line and next line.
    base = canonical("3 + 4 = 7", "7")
    for suf in SUFFIXES:
        add("after-answer", base + suf)
        add("after-answer", canonical("3 + 4 = 7", "7", "\r\n") + suf)
    for suf in ["\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "\r", " \n", "\n "]:
        add("trailing-newlines", "<think>\nx\n</think>" + suf)
        add("trailing-newlines", "<think>x</think>" + suf)

    # Systematic layout product (sampled): prefix + opener + content + closer + middle + answer + suffix.
    # Half of them start the way TRL wants (no prefix, a real opener), so both outcomes are common.
    for _ in range(1000):
        good_start = rng.random() < 0.5
        prefix = "" if good_start else rng.choice(PREFIXES)
        opener = rng.choice(OPENERS[:4] if good_start else OPENERS)
        text = (prefix + opener + rng.choice(CONTENTS) + rng.choice(CLOSERS)
                + rng.choice(MIDDLES) + rng.choice(ANSWERS) + rng.choice(SUFFIXES))
        add("layout", text)

    # Targeted shapes: missing, duplicated, misordered, nested, empty tags.
    shapes = [
        "", "<think>", "</think>", "<think></think>", "<think>\n</think>", "<think></think>answer",
        "</think><think>", "</think>x<think>", "<think>a</think><think>b</think>",
        "<think>a<think>b</think></think>", "<think><think></think></think>", "<think>a</think>b<think>",
        "<think>a</think>\n<think>", "<think>\na\n</think>\n<answer>\n<think>\n</answer>",
        "<think>a</think></think>", "<think>a</think>b</think>c", "<think></think></think><think>",
        "<think>\na\n", "<think>a<\\think>", "<think>a</Think>", "<think>a</THINK>", "<Think>a</think>",
        "<think>a</ think>", "<think>a</think >", "<think >a</think>", "<think>a</thinking>",
        "<thinking>a</thinking>", "<thinking>a</think>", "<think>a</think", "<think>a/think>",
        "<think><</think>", "<think>></think>", "<think></think></think>", "<think>\n\n\n</think>",
        "<think>a</think>" * 3, "<think><answer>4</answer></think>", "<answer>4</answer><think>a</think>",
        "<answer>\n4\n</answer>\n<think>\na\n</think>", "x<think>a</think>", " <think>a</think>",
        "\n<think>a</think>", "\ufeff<think>a</think>", "<think>a</think>\u0000", "<think>\u0000</think>",
        "<think>" + "\n" * 50 + "</think>", "<think>a\n</think>\n\n\n\n", "<<think>>a<</think>>",
        "<think>a</think><think", "<think>a</think>think>", "<think>a</think><thin", "<think>a</think><thinkk>",
        "<think>😀</think>", "<think>思考</think>答案", "<think>a</think>" + "\r\n" * 3,
    ]
    for s in shapes:
        add("shape", s)
        add("shape", s + "\n")

    # Random mutations of well-formed completions (1 to 3 edits).
    for _ in range(800):
        nl = rng.choice(["\n", "\n", "\r\n", ""])
        s = canonical(reasoning(rng, rng.randint(0, 40)), str(rng.randint(-5, 500)), nl)
        if rng.random() < 0.2:
            s = "<think>\n" + reasoning(rng, rng.randint(0, 20)) + "\n</think>\n" + reasoning(rng, 5)
        for _ in range(rng.randint(1, 3)):
            s = mutate(rng, s)
        add("mutation", s)

    # Long texts (a few, to keep the fixture small).
    for n_words, tweak in [(3000, ""), (6000, "dup-open"), (8000, "no-close"), (2000, "late-close"),
                           (5000, "crlf"), (4000, "unicode")]:
        body = reasoning(rng, n_words)
        if tweak == "dup-open":
            mid = len(body) // 2
            body = body[:mid] + "<think>" + body[mid:]
        if tweak == "unicode":
            body = body.replace("the", "ðè 思考 😀")
        s = canonical(body, "7", "\r\n" if tweak == "crlf" else "\n")
        if tweak == "no-close":
            s = s.replace("</think>", "")
        if tweak == "late-close":
            s = "<think>\n" + body + "\n" + body + "\n</think>"
        add("long", s)

    return cases


# ---------------------------------------------------------------- corpus: lengths


SOFT_OVERLONG_CONFIGS = [
    (100, 20),        # TRL docstring example
    (20480, 4096),    # DAPO
    (16384, 4096),
    (4096, 512),
    (1000, 0),        # hard cut: no division
    (4096, 4096),     # cache == max: the soft zone starts at 0
    (50, 80),         # cache > max: negative start of the soft zone
    (7, 3),           # fractions that do not terminate in binary
    (1, 1),
    (9007199254740991, 3),          # max = 2^53 - 1: largest exact float integer
    (9007199254740991, 4503599627370496),
]


def length_points(rng: random.Random, max_len: int, cache: int, extra: int) -> list[int]:
    start = max_len - cache
    pts = {0, 1, 2, start - 1, start, start + 1, max_len - 1, max_len, max_len + 1, 2 * max_len,
           (start + max_len) // 2}
    for _ in range(extra):
        lo, hi = max(0, start - 3), max_len + 3
        pts.add(rng.randint(lo, max(lo, hi)))
        pts.add(rng.randint(0, max(1, 2 * max_len)))
    return sorted(p for p in pts if 0 <= p <= 2**53)


COSINE_CONFIGS = [
    # (max_len, min_value_wrong, max_value_wrong, min_value_correct, max_value_correct)
    (100, -1.0, -0.5, 0.5, 1.0),     # TRL docstring example (defaults)
    (1000, -1.0, -0.5, 0.5, 1.0),
    (4096, -1.0, -0.5, 0.5, 1.0),
    (20480, -1.0, -0.5, 0.5, 1.0),
    (3, -1.0, -0.5, 0.5, 1.0),
    (7, -2.0, -1.0, 0.0, 2.0),
    (1, -1.0, -0.5, 0.5, 1.0),
    (1000, 0.0, 0.0, 1.0, 1.0),      # flat schedules
    (333, 0.1, 0.7, 0.3, 0.9),       # non-standard (wrong bounds above correct ones)
    (1000, -10.0, 10.0, 10.0, -10.0),
]

REPETITION_CONFIGS = [
    # (ngram_size, max_penalty)
    (3, -1.0),   # TRL defaults
    (2, -1.0),   # TRL docstring example
    (1, -0.5),
    (4, -1.0),
    (5, -2.0),
    (2, 0.0),
    (3, -0.1),
    (8, -1.0),
]


def token_lists(rng: random.Random, n: int) -> list[list[int]]:
    out = [[1, 2, 3, 4], [5, 5, 5, 5, 5], [], [7], [7, 7], [1, 2], [1, 2, 3], [1, 2, 1, 2, 1, 2],
           [151643] * 3, [0, 2147483647, 0, 2147483647, 0]]
    for _ in range(n):
        kind = rng.randrange(5)
        length = rng.randint(0, 64)
        if kind == 0:      # small vocabulary: many repeats
            out.append([rng.randrange(3) for _ in range(length)])
        elif kind == 1:    # large vocabulary: few repeats
            out.append([rng.randrange(152064) for _ in range(length)])
        elif kind == 2:    # periodic text
            period = [rng.randrange(100) for _ in range(rng.randint(1, 6))]
            out.append((period * 70)[:length])
        elif kind == 3:    # a repeated tail (degenerate loop at the end of a generation)
            head = [rng.randrange(1000) for _ in range(length // 2)]
            loop = [rng.randrange(1000) for _ in range(rng.randint(1, 4))]
            out.append(head + (loop * 40)[: length - len(head)])
        else:              # medium vocabulary
            out.append([rng.randrange(20) for _ in range(length)])
    return out


# ---------------------------------------------------------------- oracle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=str(ROOT / "tests" / "fixtures" / "trl_rewards.jsonl"))
    args = ap.parse_args()
    ensure_venv()

    import trl
    import trl.rewards.accuracy_rewards as accuracy_rewards
    from trl.rewards import (get_cosine_scaled_reward, get_repetition_penalty_reward,
                             get_soft_overlong_punishment, think_format_reward)

    rng = random.Random(SEED)
    records: list[dict] = []

    def record(fn: str, group: str, params: dict, inp: dict, expected, excluded: str | None = None):
        rec = {"id": len(records) + 1, "fn": fn, "group": group, "params": params, "input": inp,
               "expected": expected}
        if excluded:
            # The row as it would be sent (\u escapes included): such an input is not valid
            # Unicode, so it cannot be a JSON value of a strict parser's fixture line.
            del rec["input"]
            rec["input_line"] = json.dumps(inp, ensure_ascii=True)
            rec["excluded"] = excluded
        records.append(rec)

    # think_format_reward
    corpus = think_format_corpus(rng)
    scores = think_format_reward([[{"role": "assistant", "content": text}] for _, text in corpus])
    for (group, text), score in zip(corpus, scores, strict=True):
        record("think_format_reward", group, {}, {"completion": text}, score)
    # Python text can hold lone surrogates; the row format (UTF-8 JSON) cannot carry them.
    for text in ["<think>\ud800</think>", "<think>a</think>\udfff", "\ud83d<think>a</think>"]:
        [score] = think_format_reward([[{"role": "assistant", "content": text}]])
        record("think_format_reward", "surrogate", {}, {"completion": text}, score,
               excluded="lone surrogate: Python's str holds it, but it is not a Unicode scalar "
                        "value, so no UTF-8 row (the input format) can carry it; the row must be "
                        "rejected with an error record, never scored")

    # get_soft_overlong_punishment
    for max_len, cache in SOFT_OVERLONG_CONFIGS:
        fn = get_soft_overlong_punishment(max_completion_len=max_len, soft_punish_cache=cache)
        params = {"max_completion_len": max_len, "soft_punish_cache": cache}
        lengths = length_points(rng, max_len, cache, 25)
        for n, score in zip(lengths, fn([range(n) for n in lengths]), strict=True):
            record("get_soft_overlong_punishment", "length", params, {"completion_length": n}, score)

    # get_cosine_scaled_reward with accuracy_reward stubbed by the case's flag.
    real_accuracy = accuracy_rewards.accuracy_reward
    for max_len, mvw, xvw, mvc, xvc in COSINE_CONFIGS:
        fn = get_cosine_scaled_reward(max_len=max_len, min_value_wrong=mvw, max_value_wrong=xvw,
                                      min_value_correct=mvc, max_value_correct=xvc)
        params = {"max_len": max_len, "min_value_wrong": mvw, "max_value_wrong": xvw,
                  "min_value_correct": mvc, "max_value_correct": xvc}
        lengths = length_points(rng, max_len, max_len, 12)
        rows = [(n, c) for n in lengths for c in (True, False)] + [(lengths[-1], None), (0, None)]
        flags = [c for _, c in rows]
        accuracy_rewards.accuracy_reward = lambda completions, solution, **kw: list(flags)
        try:
            scores = fn([[{"content": ""}]] * len(rows), [""] * len(rows), [range(n) for n, _ in rows])
        finally:
            accuracy_rewards.accuracy_reward = real_accuracy
        for (n, c), score in zip(rows, scores, strict=True):
            record("get_cosine_scaled_reward", "length", params,
                   {"completion_length": n, "correct": c}, score)

    # get_repetition_penalty_reward
    for ngram, penalty in REPETITION_CONFIGS:
        fn = get_repetition_penalty_reward(ngram_size=ngram, max_penalty=penalty)
        lists = token_lists(rng, 60)
        groups = ["ids"] * len(lists)
        if (ngram, penalty) == (3, -1.0):
            # A few long generations: varied text that falls into a loop at the end.
            for n in (256, 512, 1000):
                head = [rng.randrange(32000) for _ in range(n * 3 // 4)]
                loop = [rng.randrange(32000) for _ in range(rng.randint(5, 20))]
                lists.append(head + (loop * n)[: n - len(head)])
                groups.append("long-ids")
        params = {"ngram_size": ngram, "max_penalty": penalty}
        for ids, group, score in zip(lists, groups, fn(lists), strict=True):
            record("get_repetition_penalty_reward", group, params, {"completion_ids": ids}, score)

    counts: dict[str, int] = {}
    for r in records:
        counts[r["fn"]] = counts.get(r["fn"], 0) + 1
    meta = {
        "generator": "bench/oracles/trl_rewards.py",
        "seed": SEED,
        "trl_version": trl.__version__,
        "python": sys.version.split()[0],
        "functions": {name: {"module": f"trl.rewards.{mod}", "spec": SPECS[name], "cases": counts[name]}
                      for name, mod in [("think_format_reward", "format_rewards"),
                                        ("get_soft_overlong_punishment", "other_rewards"),
                                        ("get_cosine_scaled_reward", "accuracy_rewards"),
                                        ("get_repetition_penalty_reward", "other_rewards")]},
        "calls": {
            "think_format_reward": "think_format_reward([[{'role': 'assistant', 'content': completion}]])",
            "get_soft_overlong_punishment": "get_soft_overlong_punishment(**params)([range(completion_length)])",
            "get_cosine_scaled_reward": "get_cosine_scaled_reward(**params)(completions, solution, "
                                        "[range(completion_length)]) with trl.rewards.accuracy_rewards."
                                        "accuracy_reward patched to return [correct] (None: gold unparseable)",
            "get_repetition_penalty_reward": "get_repetition_penalty_reward(**params)([completion_ids])",
        },
        "not_covered": {
            "accuracy_reward": "needs math-verify (symbolic LaTeX equivalence), not installed with --no-deps",
            "reasoning_accuracy_reward": "needs math-verify (raises ImportError without it, even for "
                                         "the no-delimiter branch)",
            "open-r1 format_reward / tag_count_reward / len_reward": "not shipped by TRL",
        },
        "domain": {
            "lengths": "completion lengths and length params are integers in [0, 2^53]: above 2^53 "
                       "Python divides exact integers, the language converts them to float first",
            "params": "max_len >= 1 and ngram_size >= 1 (TRL raises ZeroDivisionError otherwise)",
            "completion_ids": "at most 1,000 ids per case here; the spec counts distinct n-grams in "
                              "O(m^2) (the language has no set), so beyond about 14,100 ids a row "
                              "exceeds the per-rollout budget and is an error record instead of "
                              "TRL's score (a real limitation, see the spec)",
        },
        "cases": len(records),
        "excluded": sum(1 for r in records if "excluded" in r),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")
    size = out.stat().st_size
    print(f"TRL {trl.__version__}: {len(records)} cases ({counts}), {meta['excluded']} excluded, "
          f"{size / 1e6:.2f} MB -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
