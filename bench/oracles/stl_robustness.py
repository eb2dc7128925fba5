#!/usr/bin/env python3
"""Oracle for STL robustness: quantitative semantics of random STL formulas on random
discrete-time signals, computed by rtamt's discrete-time offline monitor.

Usage (from anywhere; any python3 >= 3.10):

    python3 bench/oracles/stl_robustness.py            # writes tests/fixtures/stl_robustness.jsonl
    python3 bench/oracles/stl_robustness.py -o OUT.jsonl

The first run creates the virtualenv bench/.venv-rtamt (gitignored), installs
`pip install rtamt==0.4.10` there and re-executes itself inside it.

What is generated (deterministic: fixed SEED, no clock, no hash order):
- signals over two float variables x, y; length 5..60 steps; values uniform in [-2, 2] rounded to
  3 decimals; timestamps 0, 1, 2, ... (rtamt's default sampling period, 1 s = 1 step);
- formulas with 1..6 operators over atoms `x > c`, `x >= c`, `x < c`, `x <= c` (same for y; c
  uniform in [-1.5, 1.5] rounded to 2 decimals) with not, and, or, unbounded always / eventually
  / until and bounded always[a,b] / eventually[a,b] / until[a,b] (0 <= a <= b <= 20);
- robustness at time 0 from `rtamt.StlDiscreteTimeSpecification()` (standard semantics, Python
  back end): `spec.evaluate({'time': [...], 'x': [...], 'y': [...]})[0][1]`.

Every case is also computed by a plain reference implementation of OUR normative semantics
(`a < c`: c - a, `a > c`: a - c, non-strict the same; not: negation; and/or: min/max;
eventually/always: max/min over the window; until: max over j of min(psi at j, min over i <= k < j
of phi at k); positions outside the trace count -inf in a max and +inf in a min). rtamt's value
must be exactly equal (same IEEE operations); a case where it is not is left out and listed in
meta.excluded (none so far: rtamt's offline discrete-time semantics is ours, see meta.end_of_signal).

Output: JSON Lines. First line {"meta": {...}}; then one case per line:

    {"id": 3, "formula_tool": "eventually[0,5]((x > 0.5))",
     "formula": "(eventually[0, 5] (step.x > 0.5))",
     "trace": [{"x": 0.1, "y": -1.2}, ...], "robustness": 0.35, "window_past_end": false}

`robustness` is a number, or the string "inf" / "-inf". `window_past_end` (informational) says
whether some bounded window needed for the value at time 0 reaches past the last step (so the
end-of-trace convention matters for this case).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-rtamt"
RTAMT_SPEC = "rtamt==0.4.10"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "stl_robustness.jsonl"
SEED = 20250617
N_CASES = 1200
MAX_OPS = 6
INF = math.inf


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    """Re-executes this script inside bench/.venv-rtamt, creating and filling it if needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = RTAMT_SPEC.split("==", 1)[1]
    probe = subprocess.run(
        [str(venv_python()), "-c", "from importlib.metadata import version; print(version('rtamt'))"],
        capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != wanted:
        print(f"installing {RTAMT_SPEC} into {VENV}", file=sys.stderr)
        subprocess.run([str(venv_python()), "-m", "pip", "install", "--quiet", RTAMT_SPEC], check=True)
    os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])


# ----------------------------------------------------------------------------- formulas
# AST: ("pred", var, op, c) | ("not", f) | ("and"|"or", f, g)
#      | ("always"|"eventually", bounds, f) | ("until", bounds, f, g);  bounds = None | (a, b)

OPS = [("not", 1.0), ("and", 1.5), ("or", 1.5), ("always", 0.8), ("eventually", 0.8),
       ("always_b", 1.6), ("eventually_b", 1.6), ("until", 0.7), ("until_b", 1.2)]
CMP = [">", ">=", "<", "<="]


def gen_bounds(rng: random.Random) -> tuple[int, int]:
    b = rng.randint(0, 20)
    a = 0 if rng.random() < 0.4 else rng.randint(0, b)
    return (a, b)


def gen_formula(rng: random.Random, n_ops: int) -> tuple:
    if n_ops == 0:
        return ("pred", rng.choice("xy"), rng.choice(CMP), round(rng.uniform(-1.5, 1.5), 2))
    names = [o for o, _ in OPS]
    op = rng.choices(names, weights=[w for _, w in OPS])[0]
    bounds = gen_bounds(rng) if op.endswith("_b") else None
    base = op.removesuffix("_b")
    if base in ("not", "always", "eventually"):
        child = gen_formula(rng, n_ops - 1)
        return ("not", child) if base == "not" else (base, bounds, child)
    left = rng.randint(0, n_ops - 1)
    l, r = gen_formula(rng, left), gen_formula(rng, n_ops - 1 - left)
    return (base, l, r) if base in ("and", "or") else ("until", bounds, l, r)


def num(c: float) -> str:
    return repr(float(c))


