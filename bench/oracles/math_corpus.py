#!/usr/bin/env python3
"""Answer-checker corpus: gold/prediction pairs whose equality is known by construction, with
math-verify's verdict on each (as TRL's accuracy_reward calls it).

Usage (from anywhere; any python3 >= 3.10):

    python3 bench/oracles/math_corpus.py              # writes tests/fixtures/math_corpus.jsonl
    python3 bench/oracles/math_corpus.py -o OUT.jsonl -j 2
    python3 bench/oracles/math_corpus.py --no-mv      # corpus only (mv fields null), no venv needed

Why: an answer checker `math_equal(pred, gold)` needs a test corpus whose truth does not come from
another checker. Here every pair is built from an underlying value: several written forms of that
value (equal) and near misses (not equal: off by one, wrong sign, swapped fraction, wrong interval
bracket, missing set element, wrong unit, ...). Each form carries its value, and the generator
asserts that every "equal" form has the gold's value and every "wrong" form does not, so `equal` is
never a guess. math-verify's verdict (`mv`) is recorded beside it for comparison, not as truth.

What is generated: one JSON line per case, after a first {"meta": {...}} line (versions, seed,
counts, conventions, how math-verify was called, a summary of its accuracy):

    {"id": 1, "category": "fraction", "wrapper": "boxed_sentence", "gold": "\\frac{3}{4}",
     "pred": "So the answer is $\\boxed{0.75}$.", "answer": "0.75", "equal": true, "mv": true,
     "mv_ms": 1.3}

- `pred` is the full completion text (the wrapper already applied: bare, dollar, boxed_sentence,
  answer_tag, answer_is, minerva); `answer` is the stated answer alone (pred without its wrapper);
  `gold` is written as a data set would (bare LaTeX like MATH's answers, 30 % inside `$...$`).
- 17 categories x 40 values x (3 equal + 2 wrong) = 3,400 cases, 60 % equal.
- `mv`: trl.rewards.accuracy_reward([[{"role": "assistant", "content": pred}]], [gold]) mapped
  1.0 -> true, 0.0 -> false, None (gold not parseable) -> null, and "timeout" when the call did not
  return within the watchdog (the worker process is then killed and restarted). `mv_note`
  ("internal_timeout") appears when math-verify logged one of its own timeouts during the call.
- `mv_ms`: wall time of that call in the worker process, milliseconds (for reporting only; the one
  field that changes between runs).

math-verify runs in the virtualenv bench/.venv-mathverify (gitignored), created on first use with
`pip install math-verify[antlr4_13_2]==0.9.0` and `pip install --no-deps trl==1.16.0 packaging`
(trl.rewards needs neither torch nor transformers). Each case is sent to a worker process (its own
main thread, so math-verify's signal.alarm timeouts are active, 10 s parsing / 5 s verify as TRL
sets them), and the parent waits at most WATCHDOG seconds for the answer.

The corpus is deterministic (random.Random(SEED), no clock, no hash order); only mv_ms varies.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import queue
import random
import select
import subprocess
import sys
import threading
import time
import venv
from fractions import Fraction as F
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-mathverify"
MV_SPEC = os.environ.get("MATH_VERIFY_SPEC", "math-verify[antlr4_13_2]==0.9.0")
TRL_SPEC = os.environ.get("TRL_SPEC", "trl==1.16.0")
SEED = 20250615
VALUES_PER_CATEGORY = 40     # underlying values per category
EQUAL_PER_VALUE = 3          # equal forms per value
WRONG_PER_VALUE = 2          # near misses per value  (3:2 = 60/40)
WATCHDOG = 60.0              # seconds for one accuracy_reward call, checked by the parent
GOLD_DOLLAR_RATE = 0.3       # share of golds written inside $...$

CONVENTIONS = {
    "truth": "equal = the answer stated in pred has the gold's mathematical value (same structure: "
             "number, tuple, set, interval, text). Every form is generated with its value and the "
             "generator asserts equal/not equal on those values (numbers within 1e-9 relative for "
             "equal, more than 1e-6 apart for wrong).",
    "wrappers": "a wrapper only states the answer; its text holds no other number or math. The "
                "answer inside any wrapper (bare, '$...$', <answer> tags, 'The answer is ...') "
                "counts as stated, so `equal` does not depend on the wrapper.",
    "percentage": "the percent sign is treated as a unit: gold 50\\% equals 50, 50\\%, 50 \\%, "
                  "50\\text{ percent}; a rescaled form (0.5 or \\frac{1}{2} for 50\\%) is NOT in the "
                  "corpus at all (graders disagree); 0.5\\% or 5\\% for 50\\% is wrong.",
    "units": "a unit may be written or dropped (MATH-style): 5 \\text{ cm} equals 5, 5cm, "
             "5\\,\\mathrm{cm}, 5 \\text{ centimeters}; a different unit of the same dimension "
             "(5 \\text{ m} for 5 \\text{ cm}) is wrong; no unit conversions (0.05 m) are generated.",
    "degrees": "30^\\circ equals 30, 30^{\\circ}, 30\\degree, 30 \\text{ degrees}; radian forms of "
               "degree answers (\\frac{\\pi}{6}) are not generated.",
    "intervals": "brackets must match exactly at every finite endpoint; infinite ends are open; "
                 "\\infty and +\\infty are the same; a union is order-independent. Golds that read "
                 "as an ordered pair, e.g. (1, 3), are never interval golds.",
    "sets": "order-independent, no repeated elements; \\{a, b\\} and a MATH-style list 'a, b' are "
            "the same answer; missing or extra elements are wrong.",
    "tuples": "ordered: a swap is wrong; element forms may change (\\frac{1}{2} vs 0.5); "
              "parentheses are kept (a 2-tuple gold also reads as an open interval, and every "
              "pred's truth is the same under both readings).",
    "thousands": "a comma (or {,} or ,\\! or \\,) followed by exactly three digits inside a number is "
                 "a thousands separator; '1.000' (European) is not generated.",
    "scientific": "m \\times 10^{e} and m \\cdot 10^{e}; e-notation like 3.2e5 is not generated "
                  "(in LaTeX 'e' reads as Euler's number).",
    "pi_log": "\\ln is the natural log; a bare \\log is only used in base-free ratios "
              "(\\frac{\\log 3}{\\log 2} = \\log_2 3); decimal approximations of irrational values "
              "(3.14 for \\pi) are not generated.",
    "rounding": "no rounded approximations of non-terminating values are generated; a rounded or "
                "truncated form of an exact terminating decimal (3.8 for 3.75) is wrong.",
    "equation": "'x = v' equals 'v' (the variable is the question's unknown); an equation of a line "
                "equals the same line with terms reordered on the right-hand side; a polynomial "
                "equals its factored/expanded form (checked at sample points).",
    "text": "\\text{}, \\textbf{}, \\mathrm{} wrappers and letter case of words do not matter; "
            "multiple-choice answers equal the same letter with or without parentheses.",
    "spacing": "LaTeX spacing (\\!, \\,, \\;, \\:, \\quad, ~, \\ ), \\left/\\right, \\displaystyle and "
               "empty groups never change the value; spacing is only inserted at token boundaries, "
               "never between two digits (except the standard thousands form 10,\\!000).",
}

WRAPPERS = [  # (name, weight)
    ("bare", 0.12),
    ("dollar", 0.12),
    ("boxed_sentence", 0.40),
    ("answer_tag", 0.12),
    ("answer_is", 0.12),
    ("minerva", 0.12),
]
BOXED_SENTENCES = [
    "So the answer is $\\boxed{%s}$.",
    "Therefore, the final answer is $\\boxed{%s}$.",
    "Putting everything together, we get $\\boxed{%s}$.",
    "Hence the result is $\\boxed{%s}$.",
]


def wrap(rng: random.Random, name: str, p: str) -> str:
    if name == "bare":
        return p
    if name == "dollar":
        return f"${p}$"
    if name == "boxed_sentence":
        return rng.choice(BOXED_SENTENCES) % p
    if name == "answer_tag":
        return rng.choice(["<answer>%s</answer>", "<answer>\n%s\n</answer>"]) % p
    if name == "answer_is":
        return f"The answer is {p}"
    if name == "minerva":
        return f"Final Answer: The final answer is ${p}$. I hope it is correct."
    raise ValueError(name)


# ---------------------------------------------------------------- values

INF = float("inf")


def num(x) -> float:
    return float(x)


def same(a, b) -> bool | None:
    """True / False, or None when two numbers are neither clearly equal nor clearly apart."""
    if isinstance(a, (int, F)) and isinstance(b, (int, F)):
        return F(a) == F(b)             # rationals: exact
    if isinstance(a, (int, float, F)) and isinstance(b, (int, float, F)):
        a, b = float(a), float(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        d, s = abs(a - b), max(1.0, abs(a), abs(b))
        if d <= 1e-9 * s:
            return True
        if d > 1e-6 * s:
            return False
        return None
    if isinstance(a, tuple) and isinstance(b, tuple):
        if not a or not b or a[0] != b[0]:
            return False
        kind = a[0]
        if kind == "unit":          # ("unit", number, unit or None)
            r = same(a[1], b[1])
            if r is not True:
                return r
            return a[2] is None or b[2] is None or a[2] == b[2]
        if kind in ("set", "interval"):
            xa, xb = sorted(a[1], key=_key), sorted(b[1], key=_key)
            return _same_seq(xa, xb)
        if kind == "text":
            return a[1] == b[1]
        return _same_seq(list(a[1:]), list(b[1:]))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    return False


def _key(x):
    if isinstance(x, tuple):
        return tuple(float(v) if isinstance(v, (int, float, F)) and not isinstance(v, bool) else 0.0 for v in x)
    return float(x)


def _same_seq(xa, xb):
    if len(xa) != len(xb):
        return False
    out = True
    for u, v in zip(xa, xb):
        if isinstance(u, bool) or isinstance(v, bool):
            r = u == v
        elif isinstance(u, tuple) and not (u and isinstance(u[0], str)):
            r = _same_seq(list(u), list(v)) if isinstance(v, tuple) else False
        else:
            r = same(u, v)
        if r is False:
            return False
        if r is None:
            out = None
    return out


# ---------------------------------------------------------------- number writing


def is_terminating(f: F) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def dec(f: F, extra_zeros: int = 0) -> str:
    """Exact decimal text of a terminating fraction."""
    assert is_terminating(f), f
    sign = "-" if f < 0 else ""
    f = abs(f)
    places = 0
    while (f * 10 ** places).denominator != 1:
        places += 1
    n = int(f * 10 ** places)
    s = str(n).rjust(places + 1, "0")
    if places:
        s = s[:-places] + "." + s[-places:]
    if extra_zeros:
        s += ("" if places else ".") + "0" * extra_zeros
    return sign + s


def frac(f: F, cmd: str = "\\frac", k: int = 1) -> str:
    """\\frac{p}{q} with the sign in front; k scales numerator and denominator (unreduced)."""
    sign = "-" if f < 0 else ""
    f = abs(f)
    return f"{sign}{cmd}{{{f.numerator * k}}}{{{f.denominator * k}}}"


def canon(f: F) -> str:
    """MATH-style canonical writing: integer, else \\frac."""
    return str(f.numerator) if f.denominator == 1 else frac(f)


def forms_of(f: F) -> list[str]:
    """Equal writings of a rational, canonical first."""
    out = [canon(f)]
    if f.denominator == 1:
        out += [f"{f.numerator}.0", f"\\frac{{{2 * f.numerator}}}{{2}}"]
    else:
        out += [frac(f, k=2), f"{f.numerator}/{f.denominator}"]
        if is_terminating(f):
            out.append(dec(f))
    return out


def comma_int(n: int, sep: str = ",") -> str:
    s = f"{abs(n):,}".replace(",", sep)
    return ("-" if n < 0 else "") + s


# ---------------------------------------------------------------- category generators
# Each returns (golds, equals, wrongs): lists of (tex, value). Golds are dataset-style writings.


def g_integer(rng):
    n = rng.choice([rng.randint(0, 20), rng.randint(21, 999), rng.randint(1000, 99999)])
    v = n
    golds = [(str(n), v)]
    eqs = [(str(n), v), (f"{n}.0", v), (f"{n}.00", v), (f"{{{n}}}", v), (f"\\frac{{{2 * n}}}{{2}}", v),
           (f"+{n}", v), (f"\\sqrt{{{n * n}}}" if n < 1000 else f"{n}.000", v), (f"{n}^{{1}}", v), (f"\\mathbf{{{n}}}", v)]
    wr = [(str(n + 1), n + 1), (str(n - 1), n - 1), (str(10 * n), 10 * n), (str(n + 10), n + 10),
          (str(int(str(n)[::-1])), int(str(n)[::-1])), (str(-n), -n), (f"{n}.5", n + 0.5),
          (f"\\frac{{{n}}}{{2}}", F(n, 2)), (f"{n}^2", n * n), (f"\\sqrt{{{n}}}", math.sqrt(n))]
    return golds, eqs, wr


def g_decimal(rng):
    p = rng.choice([1, 2, 2, 3])
    while True:
        k = rng.randint(1, 10 ** p * rng.choice([1, 10, 100]))
        if k % 10:
            break
    f = F(k, 10 ** p)
    s = dec(f)
    golds = [(s, f)]
    eqs = [(s, f), (dec(f, 1), f), (dec(f, 2), f), (frac(f), f), (f"\\frac{{{k}}}{{{10 ** p}}}", f),
           (f"{{{s}}}", f), (f"{k} \\times 10^{{-{p}}}", f)]
    if f < 1:
        eqs.append((s[1:], f))           # .25
    u = F(1, 10 ** p)
    digits = s.replace(".", "")
    wr = [(dec(f + u), f + u), (dec(f - u), f - u), (dec(f * 10), f * 10), (dec(f / 10), f / 10),
          ("-" + s, -f), (dec(F(math.floor(f * 10 ** (p - 1)), 10 ** (p - 1))), F(math.floor(f * 10 ** (p - 1)), 10 ** (p - 1))),
          (f"\\frac{{{10 ** p}}}{{{k}}}", F(10 ** p, k))]
    # Adjacent digits swapped (after the point).
    if len(digits) >= 2:
        i = len(s) - 2
        if s[i] != "." and s[i] != s[i + 1]:
            t = s[:i] + s[i + 1] + s[i] + s[i + 2:]
            wr.append((t, F(t)))
    return golds, eqs, wr


def g_fraction(rng):
    while True:
        q = rng.randint(2, 30)
        pnum = rng.randint(1, 3 * q)
        f = F(pnum, q)
        if f.denominator > 1:
            break
    p, q = f.numerator, f.denominator
    golds = [(frac(f), f), (frac(f), f), (f"{p}/{q}", f)]
    eqs = [(frac(f), f), (frac(f, k=2), f), (frac(f, k=3), f), (f"{p}/{q}", f), (f"{{{p}}}/{{{q}}}", f),
           (f"\\frac{{ {p} }}{{ {q} }}", f), (f"\\left(\\frac{{{p}}}{{{q}}}\\right)", f), (f"{p} \\div {q}", f),
           (f"\\frac{{1}}{{{canon(1 / f)}}}", f)]
    if p < 10 and q < 10:
        eqs.append((f"\\frac{p}{q}", f))
    if is_terminating(f):
        eqs.append((dec(f), f))
    wr = [(canon(1 / f), 1 / f), (canon(F(p + 1, q)), F(p + 1, q)), (frac(F(p, q + 1)), F(p, q + 1)),
          ("-" + frac(f), -f), (frac(F(p, 2 * q)), F(p, 2 * q)), (frac(F(2 * p, q)), F(2 * p, q)),
          (f"{p}.{q}", F(f"{p}.{q}")), (f"{p * q}", p * q)]
    if p > 1:
        wr.append((frac(F(p - 1, q)), F(p - 1, q)))
    return golds, eqs, wr


SQUAREFREE = [2, 3, 5, 6, 7, 10, 11, 13, 14, 15, 17, 19, 21, 22, 23]


def g_radical(rng):
    b = rng.choice(SQUAREFREE)
    r = F(rng.randint(1, 9), rng.choice([1, 1, 2, 3, 4, 5]))
    a, c = r.numerator, r.denominator
    v = a * math.sqrt(b) / c
    rb = f"\\sqrt{{{b}}}"
    lead = "" if a == 1 else str(a)

    def over(top, den=c):   # top / den, written as MATH does
        return top if den == 1 else f"\\frac{{{top}}}{{{den}}}"

    main = over(f"{lead}{rb}")
    golds = [(main, v)]
    eqs = [(main, v), (over(f"\\sqrt{{{a * a * b}}}"), v), (f"\\sqrt{{\\frac{{{a * a * b}}}{{{c * c}}}}}", v),
           (f"\\frac{{{a * b}}}{{{'' if c == 1 else c}\\sqrt{{{b}}}}}", v), (over(f"{lead} \\sqrt{{ {b} }}"), v),
           (over(f"{b}^{{\\frac{{1}}{{2}}}}" if a == 1 else f"{a} \\cdot {b}^{{1/2}}"), v)]
    if a > 1:
        eqs += [(over(f"{a} \\cdot \\sqrt{{{b}}}"), v), (over(f"\\sqrt{{{b}}} \\cdot {a}"), v)]
    if c > 1:
        eqs.append((f"{canon(r)}\\sqrt{{{b}}}" if a > 1 else f"\\frac{{1}}{{{c}}}\\sqrt{{{b}}}", v))
    if b < 10:
        eqs.append((over(f"{lead}\\sqrt {b}"), v))
    wr = [(over(f"{lead}\\sqrt{{{b + 1}}}"), a * math.sqrt(b + 1) / c),
          (over(f"{a + 1}\\sqrt{{{b}}}"), (a + 1) * math.sqrt(b) / c),
          (over(f"\\sqrt{{{a * b}}}"), math.sqrt(a * b) / c),
          (over(str(a * b)), a * b / c),
          ("-" + main, -v),
          (over(f"{lead}\\sqrt[3]{{{b}}}"), a * b ** (1 / 3) / c),
          (over(f"{lead}{rb}", c + 1), a * math.sqrt(b) / (c + 1)),
          (over(f"{'' if c == 1 else c}\\sqrt{{{b}}}", a), c * math.sqrt(b) / a),
          (f"\\frac{{{a}}}{{{'' if c == 1 else c}\\sqrt{{{b}}}}}", a / (c * math.sqrt(b)))]
    return golds, eqs, wr


def g_pi_log(rng):
    kind = rng.choice(["pi", "pi", "ln", "logpow", "logratio"])
    if kind == "pi":
        r = F(rng.randint(1, 11), rng.randint(1, 12))
        k, m = r.numerator, r.denominator
        v = float(r) * math.pi
        kp = "\\pi" if k == 1 else f"{k}\\pi"
        main = kp if m == 1 else f"\\frac{{{kp}}}{{{m}}}"
        golds = [(main, v)]
        eqs = [(main, v), (f"\\frac{{{2 * k}\\pi}}{{{2 * m}}}", v), (f"\\left({main}\\right)", v), (f"{{{main}}}", v)]
        if m > 1:
            eqs += [(f"{kp}/{m}", v), (f"\\frac{{{k}}}{{{m}}}\\pi", v)]
            if k > 1:
                eqs += [(f"\\frac{{{k} \\pi}}{{{m}}}", v), (f"{k} \\cdot \\frac{{\\pi}}{{{m}}}", v)]
        elif k > 1:
            eqs += [(f"{k} \\pi", v), (f"\\pi \\cdot {k}", v)]
        if is_terminating(r) and m > 1:
            eqs.append((f"{dec(r)}\\pi", v))
        wr = [(f"\\frac{{{m}\\pi}}{{{k}}}", m * math.pi / k), (f"\\frac{{{kp}}}{{{m + 1}}}", k * math.pi / (m + 1)),
              (f"\\frac{{{k + 1}\\pi}}{{{m}}}", (k + 1) * math.pi / m), (f"\\frac{{{m}}}{{{kp}}}", m / (k * math.pi)),
              ("-" + main, -v), (canon(r), float(r)), (f"\\frac{{{k}\\pi^2}}{{{m}}}", k * math.pi ** 2 / m)]
        return golds, eqs, wr
    if kind == "ln":
        a = rng.randint(2, 40)
        v = math.log(a)
        golds = [(f"\\ln {a}", v), (f"\\ln({a})", v)]
        eqs = [(f"\\ln {a}", v), (f"\\ln({a})", v), (f"\\ln{{{a}}}", v), (f"\\log_e {a}", v), (f"\\log_{{e}}({a})", v),
               (f"-\\ln\\frac{{1}}{{{a}}}", v), (f"\\ln\\left({a}\\right)", v)]
        for r_ in range(2, 7):
            k = round(math.log(a, r_))
            if k >= 2 and r_ ** k == a:
                eqs.append((f"{k}\\ln {r_}", v))
                break
        for u in range(2, a):
            if a % u == 0 and 1 < a // u:
                eqs.append((f"\\ln {u} + \\ln {a // u}", v))
                break
        wr = [(f"\\ln {a + 1}", math.log(a + 1)), (f"\\log_{{10}} {a}", math.log10(a)),
              (f"\\frac{{\\ln {a}}}{{2}}", v / 2), (f"\\frac{{1}}{{\\ln {a}}}", 1 / v), (f"e^{{{a}}}", math.exp(a)),
              (f"\\ln {a * 2}", math.log(2 * a)), (f"-\\ln {a}", -v)]
        return golds, eqs, wr
    if kind == "logpow":
        b = rng.choice([2, 2, 3, 4, 5, 10])
        k = rng.randint(2, {2: 10, 3: 6, 4: 5, 5: 4, 10: 6}[b])
        n = b ** k
        golds = [(str(k), k)]
        eqs = [(str(k), k), (f"\\log_{b} {n}" if b < 10 else f"\\log_{{{b}}} {n}", k), (f"\\log_{{{b}}}({n})", k),
               (f"\\frac{{\\ln {n}}}{{\\ln {b}}}", k), (f"\\log_{{{b}}}{{{n}}}", k), (f"{k}.0", k)]
        wr = [(f"\\log_{{{b + 1}}} {n}", math.log(n, b + 1)), (f"\\log_{{{n}}} {b}", 1 / k), (str(k + 1), k + 1),
              (f"\\log_{{{b}}} {n * b}", k + 1), (f"\\log_{{{b}}} {n // b}", k - 1), (str(n), n), (str(k - 1), k - 1)]
        return golds, eqs, wr
    # logratio: log_b a with a not a power of b
    while True:
        b, a = rng.choice([2, 3, 5, 7]), rng.randint(2, 30)
        if a != b and abs(round(math.log(a, b)) - math.log(a, b)) > 1e-6:
            break
    v = math.log(a) / math.log(b)
    golds = [(f"\\log_{b} {a}", v), (f"\\log_{{{b}}} {a}", v)]
    eqs = [(f"\\log_{b} {a}", v), (f"\\log_{{{b}}} {a}", v), (f"\\log_{{{b}}}({a})", v),
           (f"\\frac{{\\ln {a}}}{{\\ln {b}}}", v), (f"\\frac{{\\log {a}}}{{\\log {b}}}", v),
           (f"\\log_{{{b * b}}} {a * a}", v)]
    wr = [(f"\\log_{{{a}}} {b}", 1 / v), (f"\\log_{{{b}}} {a + 1}", math.log(a + 1) / math.log(b)),
          (f"\\frac{{\\ln {b}}}{{\\ln {a}}}", 1 / v), (f"\\ln\\frac{{{a}}}{{{b}}}", math.log(a / b)),
          (frac(F(a, b)) if a % b else str(a // b), a / b), (f"\\log_{{{b + 1}}} {a}", math.log(a) / math.log(b + 1))]
    return golds, eqs, wr


def g_percentage(rng):
    p = rng.choice([F(rng.randint(1, 99)), F(rng.randint(1, 99)), F(rng.randint(1, 999), 10), F(rng.randint(100, 400))])
    s = dec(p)
    v = ("pct", p)
    golds = [(f"{s}\\%", v), (f"{s}\\%", v), (s, v)]
    eqs = [(f"{s}\\%", v), (f"{s} \\%", v), (s, v), (f"{s}\\text{{\\%}}", v), (f"{dec(p, 1)}\\%", v),
           (f"{s}\\,\\%", v), (f"{s}\\text{{ percent}}", v), (f"{{{s}}}\\%", v)]
    wr = [(f"{dec(p + 1)}\\%", ("pct", p + 1)), (f"{dec(p - 1)}\\%", ("pct", p - 1)), (f"{dec(p / 10)}\\%", ("pct", p / 10)),
          (f"{dec(p * 10)}\\%", ("pct", p * 10)), (f"{dec(p / 100)}\\%", ("pct", p / 100)),
          (f"{dec(100 - p)}\\%", ("pct", 100 - p)), (dec(p + 1), ("pct", p + 1))]
    return golds, eqs, wr


def _endpoint_forms(f: F) -> list[str]:
    out = [canon(f)]
    if f.denominator > 1 and is_terminating(f):
        out.append(dec(f))
    if f.denominator == 1:
        out.append(f"{f.numerator}.0")
    return out


def _interval_tex(parts, style: dict) -> str:
    """parts: list of (lo, lo_closed, hi, hi_closed, lo_form, hi_form)."""
    sp = style.get("sp", " ")
    out = []
    for lo, lc, hi, hc, lof, hif in parts:
        lb, rb = ("[" if lc else "("), ("]" if hc else ")")
        if style.get("left"):
            lb, rb = "\\left" + lb, "\\right" + rb
        los = "-\\infty" if lo == -INF else lof
        his = (style.get("pinf", "\\infty")) if hi == INF else hif
        out.append(f"{lb}{los},{sp}{his}{rb}")
    return style.get("cup", " \\cup ").join(out)


def g_interval(rng):
    kind = rng.choice(["closed", "half", "ray", "ray", "union", "union2"])
    ends = [F(e) for e in sorted(rng.sample(range(-12, 13), 4))]
    if rng.random() < 0.25:
        ends = [e + F(1, 2) if rng.random() < 0.5 else e for e in ends]   # some halves (order kept)
    if kind == "closed":
        a, b = ends[0], ends[2]
        parts = [(a, True, b, True)]
    elif kind == "half":
        a, b = ends[0], ends[2]
        lc = rng.random() < 0.5
        parts = [(a, lc, b, not lc)]
    elif kind == "ray":
        a = ends[1]
        parts = [(-INF, False, a, rng.random() < 0.5)] if rng.random() < 0.5 else [(a, rng.random() < 0.5, INF, False)]
    elif kind == "union":
        a, b = ends[0], ends[3]
        parts = [(-INF, False, a, rng.random() < 0.5), (b, rng.random() < 0.5, INF, False)]
    else:
        a, b, c, d = ends
        parts = [(a, rng.random() < 0.5, b, True), (c, True, d, rng.random() < 0.5)]

    def val(ps):
        return ("interval", tuple((float(lo), lc, float(hi), hc) for lo, lc, hi, hc in ps))

    def tex(ps, style=None, alt=False):
        style = style or {}
        full = []
        for lo, lc, hi, hc in ps:
            lof = _endpoint_forms(lo)[-1 if alt else 0] if lo != -INF else ""
            hif = _endpoint_forms(hi)[-1 if alt else 0] if hi != INF else ""
            full.append((lo, lc, hi, hc, lof, hif))
        return _interval_tex(full, style)

    v = val(parts)
    golds = [(tex(parts), v), (tex(parts, {"sp": ""}), v)]
    eqs = [(tex(parts), v), (tex(parts, {"sp": ""}), v), (tex(parts, {"left": True}), v),
           (tex(parts, {"pinf": "+\\infty"}), v), (tex(parts, alt=True), v), (tex(parts, {"sp": "\\, "}), v)]
    if len(parts) == 2:
        eqs.append((tex(parts[::-1]), v))
        eqs.append((tex(parts, {"cup": "\\cup"}), v))
    wr = []
    for i, (lo, lc, hi, hc) in enumerate(parts):
        def rep(new):
            ps = list(parts)
            ps[i] = new
            return ps
        if lo != -INF:
            wr.append(rep((lo, not lc, hi, hc)))          # wrong bracket at the left end
            wr.append(rep((lo + 1, lc, hi, hc)) if lo + 1 < hi else rep((lo - 1, lc, hi, hc)))
        if hi != INF:
            wr.append(rep((lo, lc, hi, not hc)))          # wrong bracket at the right end
            wr.append(rep((lo, lc, hi - 1, hc)) if hi - 1 > lo else rep((lo, lc, hi + 1, hc)))
    if len(parts) == 2:
        wr.append([parts[0]])
        wr.append([parts[1]])
    if len(parts) == 1 and (parts[0][0] == -INF or parts[0][2] == INF):
        lo, lc, hi, hc = parts[0]
        wr.append([(-INF, False, lo, lc)] if hi == INF else [(hi, hc, INF, False)])   # wrong side
    wrongs = [(tex(ps), val(ps)) for ps in wr]
    if len(parts) == 2:
        wrongs.append((tex(parts, {"cup": " \\cap "}), ("interval", ())))   # disjoint: empty
    return golds, eqs, wrongs


class El:
    """A set/tuple element: value and equal writings (canonical first)."""

    def __init__(self, value, forms):
        self.value, self.forms = value, forms


def el_rational(f: F) -> El:
    return El(f, forms_of(f))


def el_random(rng, allow_surd=True) -> El:
    r = rng.random()
    if r < 0.7:
        return el_rational(F(rng.randint(-9, 12)))
    if r < 0.88 or not allow_surd:
        return el_rational(F(rng.choice([-1, 1]) * rng.randint(1, 9), rng.randint(2, 6)))
    b = rng.choice([2, 3, 5, 7])
    s = rng.choice([1, -1])
    return El(s * math.sqrt(b), [f"{'-' if s < 0 else ''}\\sqrt{{{b}}}", f"{'-' if s < 0 else ''}\\frac{{{b}}}{{\\sqrt{{{b}}}}}"])


def _distinct(els):
    vals = [float(e.value) for e in els]
    return all(abs(x - y) > 1e-6 for i, x in enumerate(vals) for y in vals[i + 1:])


def g_set(rng):
    while True:
        els = [el_random(rng) for _ in range(rng.randint(2, 4))]
        if _distinct(els):
            break
    els.sort(key=lambda e: float(e.value))

    def val(es):
        return ("set", tuple(float(e.value) for e in es))

    def tex(items, braces, sp=", ", left=False):
        body = sp.join(items)
        if not braces:
            return body
        return f"\\left\\{{{body}\\right\\}}" if left else f"\\{{{body}\\}}"

    v = val(els)
    can = [e.forms[0] for e in els]
    braces_gold = rng.random() < 0.5
    golds = [(tex(can, braces_gold), v)]
    eqs = []
    for _ in range(4):
        perm = list(els)
        rng.shuffle(perm)
        eqs.append((tex([e.forms[0] for e in perm], rng.random() < 0.6), v))
    eqs += [(tex(can, True, ",", left=True), v), (tex(can, True, ","), v),
            (tex([rng.choice(e.forms) for e in els[::-1]], True), v), (tex(can, True, " , "), v)]
    wr = []
    drop = rng.randrange(len(els))
    wr.append([e for i, e in enumerate(els) if i != drop])                       # missing element
    extra = el_rational(F(max(int(float(e.value)) for e in els) + 1))
    wr.append(els + [extra])                                                    # extra element
    i = rng.randrange(len(els))
    wr.append([el_rational(F(e.value) + 1) if j == i and isinstance(e.value, F) else e for j, e in enumerate(els)])
    i = rng.randrange(len(els))
    wr.append([El(-e.value, ["-" + e.forms[0] if not e.forms[0].startswith("-") else e.forms[0][1:]]) if j == i else e
               for j, e in enumerate(els)])                                     # one sign flipped
    wrongs = []
    for es in wr:
        if len(es) >= 1 and _distinct(es):
            perm = list(es)
            rng.shuffle(perm)
            wrongs.append((tex([e.forms[0] for e in perm], rng.random() < 0.6 if len(es) > 1 else True), val(es)))
    return golds, eqs, wrongs


def g_tuple(rng):
    n = rng.choice([2, 2, 2, 3])
    els = [el_random(rng, allow_surd=rng.random() < 0.3) for _ in range(n)]

    def val(es):
        return ("tuple",) + tuple(float(e.value) for e in es)

    def tex(items, sp=", ", left=False):
        body = sp.join(items)
        return f"\\left({body}\\right)" if left else f"({body})"

    v = val(els)
    can = [e.forms[0] for e in els]
    golds = [(tex(can), v), (tex(can, ","), v)]
    eqs = [(tex(can), v), (tex(can, ","), v), (tex(can, left=True), v), (tex(can, ",\\ "), v),
           (tex([rng.choice(e.forms[1:]) for e in els]), v), (tex([rng.choice(e.forms) for e in els]), v)]
    wr = [els[::-1], els[:-1] if n == 3 else els + [el_rational(F(0))]]
    i = rng.randrange(n)
    wr.append([el_rational(F(e.value) + 1) if j == i and isinstance(e.value, F) else
               (El(e.value + 1, [e.forms[0] + " + 1"]) if j == i else e) for j, e in enumerate(els)])
    i = rng.randrange(n)
    if float(els[i].value) != 0:
        wr.append([El(-e.value, ["-" + e.forms[0] if not e.forms[0].startswith("-") else e.forms[0][1:]]) if j == i else e
                   for j, e in enumerate(els)])
    if n == 3:
        wr.append([els[1], els[0], els[2]])
    wrongs = [(tex([e.forms[0] for e in es]), val(es)) for es in wr]
    return golds, eqs, wrongs


UNITS = {  # dimension -> [(symbol, long name)]
    "length": [("cm", "centimeters"), ("m", "meters"), ("km", "kilometers"), ("mm", "millimeters")],
    "mass": [("g", "grams"), ("kg", "kilograms")],
    "time": [("s", "seconds"), ("min", "minutes")],
    "area": [("cm^2", "square centimeters"), ("m^2", "square meters")],
}


def g_units(rng):
    if rng.random() < 0.35:
        d = rng.randint(1, 179)
        v = ("unit", d, "deg")
        golds = [(f"{d}^\\circ", v), (f"{d}^{{\\circ}}", v), (str(d), v)]
        eqs = [(f"{d}^\\circ", v), (f"{d}^{{\\circ}}", v), (f"{d}°", v), (f"{d} \\text{{ degrees}}", v), (str(d), v),
               (f"{d}\\degree", v), (f"{d}^{{\\circ}} ", v)]
        wr = [(f"{180 - d}^\\circ", ("unit", 180 - d, "deg")), (f"{90 - d}^\\circ", ("unit", 90 - d, "deg")),
              (f"{d + 1}^\\circ", ("unit", d + 1, "deg")), (f"{d - 1}^\\circ", ("unit", d - 1, "deg")),
              (f"{2 * d}^\\circ", ("unit", 2 * d, "deg")), (str(d + 10), ("unit", d + 10, "deg"))]
        return golds, eqs, wr
    dim = rng.choice(list(UNITS))
    (sym, name), other = (lambda us: (us[0], us[1]))(rng.sample(UNITS[dim], 2))
    n = F(rng.randint(1, 500)) if rng.random() < 0.8 else F(rng.randint(1, 99), 10)
    s = dec(n)
    v = ("unit", n, sym)

    def tx(x, u, style):
        base, _, pw = u.partition("^")
        pw = f"^{pw}" if pw else ""
        return {"text": f"{x} \\text{{ {base}}}{pw}", "text0": f"{x}\\text{{{base}}}{pw}",
                "plain": f"{x} {base}{pw}", "tight": f"{x}{base}{pw}", "mathrm": f"{x} \\mathrm{{{base}}}{pw}",
                "thin": f"{x}\\,\\text{{{base}}}{pw}"}[style]

    golds = [(tx(s, sym, "text"), v), (tx(s, sym, "text"), v), (s, ("unit", n, None))]
    eqs = [(tx(s, sym, st), v) for st in ("text", "text0", "plain", "tight", "mathrm", "thin")]
    eqs += [(s, ("unit", n, None)), (f"{s} \\text{{ {name}}}", v)]
    wr = [(tx(dec(n + 1), sym, "text"), ("unit", n + 1, sym)), (tx(dec(n * 10), sym, "text"), ("unit", n * 10, sym)),
          (tx(dec(n * 100), sym, "tight"), ("unit", n * 100, sym)), (tx(dec(n - 1), sym, "plain"), ("unit", n - 1, sym)),
          (dec(n + 1), ("unit", n + 1, None))]
    wr_unit = [(tx(s, other[0], "text"), ("unit", n, other[0])), (tx(s, other[0], "tight"), ("unit", n, other[0]))]
    return golds, eqs, wr, wr_unit   # wrong-unit forms are only used with a gold that has the unit


MC = "ABCDE"
WORDS = [("yes", "no"), ("even", "odd"), ("true", "false"), ("Monday", "Tuesday"), ("Friday", "Sunday"),
         ("increasing", "decreasing"), ("circle", "ellipse"), ("always", "never"), ("Alice", "Bob"),
         ("red", "blue"), ("north", "south"), ("convergent", "divergent")]


def g_text(rng):
    kind = rng.choice(["mc", "mc", "word", "word", "number"])
    if kind == "mc":
        L = rng.choice(MC)
        v = ("text", L)
        golds = [(f"\\text{{({L})}}", v), (f"\\textbf{{({L})}}", v), (f"({L})", v), (L, v)]
        eqs = [(f"\\text{{({L})}}", v), (f"({L})", v), (L, v), (f"\\textbf{{({L})}}", v), (f"\\text{{{L}}}", v),
               (f"\\mathrm{{({L})}}", v), (f"\\text{{ ({L}) }}", v)]
        wr = [(f"\\text{{({M})}}", ("text", M)) for M in MC if M != L] + [(M, ("text", M)) for M in MC if M != L]
        return golds, eqs, wr
    if kind == "word":
        w, x = rng.choice(WORDS)
        if rng.random() < 0.5:
            w, x = x, w
        v = ("text", w.lower())
        cap = w[0].upper() + w[1:]
        golds = [(f"\\text{{{w}}}", v), (f"\\text{{{cap}}}", v)]
        eqs = [(f"\\text{{{w}}}", v), (w, v), (f"\\text{{{cap}}}", v), (f"\\textbf{{{w}}}", v), (f"\\mathrm{{{w}}}", v),
               (f"\\text{{ {w} }}", v), (f"\\text{{{w.upper()}}}", v)]
        wr = [(f"\\text{{{x}}}", ("text", x.lower())), (x, ("text", x.lower())),
              (f"\\text{{{x[0].upper() + x[1:]}}}", ("text", x.lower())), (f"\\textbf{{{x}}}", ("text", x.lower()))]
        return golds, eqs, wr
    n = rng.randint(2, 300)
    noun = rng.choice(["apples", "students", "marbles", "days", "cookies"])
    v = ("unit", n, noun)
    golds = [(str(n), ("unit", n, None)), (f"\\text{{{n}}}", ("unit", n, None)), (f"{n} \\text{{ {noun}}}", v)]
    eqs = [(f"\\text{{{n}}}", ("unit", n, None)), (str(n), ("unit", n, None)), (f"{n} \\text{{ {noun}}}", v),
           (f"\\text{{{n} {noun}}}", v), (f"\\textbf{{{n}}}", ("unit", n, None))]
    wr = [(f"\\text{{{n + 1}}}", ("unit", n + 1, None)), (f"{n - 1} \\text{{ {noun}}}", ("unit", n - 1, noun)),
          (f"\\text{{{n * 2} {noun}}}", ("unit", n * 2, noun)), (str(n + 10), ("unit", n + 10, None))]
    return golds, eqs, wr


SAMPLE_X = (-2.5, -1.0, 0.0, 0.5, 1.0, 2.0, 3.5)


def _sign_term(c: int, body: str, first: bool) -> str:
    """c*body as a term ('+ 3x', '- x', '2x' ...), body '' for a constant."""
    if c == 0:
        return ""
    mag = abs(c)
    coef = ("" if mag == 1 and body else str(mag)) + body
    if first:
        return ("-" if c < 0 else "") + coef
    return (" - " if c < 0 else " + ") + coef


def _lin(m, c, order="mc", var="x"):
    if order == "mc":
        return _sign_term(m, var, True) + _sign_term(c, "", False)
    return _sign_term(c, "", True) + _sign_term(m, var, False)


def g_equation(rng):
    kind = rng.choice(["assign", "assign", "line", "poly"])
    if kind == "assign":
        var = rng.choice(["x", "y", "n", "k", "a", "t"])
        f = F(rng.randint(-20, 40)) if rng.random() < 0.75 else F(rng.randint(1, 19), rng.randint(2, 7))
        v = f
        c = canon(f)
        golds = [(c, v), (f"{var} = {c}", v), (f"{var}={c}", v)]
        alt = forms_of(f)
        eqs = [(f"{var} = {c}", v), (f"{var}={c}", v), (c, v), (f"{var} = {alt[1]}", v), (f"{var} = {alt[-1]}", v),
               (f"{c} = {var}", v), (f"{var} = {{{c}}}", v)]
        wr = [(f"{var} = {canon(f + 1)}", f + 1), (f"{var} = {canon(f - 1)}", f - 1), (canon(f + 1), f + 1),
              (f"{var} = {canon(-f)}", -f), (f"{var} = {canon(2 * f)}", 2 * f)]
        if f != 0:
            wr.append((f"{var} = {canon(1 / f)}", 1 / f))
        return golds, eqs, wr
    if kind == "line":
        while True:
            m, c = rng.randint(-6, 6), rng.randint(-9, 9)
            if m and c and abs(m) != abs(c):
                break

        def val(mm, cc):
            return ("line",) + tuple(mm * x + cc for x in SAMPLE_X)

        v = val(m, c)
        main = f"y = {_lin(m, c)}"
        golds = [(main, v), (main.replace(" ", ""), v)]
        eqs = [(main, v), (main.replace(" ", ""), v), (f"y = {_lin(m, c, 'cm')}", v),
               (f"y = {_lin(m, c).replace('x', ' x')}", v), (f"y={_lin(m, c, 'cm')}", v)]
        if abs(m) > 1:
            eqs.append((f"y = {m} \\cdot x {'+' if c > 0 else '-'} {abs(c)}", v))
        if c % m == 0:
            k = c // m
            inner = f"x {'+' if k > 0 else '-'} {abs(k)}"
            eqs.append((f"y = {m}({inner})" if m not in (1, -1) else f"y = {'-' if m < 0 else ''}({inner})", v))
        wr = [(f"y = {_lin(m, -c)}", val(m, -c)), (f"y = {_lin(-m, c)}", val(-m, c)), (f"y = {_lin(c, m)}", val(c, m)),
              (f"y = {_lin(m + 1, c) if m + 1 else str(c)}", val(m + 1, c)), (f"y = {_lin(m, c + 1) if c + 1 else _sign_term(m, 'x', True)}", val(m, c + 1))]
        return golds, eqs, wr
    # poly: (x + a)(x + b) vs expanded
    while True:
        a, b = rng.randint(-9, 9), rng.randint(-9, 9)
        if a and b and a != b and a + b != 0:
            break

    def val(s, p, q=1):   # q*x^2 + s x + p
        return ("poly",) + tuple(q * x * x + s * x + p for x in SAMPLE_X)

    def fac(u):
        return f"(x {'+' if u > 0 else '-'} {abs(u)})"

    v = val(a + b, a * b)
    expanded = "x^2" + _sign_term(a + b, "x", False) + _sign_term(a * b, "", False)
    golds = [(expanded, v), (f"{fac(a)}{fac(b)}", v)]
    eqs = [(expanded, v), (f"{fac(a)}{fac(b)}", v), (f"{fac(b)}{fac(a)}", v), (expanded.replace(" ", ""), v),
           (f"{fac(a)} \\cdot {fac(b)}", v), (f"x^{{2}}" + _sign_term(a + b, "x", False) + _sign_term(a * b, "", False), v)]
    wr = [(f"{fac(-a)}{fac(b)}", val(b - a, -a * b)), (f"{fac(a)}{fac(-b)}", val(a - b, -a * b)),
          ("x^2" + _sign_term(a + b, "x", False) + _sign_term(-a * b, "", False), val(a + b, -a * b)),
          ("x^2" + _sign_term(-(a + b), "x", False) + _sign_term(a * b, "", False), val(-(a + b), a * b)),
          (f"{fac(a)}^2", val(2 * a, a * a)), ("x^2" + _sign_term(a * b, "", False), val(0, a * b))]
    return golds, eqs, wr


def g_thousands(rng):
    n = rng.choice([rng.randint(1000, 9999), rng.randint(10000, 999999), rng.randint(10 ** 6, 10 ** 9)])
    if rng.random() < 0.2:
        n = n // 1000 * 1000
    styles = [(",", "1,000"), ("{,}", "1{,}000"), (",\\!", "1,\\!000"), ("\\,", "1\\,000")]
    golds = [(str(n), n), (comma_int(n), n), (comma_int(n, ",\\!"), n), (comma_int(n, "{,}"), n)]
    eqs = [(str(n), n), (comma_int(n), n), (comma_int(n, "{,}"), n), (comma_int(n, ",\\!"), n),
           (comma_int(n, "\\,"), n), (comma_int(n) + ".00", n), (f"{n}.0", n)]
    sep = rng.choice(styles)[0]
    m = n // 10
    s = str(n)
    swapped = int(s[:-3] + s[-2] + s[-3] + s[-1]) if s[-2] != s[-3] else n + 100
    wr = [(comma_int(n + 1, sep), n + 1), (comma_int(n - 1, sep), n - 1), (comma_int(n * 10, sep), n * 10),
          (comma_int(m, sep), m), (comma_int(swapped, sep), swapped), (comma_int(n + 1000, sep), n + 1000),
          (str(n // 1000), n // 1000)]
    return golds, eqs, wr


def g_scientific(rng):
    digits = rng.choice([1, 2, 2, 3])
    while True:
        mant = F(rng.randint(10 ** (digits - 1), 10 ** digits - 1), 10 ** (digits - 1))
        if (mant * 10 ** (digits - 1)) % 10:
            break
    e = rng.choice(list(range(-8, 0)) + list(range(3, 13)))
    f = mant * F(10) ** e
    ms = dec(mant)

    def sci(m_s, ex, op="\\times", br=True):
        return f"{m_s} {op} 10^{{{ex}}}" if br else f"{m_s} {op} 10^{ex}"

    golds = [(sci(ms, e), f), (sci(ms, e), f)]
    if -5 <= e <= 8:
        golds.append((dec(f), f))
    eqs = [(sci(ms, e), f), (sci(ms, e).replace(" ", ""), f), (sci(ms, e, "\\cdot"), f),
           (sci(dec(mant * 10), e - 1), f), (sci(dec(mant, 1 if mant.denominator == 1 else 1), e), f),
           (f"10^{{{e}}} \\cdot {ms}", f)]
    if 0 <= e <= 9:
        eqs.append((sci(ms, e, br=False), f))
    if -6 <= e <= 10:
        eqs.append((dec(f), f))
    if e >= 3:
        eqs.append((comma_int(int(f)) if f.denominator == 1 else dec(f), f))
    ulp = F(1, 10 ** (digits - 1))
    sw = ms.replace(".", "")
    wr = [(sci(ms, e + 1), f * 10), (sci(ms, e - 1), f / 10), (sci(ms, -e), mant * F(10) ** (-e)),
          (sci(dec(mant + ulp), e), (mant + ulp) * F(10) ** e), ("-" + sci(ms, e), -f)]
    if digits >= 2 and sw[0] != sw[1]:
        m2 = F(sw[1] + "." + sw[0] + sw[2:])
        wr.append((sci(dec(m2), e), m2 * F(10) ** e))
    if mant > 1:
        wr.append((sci(dec(mant - ulp), e), (mant - ulp) * F(10) ** e))
    return golds, eqs, wr


def g_negative(rng):
    kind = rng.choice(["int", "int", "dec", "frac"])
    if kind == "int":
        f = F(-rng.randint(1, 500))
    elif kind == "dec":
        f = F(-rng.randint(1, 999), rng.choice([10, 100, 4]))
        if not is_terminating(f) or f.denominator == 1:
            f = F(-rng.randint(11, 99), 10)
    else:
        f = F(-rng.randint(1, 15), rng.randint(2, 12))
        if f.denominator == 1:
            f = F(-7, 3)
    a = -f
    if f.denominator == 1:
        s = str(f.numerator)
        golds = [(s, f)]
        eqs = [(s, f), (f"- {a}", f), (f"(-{a})", f), (f"{s}.0", f), (f"{{{s}}}", f), (f"\u2212{a}", f),
               (f"-\\left({a}\\right)", f), (f"-1 \\cdot {a}", f), (f"\\frac{{{-2 * a}}}{{2}}", f)]
        wr = [(str(a), a), (str(f - 1), f - 1), (str(f + 1), f + 1), (str(f * 10), f * 10), (f"\\frac{{1}}{{{s}}}", 1 / f)]
        return golds, eqs, wr
    s = dec(f) if kind == "dec" and is_terminating(f) else frac(f)
    p, q = a.numerator, a.denominator
    golds = [(s, f), (frac(f), f)]
    eqs = [(s, f), (frac(f), f), (f"\\frac{{-{p}}}{{{q}}}", f), (f"\\frac{{{p}}}{{-{q}}}", f), (frac(f, k=2), f),
           (f"-({frac(a)})", f), (f"-{p}/{q}", f), (f"\u2212{frac(a)}", f)]
    if is_terminating(f):
        eqs.append((dec(f), f))
    wr = [(frac(a), a), (frac(1 / f), 1 / f), (frac(f - 1), f - 1), (frac(f + 1), f + 1), (f"\\frac{{{q}}}{{-{p}}}", 1 / f)]
    if is_terminating(f):
        wr.append((dec(a), a))
    return golds, eqs, wr


SPACES = ["\\!", "\\,", "\\;", "\\:", "\\ ", "~", "\\quad ", "{}"]


def g_spacing(rng):
    kind = rng.choice(["int", "frac", "tuple", "interval", "radical", "thousands"])
    sp = lambda: rng.choice(SPACES)
    if kind == "int":
        n = rng.randint(1, 999)
        golds = [(str(n), n)]
        eqs = [(f"{sp()}{n}", n), (f"{n}{sp()}", n), (f"\\displaystyle {n}", n), (f"{{{n}}}{sp()}", n), (f"\\left( {n} \\right)", n),
               (f"\\;{n}\\;", n)]
        wr = [(f"{sp()}{n + 1}", n + 1), (f"{n - 1}{sp()}", n - 1), (f"\\displaystyle {n * 10}", n * 10), (f"\\left( {-n} \\right)", -n)]
        return golds, eqs, wr
    if kind == "frac":
        f = F(rng.randint(1, 20), rng.randint(2, 15))
        if f.denominator == 1:
            f = F(5, 7)
        p, q = f.numerator, f.denominator
        golds = [(frac(f), f)]
        eqs = [(f"\\frac{{\\,{p}}}{{{q}\\,}}", f), (f"\\!\\frac{{{p}}}{{{q}}}", f), (f"\\displaystyle\\frac{{{p}}}{{{q}}}", f),
               (f"\\left(\\frac{{{p}}}{{{q}}}\\right)", f), (f"\\frac{{ {p} }}{{ {q} }}{sp()}", f), (f"{p}{sp()}/{sp()}{q}", f)]
        wr = [(f"\\frac{{\\,{q}}}{{{p}\\,}}", 1 / f), (f"\\displaystyle\\frac{{{p + 1}}}{{{q}}}", F(p + 1, q)),
              (f"\\left(-\\frac{{{p}}}{{{q}}}\\right)", -f), (f"\\!\\frac{{{p}}}{{{q + 1}}}", F(p, q + 1))]
        return golds, eqs, wr
    if kind == "tuple":
        a, b = rng.sample(range(-9, 13), 2)
        v = ("tuple", a, b)
        golds = [(f"({a}, {b})", v), (f"({a},{b})", v)]
        eqs = [(f"\\left({a},\\,{b}\\right)", v), (f"({a},\\ {b})", v), (f"\\left( {a}, {b} \\right)", v),
               (f"(\\,{a},{b}\\,)", v), (f"({a},\\quad {b})", v), (f"\\left({a},\\!{b}\\right)", v)]
        wr = [(f"\\left({b},\\,{a}\\right)", ("tuple", b, a)), (f"({a},\\ {b + 1})", ("tuple", a, b + 1)),
              (f"\\left( {-a if a else 1}, {b} \\right)", ("tuple", -a if a else 1, b)), (f"(\\,{a}\\,)", ("tuple", a))]
        return golds, eqs, wr
    if kind == "interval":
        a, b = sorted(rng.sample(range(-9, 13), 2))
        lc = rng.random() < 0.5
        L, R = ("[", ")") if lc else ("(", "]")
        v = ("interval", ((a, lc, b, not lc),))
        golds = [(f"{L}{a}, {b}{R}", v), (f"{L}{a},{b}{R}", v)]
        eqs = [(f"\\left{L}{a},\\,{b}\\right{R}", v), (f"{L}\\,{a}, {b}\\,{R}", v), (f"\\left{L} {a}, {b} \\right{R}", v),
               (f"{L}{a},\\!{b}{R}", v), (f"{L}{a},\\; {b}{R}", v)]
        L2, R2 = ("(", "]") if lc else ("[", ")")
        wr = [(f"\\left{L2}{a},\\,{b}\\right{R2}", ("interval", ((a, not lc, b, lc),))),
              (f"\\left[{a},\\,{b}\\right]", ("interval", ((a, True, b, True),))),
              (f"{L}\\,{a}, {b + 1}\\,{R}", ("interval", ((a, lc, b + 1, not lc),))),
              (f"\\left{L} {a - 1}, {b} \\right{R}", ("interval", ((a - 1, lc, b, not lc),)))]
        return golds, eqs, wr
    if kind == "radical":
        a, b = rng.randint(2, 9), rng.choice(SQUAREFREE)
        v = a * math.sqrt(b)
        golds = [(f"{a}\\sqrt{{{b}}}", v)]
        eqs = [(f"{a}\\,\\sqrt{{{b}}}", v), (f"{a}\\!\\sqrt{{{b}}}", v), (f"{a}\\sqrt{{\\,{b}}}", v),
               (f"{a}\\;\\sqrt{{{b}}}", v), (f"\\displaystyle {a}\\sqrt{{{b}}}", v), (f"{a}~\\sqrt{{{b}}}", v)]
        wr = [(f"{a}\\,\\sqrt{{{b + 1}}}", a * math.sqrt(b + 1)), (f"{a + 1}\\,\\sqrt{{{b}}}", (a + 1) * math.sqrt(b)),
              (f"\\sqrt{{\\,{a * b}}}", math.sqrt(a * b)), (f"{a}\\;\\sqrt[3]{{{b}}}", a * b ** (1 / 3))]
        return golds, eqs, wr
    n = rng.randint(1000, 999999)
    golds = [(comma_int(n, ",\\!"), n), (str(n), n)]
    eqs = [(comma_int(n, ",\\!"), n), (comma_int(n, "\\,"), n), (comma_int(n, "{,}\\!"), n), (f"\\,{n}", n), (f"{n}\\!", n)]
    wr = [(comma_int(n + 1, ",\\!"), n + 1), (comma_int(n * 10, ",\\!"), n * 10), (comma_int(n - 1000, "\\,"), n - 1000),
          (comma_int(n // 10, ",\\!"), n // 10)]
    return golds, eqs, wr


def g_dfrac(rng):
    kind = rng.choice(["num", "num", "neg", "surd", "pi"])
    f = F(rng.randint(1, 25), rng.randint(2, 16))
    if f.denominator == 1:
        f = F(f.numerator, f.numerator + 1)
    p, q = f.numerator, f.denominator
    if kind in ("num", "neg"):
        sg = -1 if kind == "neg" else 1
        s = "-" if sg < 0 else ""
        v = sg * f
        golds = [(f"{s}\\frac{{{p}}}{{{q}}}", v), (f"{s}\\dfrac{{{p}}}{{{q}}}", v)]
        eqs = [(f"{s}\\dfrac{{{p}}}{{{q}}}", v), (f"{s}\\tfrac{{{p}}}{{{q}}}", v), (f"{s}\\frac{{{p}}}{{{q}}}", v),
               (f"{s}\\dfrac{{{2 * p}}}{{{2 * q}}}", v), (f"{s}\\cfrac{{{p}}}{{{q}}}", v), (f"\\dfrac{{{s}{p}}}{{{q}}}", v)]
        if p < 10 and q < 10:
            eqs += [(f"{s}\\dfrac{p}{q}", v), (f"{s}\\tfrac{p}{q}", v)]
        wr = [(f"{s}\\dfrac{{{q}}}{{{p}}}", sg / f), (f"{s}\\dfrac{{{p + 1}}}{{{q}}}", sg * F(p + 1, q)),
              (f"{s}\\tfrac{{{p}}}{{{q + 1}}}", sg * F(p, q + 1)), (f"{'' if s else '-'}\\dfrac{{{p}}}{{{q}}}", -v),
              (f"{s}\\tfrac{{{q}}}{{{p}}}", sg / f)]
        return golds, eqs, wr
    if kind == "surd":
        b = rng.choice([2, 3, 5, 6, 7])
        v = p * math.sqrt(b) / q
        lead = "" if p == 1 else str(p)
        golds = [(f"\\frac{{{lead}\\sqrt{{{b}}}}}{{{q}}}", v), (f"\\dfrac{{{lead}\\sqrt{{{b}}}}}{{{q}}}", v)]
        eqs = [(f"\\dfrac{{{lead}\\sqrt{{{b}}}}}{{{q}}}", v), (f"\\tfrac{{{lead}\\sqrt{{{b}}}}}{{{q}}}", v),
               (f"\\frac{{{lead}\\sqrt{{{b}}}}}{{{q}}}", v), (f"\\dfrac{{{p}}}{{{q}}}\\sqrt{{{b}}}", v),
               (f"\\dfrac{{{p * b}}}{{{q}\\sqrt{{{b}}}}}", v)]
        wr = [(f"\\dfrac{{{q}}}{{{lead}\\sqrt{{{b}}}}}", q / (p * math.sqrt(b))), (f"\\dfrac{{{lead}\\sqrt{{{b + 1}}}}}{{{q}}}", p * math.sqrt(b + 1) / q),
              (f"\\tfrac{{{lead}\\sqrt{{{b}}}}}{{{q + 1}}}", p * math.sqrt(b) / (q + 1)), (f"\\dfrac{{{p}}}{{{q}}}", float(f))]
        return golds, eqs, wr
    v = float(f) * math.pi
    lead = "" if p == 1 else str(p)
    golds = [(f"\\frac{{{lead}\\pi}}{{{q}}}", v), (f"\\dfrac{{{lead}\\pi}}{{{q}}}", v)]
    eqs = [(f"\\dfrac{{{lead}\\pi}}{{{q}}}", v), (f"\\tfrac{{{lead}\\pi}}{{{q}}}", v), (f"\\frac{{{lead}\\pi}}{{{q}}}", v),
           (f"\\dfrac{{{p}}}{{{q}}}\\pi", v), (f"\\dfrac{{{lead} \\pi}}{{{q}}}", v)]
    wr = [(f"\\dfrac{{{q}\\pi}}{{{p}}}", q * math.pi / p), (f"\\dfrac{{{lead}\\pi}}{{{q + 1}}}", p * math.pi / (q + 1)),
          (f"\\tfrac{{{p + 1}\\pi}}{{{q}}}", (p + 1) * math.pi / q), (f"\\dfrac{{{p}}}{{{q}}}", float(f)),
          (f"\\dfrac{{{q}}}{{{lead}\\pi}}", q / (p * math.pi))]
    return golds, eqs, wr


CATEGORIES = [
    ("integer", g_integer), ("decimal", g_decimal), ("fraction", g_fraction), ("radical", g_radical),
    ("pi_log", g_pi_log), ("percentage", g_percentage), ("interval", g_interval), ("set", g_set),
    ("tuple", g_tuple), ("units", g_units), ("text", g_text), ("equation", g_equation),
    ("thousands", g_thousands), ("scientific", g_scientific), ("negative", g_negative),
    ("latex_spacing", g_spacing), ("dfrac", g_dfrac),
]


# ---------------------------------------------------------------- corpus


def pick_wrapper(rng):
    r, acc = rng.random(), 0.0
    for name, w in WRAPPERS:
        acc += w
        if r < acc:
            return name
    return WRAPPERS[-1][0]


def build_corpus(rng: random.Random) -> list[dict]:
    cases: list[dict] = []
    for cat, gen in CATEGORIES:
        seen: set[tuple[str, str]] = set()
        n_values = 0
        attempts = 0
        while n_values < VALUES_PER_CATEGORY:
            attempts += 1
            assert attempts < 20 * VALUES_PER_CATEGORY, cat
            out = gen(rng)
            golds, eqs, wrongs = out[0], out[1], out[2]
            gold_tex, gold_val = rng.choice(golds)
            if len(out) == 4 and not (isinstance(gold_val, tuple) and gold_val[2] is None):
                wrongs = wrongs + out[3]     # wrong-unit near misses: only against a gold with its unit
            eq_ok, wr_ok = [], []
            for tex, val in eqs:
                r = same(gold_val, val)
                assert r is True, (cat, gold_tex, tex, gold_val, val)
                if tex not in [t for t in eq_ok]:
                    eq_ok.append(tex)
            for tex, val in wrongs:
                r = same(gold_val, val)
                if r is None:
                    raise AssertionError(("ambiguous distance", cat, gold_tex, tex))
                if r is False and tex not in wr_ok and tex != gold_tex:
                    wr_ok.append(tex)
                # r is True: the near miss happens to equal the gold for this value: dropped.
            if len(eq_ok) < EQUAL_PER_VALUE or len(wr_ok) < WRONG_PER_VALUE:
                continue
            if (gold_tex, "") in seen:
                continue
            seen.add((gold_tex, ""))
            n_values += 1
            gold_written = f"${gold_tex}$" if rng.random() < GOLD_DOLLAR_RATE else gold_tex
            picks = [(t, True) for t in rng.sample(eq_ok, EQUAL_PER_VALUE)] + \
                    [(t, False) for t in rng.sample(wr_ok, WRONG_PER_VALUE)]
            for tex, eq in picks:
                w = pick_wrapper(rng)
                cases.append({"id": len(cases) + 1, "category": cat, "wrapper": w, "gold": gold_written,
                              "pred": wrap(rng, w, tex), "answer": tex, "equal": eq})
    return cases


# ---------------------------------------------------------------- math-verify (worker side)


def worker_main() -> None:
    """Reads {"gold", "pred"} lines on stdin, answers {"mv", "ms", "note"} lines on stdout."""
    import logging
    from trl.rewards import accuracy_reward

    class Catch(logging.Handler):
        hit = False

        def emit(self, record):
            if "Timeout" in record.getMessage():
                Catch.hit = True

    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addHandler(Catch())
    out = sys.stdout.buffer
    # Warm-up (imports, grammar tables), so the first case is not charged for it.
    accuracy_reward([[{"role": "assistant", "content": "$\\boxed{\\frac{1}{2}}$"}]], ["\\frac{1}{2}"])
    for line in sys.stdin.buffer:
        req = json.loads(line)
        Catch.hit = False
        t = time.perf_counter()
        try:
            [r] = accuracy_reward([[{"role": "assistant", "content": req["pred"]}]], [req["gold"]])
            mv = None if r is None else bool(r == 1.0)
            note = "internal_timeout" if Catch.hit else None
        except Exception as e:  # noqa: BLE001  (recorded, never hides a case)
            mv, note = "error", f"{type(e).__name__}: {e}"[:200]
        ms = (time.perf_counter() - t) * 1000
        out.write((json.dumps({"mv": mv, "ms": round(ms, 2), "note": note}) + "\n").encode())
        out.flush()


class Worker:
    def __init__(self):
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()        # our own child, by its Popen handle
            self.proc.wait()
            self.proc = None

    def call(self, gold: str, pred: str) -> dict:
        if self.proc is None:
            self.start()
        self.proc.stdin.write((json.dumps({"gold": gold, "pred": pred}) + "\n").encode())
        self.proc.stdin.flush()
        # The first answer of a fresh worker also waits for its imports and warm-up.
        ready, _, _ = select.select([self.proc.stdout], [], [], WATCHDOG)
        if not ready:
            self.stop()
            return {"mv": "timeout", "ms": WATCHDOG * 1000, "note": None}
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            return {"mv": "error", "ms": None, "note": "worker died"}
        return json.loads(line)


def run_math_verify(cases: list[dict], jobs: int) -> None:
    q: queue.Queue = queue.Queue()
    for c in cases:
        q.put(c)
    done = [0]
    lock = threading.Lock()
    t0 = time.time()

    def loop():
        w = Worker()
        try:
            while True:
                try:
                    c = q.get_nowait()
                except queue.Empty:
                    return
                r = w.call(c["gold"], c["pred"])
                c["mv"], c["mv_ms"] = r["mv"], r["ms"]
                if r.get("note"):
                    c["mv_note"] = r["note"]
                with lock:
                    done[0] += 1
                    if done[0] % 500 == 0:
                        print(f"  {done[0]}/{len(cases)} ({time.time() - t0:.0f} s)", file=sys.stderr)
        finally:
            w.stop()

    threads = [threading.Thread(target=loop) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ---------------------------------------------------------------- venv


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    """Re-executes this script inside bench/.venv-mathverify, creating and filling it if needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    probe = subprocess.run(
        [str(venv_python()), "-c",
         "import importlib.metadata as m; print(m.version('math-verify'), m.version('trl'))"],
        capture_output=True, text=True)
    want_mv = MV_SPEC.split("==", 1)[1] if "==" in MV_SPEC else None
    want_trl = TRL_SPEC.split("==", 1)[1] if "==" in TRL_SPEC else None
    have = probe.stdout.split() if probe.returncode == 0 else []
    if not have or (want_mv and have[0] != want_mv) or (want_trl and have[1] != want_trl):
        print(f"installing {MV_SPEC}, {TRL_SPEC} packaging (--no-deps) into {VENV}", file=sys.stderr)
        pip = [str(venv_python()), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + [MV_SPEC], check=True)
        subprocess.run(pip + ["--no-deps", TRL_SPEC, "packaging"], check=True)
    os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])