def to_rtamt(f: tuple) -> str:
    tag = f[0]
    if tag == "pred":
        return f"({f[1]} {f[2]} {num(f[3])})"
    if tag == "not":
        return f"not({to_rtamt(f[1])})"
    if tag in ("and", "or"):
        return f"({to_rtamt(f[1])} {tag} {to_rtamt(f[2])})"
    iv = "" if f[1] is None else f"[{f[1][0]},{f[1][1]}]"
    if tag in ("always", "eventually"):
        return f"{tag}{iv}({to_rtamt(f[2])})"
    return f"({to_rtamt(f[2])} until{iv} {to_rtamt(f[3])})"


def to_ours(f: tuple) -> str:
    tag = f[0]
    if tag == "pred":
        return f"(step.{f[1]} {f[2]} {num(f[3])})"
    if tag == "not":
        return f"(not {to_ours(f[1])})"
    if tag in ("and", "or"):
        return f"({to_ours(f[1])} {tag} {to_ours(f[2])})"
    iv = "" if f[1] is None else f"[{f[1][0]}, {f[1][1]}]"
    if tag in ("always", "eventually"):
        return f"({tag}{iv} {to_ours(f[2])})"
    return f"({to_ours(f[2])} until{iv} {to_ours(f[3])})"


def window(i: int, bounds, n: int) -> range:
    """Positions of the window at i, clipped to the trace [0, n)."""
    if bounds is None:
        return range(i, n)
    return range(min(i + bounds[0], n), min(i + bounds[1], n - 1) + 1)


def reference(f: tuple, sig: list[dict]) -> list[float]:
    """Our normative robustness at every position (bottom-up, whole signal)."""
    n = len(sig)
    tag = f[0]
    if tag == "pred":
        _, var, op, c = f
        return [(s[var] - c) if op in (">", ">=") else (c - s[var]) for s in sig]
    if tag == "not":
        return [-v for v in reference(f[1], sig)]
    if tag in ("and", "or"):
        l, r = reference(f[1], sig), reference(f[2], sig)
        return [min(a, b) if tag == "and" else max(a, b) for a, b in zip(l, r)]
    if tag in ("always", "eventually"):
        ch = reference(f[2], sig)
        out = []
        for i in range(n):
            vals = [ch[j] for j in window(i, f[1], n)]
            out.append((min(vals, default=INF)) if tag == "always" else max(vals, default=-INF))
        return out
    phi, psi = reference(f[2], sig), reference(f[3], sig)
    out = []
    for i in range(n):
        best = -INF
        for j in window(i, f[1], n):
            best = max(best, min([psi[j]] + phi[i:j]))
        out.append(best)
    return out


def past_end(f: tuple, positions: set[int], n: int) -> bool:
    """Does some bounded window needed for these positions reach past the last step?"""
    tag = f[0]
    if tag == "pred" or not positions:
        return False
    if tag == "not":
        return past_end(f[1], positions, n)
    if tag in ("and", "or"):
        return past_end(f[1], positions, n) or past_end(f[2], positions, n)
    bounds = f[1]
    clipped = bounds is not None and max(positions) + bounds[1] > n - 1
    needed = set()
    for i in positions:
        needed.update(window(i, bounds, n))
    if tag in ("always", "eventually"):
        return clipped or past_end(f[2], needed, n)
    phi_needed = set()
    for i in positions:
        w = window(i, bounds, n)
        if len(w):
            phi_needed.update(range(i, w[-1]))
    return clipped or past_end(f[2], phi_needed, n) or past_end(f[3], needed, n)


def enc(v: float):
    if v == INF:
        return "inf"
    if v == -INF:
        return "-inf"
    return v


# ----------------------------------------------------------------------------- rtamt

def rtamt_robustness(rtamt, formula: str, sig: list[dict]) -> float:
    spec = rtamt.StlDiscreteTimeSpecification()
    spec.declare_var("x", "float")
    spec.declare_var("y", "float")
    spec.spec = formula
    spec.parse()
    out = spec.evaluate({"time": list(range(len(sig))),
                         "x": [s["x"] for s in sig], "y": [s["y"] for s in sig]})
    assert out[0][0] == 0 and len(out) == len(sig), out[:2]
    return float(out[0][1])


def probe_end_conventions(rtamt) -> dict:
    """Small hand-made probes of what rtamt does at the end of the signal (documented in meta)."""
    sig = [{"x": v, "y": 0.0} for v in (0.1, 0.5, -0.3, 0.9, 0.2)]

    def all_positions(s):
        spec = rtamt.StlDiscreteTimeSpecification()
        spec.declare_var("x", "float")
        spec.declare_var("y", "float")
        spec.spec = s
        spec.parse()
        return [enc(v) for _, v in spec.evaluate({"time": list(range(5)), "x": [t["x"] for t in sig],
                                                  "y": [0.0] * 5})]

    probes = ["(x > 0)", "eventually((x > 0))", "always((x > 0))", "eventually[1,3]((x > 0.2))",
              "always[3,9]((x > 0))", "eventually[10,20]((x > 0))", "always[10,20]((x > 0))",
              "((x > 0) until (x > 0.8))", "((x > 0) until[0,2] (x > 0.8))",
              "((x > 0) until[1,1] (x > 0.4))"]
    return {"signal_x": [s["x"] for s in sig],
            "robustness_at_each_step": {p: all_positions(p) for p in probes}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    ensure_venv()
    import rtamt
    from importlib.metadata import version

    rng = random.Random(SEED)
    cases, excluded = [], []
    seen = set()
    while len(cases) + len(excluded) < N_CASES:
        k = 1 + (len(cases) + len(excluded)) % MAX_OPS
        f = gen_formula(rng, k)
        if to_rtamt(f) in seen:
            continue
        seen.add(to_rtamt(f))
        n = rng.randint(5, 60)
        sig = [{"x": round(rng.uniform(-2, 2), 3), "y": round(rng.uniform(-2, 2), 3)} for _ in range(n)]
        got = rtamt_robustness(rtamt, to_rtamt(f), sig)
        ref = reference(f, sig)[0]
        case = {"formula_tool": to_rtamt(f), "formula": to_ours(f), "trace": sig,
                "robustness": enc(got), "window_past_end": past_end(f, {0}, n)}
        if got != ref:
            excluded.append({**case, "reference": enc(ref)})
        else:
            cases.append(case)

    def count(pred):
        return sum(1 for c in cases if pred(c))

    meta = {
        "what": "STL robustness at time 0 on discrete-time signals, from rtamt's discrete-time "
                "offline monitor (StlDiscreteTimeSpecification, standard semantics)",
        "generator": "bench/oracles/stl_robustness.py",
        "seed": SEED,
        "versions": {"rtamt": version("rtamt"),
                     "antlr4-python3-runtime": version("antlr4-python3-runtime")},
        "counts": {
            "cases": len(cases),
            "infinite": count(lambda c: isinstance(c["robustness"], str)),
            "window_past_end": count(lambda c: c["window_past_end"]),
            "with_bounded_until": count(lambda c: "until[" in c["formula_tool"]),
            "with_unbounded_until": count(lambda c: "until " in c["formula_tool"]),
            "operators_per_formula": f"1..{MAX_OPS} (equal shares)",
            "trace_length": "5..60",
        },
        "encoding": {
            "robustness": "a JSON number, or the string \"inf\" / \"-inf\"; -0.0 can occur "
                          "(negation of 0.0) and equals 0.0",
            "trace": "one object per step, {\"x\": float, \"y\": float} (3 decimals); step i is "
                     "at time i (sampling period 1)",
            "formula_tool": "rtamt syntax; bounds [a,b] are in steps",
            "formula": "our syntax, fully parenthesised; atoms (step.x > c); bounded operators "
                       "eventually[a, b] (...), always[a, b] (...), (... until[a, b] ...)",
            "window_past_end": "informational: some bounded window needed for the value at time "
                               "0 reaches past the last step",
            "exactness": "values are exact IEEE results of x - c / c - x, negation, min and max: "
                         "compare with == (or a 1e-12 tolerance)",
        },
        "operator_mapping": {
            "x > c / x >= c": "robustness x - c (rtamt: same for > and >=)",
            "x < c / x <= c": "robustness c - x (rtamt: same for < and <=)",
            "not": "not(f): -f", "and": "min", "or": "max",
            "always / eventually": "min / max over [i, n)",
            "always[a,b] / eventually[a,b]": "min / max over [i+a, i+b]",
            "until": "(f until g): max over j in [i, n) of min(g(j), min over i <= k < j of f(k))",
            "until[a,b]": "same with j in [i+a, i+b]; f must hold on [i, j) (from i, not from i+a)",
        },
        "end_of_signal": [
            "Tested (probes below) and read in rtamt/semantics/stl/discrete_time/offline/"
            "ast_visitor.py: rtamt's OFFLINE discrete-time monitor agrees with our normative "
            "semantics everywhere, including windows that reach past the end; every case was also "
            "checked against a reference implementation of ours (exact equality).",
            "Unbounded eventually/always/until range over [i, n): the last step sees only itself.",
            "Bounded eventually[a,b] / always[a,b]: the window is clipped to the trace (positions "
            "past the end count -inf in the max, +inf in the min); a window wholly past the end "
            "gives -inf (eventually) / +inf (always).",
            "Bounded until[a,b]: candidates j past the end count -inf (psi) and the f-part uses "
            "+inf past the end, so it is also clipped; no candidate in the trace gives -inf.",
            "Not used here: rtamt's online monitors (they delay/pastify bounded future operators), "
            "its `next` (weak: +inf at the last step; its strong next gives -inf there), and its "
            "iff (-|l - r|) / implies (max(-l, r)).",
        ],
        "end_probes": probe_end_conventions(rtamt),
        "excluded": excluded,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"meta": meta}) + "\n")
        for n, c in enumerate(cases):
            fh.write(json.dumps({"id": n, **c}) + "\n")
    print(json.dumps({"counts": meta["counts"], "excluded": len(excluded)}, indent=1), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