# ---------------------------------------------------------------- summary


def summarize(cases: list[dict], key: str) -> list[dict]:
    rows: dict[str, dict] = {}
    for c in cases:
        r = rows.setdefault(c[key], {key: c[key], "n": 0, "equal": 0, "agree": 0, "tp": 0, "tn": 0,
                                     "null": 0, "timeout": 0, "fp": 0, "fn": 0, "clean_n": 0, "clean_agree": 0})
        r["n"] += 1
        if is_clean(c):
            r["clean_n"] += 1
            r["clean_agree"] += c.get("mv") == c["equal"]
        r["equal"] += c["equal"]
        mv = c.get("mv")
        if mv is None:
            r["null"] += 1
        elif mv == "timeout" or mv == "error":
            r["timeout"] += 1
        elif mv == c["equal"]:
            r["agree"] += 1
            r["tp" if mv else "tn"] += 1
        else:
            r["fp" if mv else "fn"] += 1
    return list(rows.values())


def is_clean(c: dict) -> bool:
    """The setting math-verify is built for: gold inside $...$, pred boxed or in the Minerva format."""
    return c["gold"].startswith("$") and c["wrapper"] in ("boxed_sentence", "minerva")


def print_table(rows: list[dict], key: str) -> str:
    lines = [f"{key:<15} {'n':>5} {'eq%':>5} {'acc%':>6} {'acc|parsed%':>11} {'recall%':>7} {'spec%':>6} "
             f"{'null':>5} {'fp':>4} {'fn':>5} {'t/o':>4} {'clean_n':>7} {'clean_acc%':>10}"]
    tot = {"n": 0, "equal": 0, "agree": 0, "tp": 0, "tn": 0, "null": 0, "timeout": 0, "fp": 0, "fn": 0,
           "clean_n": 0, "clean_agree": 0}
    for r in rows + [None]:
        if r is None:
            r = dict(tot, **{key: "ALL"})
        else:
            for k in tot:
                tot[k] += r[k]
        n, ne = r["n"], r["n"] - r["equal"]
        parsed = n - r["null"]
        pct = lambda a, b: f"{100 * a / b:.1f}" if b else "-"
        lines.append(f"{r[key]:<15} {n:>5} {pct(r['equal'], n):>5} {pct(r['agree'], n):>6} "
                     f"{pct(r['agree'], parsed):>11} {pct(r['tp'], r['equal']):>7} {pct(r['tn'], ne):>6} "
                     f"{r['null']:>5} {r['fp']:>4} {r['fn']:>5} {r['timeout']:>4} {r['clean_n']:>7} "
                     f"{pct(r['clean_agree'], r['clean_n']):>10}")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=str(ROOT / "tests" / "fixtures" / "math_corpus.jsonl"))
    ap.add_argument("-j", "--jobs", type=int, default=1, help="math-verify worker processes (default 1)")
    ap.add_argument("--no-mv", action="store_true", help="write the corpus without math-verify (mv null)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main()
        return
    if not args.no_mv:
        ensure_venv()

    rng = random.Random(SEED)
    cases = build_corpus(rng)
    versions = {"python": sys.version.split()[0]}
    if not args.no_mv:
        import importlib.metadata as md
        for pkg in ("math-verify", "latex2sympy2_extended", "sympy", "antlr4-python3-runtime", "trl"):
            versions[pkg] = md.version(pkg)
        print(f"math-verify {versions['math-verify']}, trl {versions['trl']}: {len(cases)} cases, "
              f"{args.jobs} worker(s)", file=sys.stderr)
        t0 = time.time()
        run_math_verify(cases, args.jobs)
        print(f"math-verify done in {time.time() - t0:.0f} s", file=sys.stderr)
    else:
        for c in cases:
            c["mv"], c["mv_ms"] = None, None

    by_cat = summarize(cases, "category")
    by_wrap = summarize(cases, "wrapper")
    gold_style = [dict(c, gold_style="dollar" if c["gold"].startswith("$") else "bare") for c in cases]
    by_gold = summarize(gold_style, "gold_style")
    counts = {r["category"]: {"cases": r["n"], "equal": r["equal"], "not_equal": r["n"] - r["equal"]} for r in by_cat}
    meta = {
        "generator": "bench/oracles/math_corpus.py",
        "seed": SEED,
        "versions": versions,
        "cases": len(cases),
        "equal": sum(c["equal"] for c in cases),
        "counts": counts,
        "wrappers": {name: sum(1 for c in cases if c["wrapper"] == name) for name, _ in WRAPPERS},
        "wrapper_templates": {
            "bare": "{answer}", "dollar": "${answer}$", "boxed_sentence": BOXED_SENTENCES,
            "answer_tag": ["<answer>{answer}</answer>", "<answer>\\n{answer}\\n</answer>"],
            "answer_is": "The answer is {answer}",
            "minerva": "Final Answer: The final answer is ${answer}$. I hope it is correct.",
        },
        "fields": {
            "gold": "the reference as a data set writes it (bare LaTeX, or inside $...$)",
            "pred": "the completion text (wrapper applied)",
            "answer": "the answer inside pred (pred without its wrapper)",
            "equal": "the truth, by construction",
            "mv": "TRL accuracy_reward with math-verify: true (1.0) / false (0.0) / null (None: gold "
                  "not parseable, TRL skips the example) / \"timeout\" (watchdog) / \"error\"",
            "mv_ms": "milliseconds of that call (varies between runs; reporting only)",
            "mv_note": "only when math-verify logged an internal timeout during the call",
        },
        "mv_call": "trl.rewards.accuracy_reward([[{'role': 'assistant', 'content': pred}]], [gold]) in "
                   "a worker process's main thread (TRL's own timeouts active: parse 10 s, verify 5 s); "
                   f"parent watchdog {WATCHDOG:.0f} s per call",
        "conventions": CONVENTIONS,
        "mv_summary": {
            "note": "agree = mv == equal (null, timeout count as disagreement); clean = gold inside "
                    "$...$ and pred wrapper boxed_sentence or minerva (the setting math-verify expects)",
            "by_category": {r["category"]: {"agree": r["agree"], "null": r["null"], "fp": r["fp"], "fn": r["fn"],
                                            "timeout": r["timeout"], "clean_n": r["clean_n"],
                                            "clean_agree": r["clean_agree"]} for r in by_cat},
            "by_wrapper": {r["wrapper"]: {"n": r["n"], "agree": r["agree"], "null": r["null"], "fp": r["fp"],
                                          "fn": r["fn"]} for r in by_wrap},
        } if not args.no_mv else None,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = ("id", "category", "wrapper", "gold", "pred", "answer", "equal", "mv", "mv_ms", "mv_note")
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for c in cases:
            f.write(json.dumps({k: c[k] for k in keys if k in c}, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases, {meta['equal']} equal ({100 * meta['equal'] / len(cases):.1f}%), "
          f"{out.stat().st_size / 1e6:.2f} MB -> {out}")
    if not args.no_mv:
        print()
        print(print_table(by_cat, "category"))
        print()
        print(print_table(by_wrap, "wrapper"))
        print()
        print(print_table(by_gold, "gold_style"))
        ms = sorted(c["mv_ms"] for c in cases if isinstance(c.get("mv_ms"), (int, float)))
        if ms:
            print(f"\nmv_ms: median {ms[len(ms) // 2]:.1f}, p99 {ms[int(len(ms) * 0.99)]:.1f}, max {ms[-1]:.1f}")


if __name__ == "__main__":
    main()
