#!/usr/bin/env python3
"""Oracle for the LTLf support: truth of random LTLf / pure-past LTLf formulas on random finite
traces, as decided by two peer tools (flloat and ltlf2dfa + MONA).

Usage (from anywhere; any python3 >= 3.10):

    python3 bench/oracles/ltlf_truth.py            # writes tests/fixtures/ltlf_truth.jsonl
    python3 bench/oracles/ltlf_truth.py -o OUT.jsonl

The first run creates two virtualenvs (gitignored) and installs one tool in each:

    bench/.venv-flloat     pip install flloat==0.3.0     (pulls lark-parser 0.12, module `lark`)
    bench/.venv-ltlf2dfa   pip install ltlf2dfa==2.0.0   (pulls lark 1.x,         module `lark`)

They must be separate: both distributions install a module named `lark`, in incompatible
versions. The script then re-executes itself inside each venv (`--worker flloat`,
`--worker ltlf2dfa`), sends it the formulas and traces as JSON on stdin and reads the truth values
back; the generation and the cross-checks run in the calling interpreter (standard library only).

ltlf2dfa needs the MONA binary on PATH (Debian package `mona`: `apt-get install -y mona`). When it
is missing and the script runs as root, it runs `apt-get install -y mona` itself (after
`apt-get update` if the first attempt fails); otherwise it stops and says so.

What is generated (deterministic: fixed SEED, no clock, no hash order):
- future LTLf formulas over atoms a, b, c (some also d) with 1..8 operators drawn from
  not, and, or, implies, iff, X (strong next), WX (weak next), U, R, F, G (leaves: atoms, rarely
  true/false), each on several random non-empty traces (length 1..8, each step a random subset of
  the atoms). Truth at position 0 ("at": "first").
  * half of them are decided by flloat (`LTLfParser()(s).truth(trace, 0)`, trace = list of dicts
    {atom: bool}),
  * the other half by ltlf2dfa: `LTLfParser()(s).to_dfa()` gives a DOT DFA built by MONA; it is
    simulated here on the trace (start at the `init ->` target, one transition per step, guards
    are sympy boolean expressions over the atoms, accept iff the last state is a doublecircle).
- pure-past formulas (not, and, or, implies, iff, Y, WY, S, O, H) decided by ltlf2dfa's PPLTL
  parser (`ltlf2dfa.parser.ppltl.PPLTLParser`) the same way; their truth is at the LAST position
  of the trace ("at": "last"), which is what the DFA of a past formula decides.

Cross-checks (all reported in the meta line and on stderr):
- every future case is decided by BOTH tools; they must agree;
- every DFA is also simulated from MONA's raw output (`to_dfa(mona_dfa_out=True)`, ternary
  guards), which must agree with the DOT simulation (checks the guard parser here);
- every case is also decided by a plain reference evaluator of the textbook finite-trace
  semantics (the normative semantics of our language); a case where a tool disagrees with it is
  not written as a case but listed in meta.excluded (none so far).

Output: JSON Lines. First line {"meta": {...}} (versions, seed, counts, operator mapping,
semantics notes, cross-check results); then one case per line:

    {"id": 17, "tool": "flloat", "formula_tool": "(a U X(!(b)))",
     "formula": "(a until (next (not (b))))", "at": "first", "trace": [["a"], [], ["a", "c"]],
     "holds": true}

`formula` is OUR syntax, fully parenthesised: atoms a b c d, true, false; prefix operators
written `(op (x))`: not, next, wnext, eventually, always, prev, wprev, once, historically; infix
`(x op y)`: and, or, implies, iff, until, release, since.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
VENVS = {
    "flloat": (BENCH / ".venv-flloat", "flloat==0.3.0", "flloat"),
    "ltlf2dfa": (BENCH / ".venv-ltlf2dfa", "ltlf2dfa==2.0.0", "ltlf2dfa"),
}
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "ltlf_truth.jsonl"
SEED = 20250616

# How many distinct formulas of each kind, and how many traces each.
N_FLLOAT_FORMULAS = 330
N_DFA_FUTURE_FORMULAS = 200
N_DFA_PAST_FORMULAS = 130
TRACES_PER_FORMULA = 4
MAX_OPS = 8
MAX_TRACE_LEN = 8

# ----------------------------------------------------------------------------- formulas
# AST: ("atom", "a") | ("true",) | ("false",) | (op, child) | (op, left, right)

FUTURE_UNARY = ["not", "next", "wnext", "eventually", "always"]
FUTURE_BINARY = ["and", "or", "implies", "iff", "until", "release"]
PAST_UNARY = ["not", "prev", "wprev", "once", "historically"]
PAST_BINARY = ["and", "or", "implies", "iff", "since"]

# our operator -> the tools' symbol (same for flloat and ltlf2dfa's LTLf / PPLTL grammars)
TOOL_SYMBOL = {
    "not": "!", "and": "&", "or": "|", "implies": "->", "iff": "<->",
    "next": "X", "wnext": "WX", "eventually": "F", "always": "G", "until": "U", "release": "R",
    "prev": "Y", "wprev": "WY", "once": "O", "historically": "H", "since": "S",
}
UNARY = set(FUTURE_UNARY) | set(PAST_UNARY)


def gen_formula(rng: random.Random, n_ops: int, atoms: list[str], unary: list[str],
                binary: list[str]) -> tuple:
    if n_ops == 0:
        r = rng.random()
        if r < 0.04:
            return ("true",)
        if r < 0.08:
            return ("false",)
        return ("atom", rng.choice(atoms))
    ops = unary + binary
    op = rng.choice(ops)
    if op in unary:
        return (op, gen_formula(rng, n_ops - 1, atoms, unary, binary))
    left = rng.randint(0, n_ops - 1)
    return (op, gen_formula(rng, left, atoms, unary, binary),
            gen_formula(rng, n_ops - 1 - left, atoms, unary, binary))


def to_tool(f: tuple) -> str:
    """Fully parenthesised, in the syntax shared by flloat's and ltlf2dfa's parsers."""
    tag = f[0]
    if tag == "atom":
        return f[1]
    if tag in ("true", "false"):
        return tag
    if tag in UNARY:
        return f"{TOOL_SYMBOL[tag]}({to_tool(f[1])})"
    return f"({to_tool(f[1])} {TOOL_SYMBOL[tag]} {to_tool(f[2])})"


def to_ours(f: tuple) -> str:
    """Fully parenthesised, in our syntax: `(next (a))`, `(a until (not (b)))`."""
    tag = f[0]
    if tag == "atom":
        return f[1]
    if tag in ("true", "false"):
        return tag
    if tag in UNARY:
        arg = to_ours(f[1])
        if not arg.startswith("("):
            arg = f"({arg})"
        return f"({tag} {arg})"
    return f"({to_ours(f[1])} {tag} {to_ours(f[2])})"


def n_ops(f: tuple) -> int:
    return 0 if f[0] in ("atom", "true", "false") else 1 + sum(n_ops(c) for c in f[1:])


def reference(f: tuple, tr: list[set], i: int) -> bool:
    """Textbook finite-trace semantics (non-empty trace, 0 <= i < len(tr))."""
    n = len(tr)
    tag = f[0]
    if tag == "atom":
        return f[1] in tr[i]
    if tag == "true":
        return True
    if tag == "false":
        return False
    if tag == "not":
        return not reference(f[1], tr, i)
    if tag == "and":
        return reference(f[1], tr, i) and reference(f[2], tr, i)
    if tag == "or":
        return reference(f[1], tr, i) or reference(f[2], tr, i)
    if tag == "implies":
        return (not reference(f[1], tr, i)) or reference(f[2], tr, i)
    if tag == "iff":
        return reference(f[1], tr, i) == reference(f[2], tr, i)
    if tag == "next":
        return i + 1 < n and reference(f[1], tr, i + 1)
    if tag == "wnext":
        return i + 1 >= n or reference(f[1], tr, i + 1)
    if tag == "eventually":
        return any(reference(f[1], tr, j) for j in range(i, n))
    if tag == "always":
        return all(reference(f[1], tr, j) for j in range(i, n))
    if tag == "until":
        return any(reference(f[2], tr, j) and all(reference(f[1], tr, k) for k in range(i, j))
                   for j in range(i, n))
    if tag == "release":
        return all(reference(f[2], tr, j) or any(reference(f[1], tr, k) for k in range(i, j))
                   for j in range(i, n))
    if tag == "prev":
        return i > 0 and reference(f[1], tr, i - 1)
    if tag == "wprev":
        return i == 0 or reference(f[1], tr, i - 1)
    if tag == "once":
        return any(reference(f[1], tr, j) for j in range(0, i + 1))
    if tag == "historically":
        return all(reference(f[1], tr, j) for j in range(0, i + 1))
    if tag == "since":
        return any(reference(f[2], tr, j) and all(reference(f[1], tr, k) for k in range(j + 1, i + 1))
                   for j in range(0, i + 1))
    raise ValueError(tag)


def gen_trace(rng: random.Random, atoms: list[str]) -> list[list[str]]:
    length = rng.randint(1, MAX_TRACE_LEN)
    return [[a for a in atoms if rng.random() < 0.5] for _ in range(length)]


def gen_formulas(rng: random.Random, count: int, unary: list[str], binary: list[str],
                 seen: set[str]) -> list[tuple[tuple, list[str]]]:
    out = []
    while len(out) < count:
        atoms = ["a", "b", "c", "d"] if rng.random() < 0.3 else ["a", "b", "c"]
        k = 1 + len(out) % MAX_OPS  # sizes 1..8 in equal shares
        f = gen_formula(rng, k, atoms, unary, binary)
        s = to_tool(f)
        if s in seen:
            continue
        seen.add(s)
        out.append((f, atoms))
    return out


# ----------------------------------------------------------------------------- workers
# These run inside the tools' venvs; they read {"jobs": [...]} on stdin and print results.

def worker_flloat(req: dict) -> dict:
    from importlib.metadata import version
    from flloat.parser.ltlf import LTLfParser

    parser = LTLfParser()
    results = {}
    for job in req["jobs"]:
        f = parser(job["formula"])
        out = []
        for tr in job["traces"]:
            trace = [{a: (a in step) for a in job["atoms"]} for step in tr]
            out.append(bool(f.truth(trace, 0)))
        results[job["key"]] = {"holds": out, "parsed": str(f)}
    return {"versions": {"flloat": version("flloat"), "lark-parser": version("lark-parser")},
            "results": results}


def _guard_parser(text: str):
    """Parses a sympy boolean expression as printed (lower-cased) in ltlf2dfa's DOT labels:
    names, true, false, ~, &, |, parentheses. Returns a function of the set of true atoms."""
    import re

    toks = re.findall(r"[a-z_][a-z0-9_]*|[~&|()]|\S", text)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take(t=None):
        nonlocal pos
        tok = toks[pos]
        if t is not None and tok != t:
            raise ValueError(f"guard {text!r}: expected {t}, got {tok}")
        pos += 1
        return tok

    def p_or():
        terms = [p_and()]
        while peek() == "|":
            take("|")
            terms.append(p_and())
        return terms[0] if len(terms) == 1 else (lambda s, ts=terms: any(t(s) for t in ts))

    def p_and():
        terms = [p_not()]
        while peek() == "&":
            take("&")
            terms.append(p_not())
        return terms[0] if len(terms) == 1 else (lambda s, ts=terms: all(t(s) for t in ts))

    def p_not():
        if peek() == "~":
            take("~")
            inner = p_not()
            return lambda s: not inner(s)
        if peek() == "(":
            take("(")
            inner = p_or()
            take(")")
            return inner
        tok = take()
        if tok == "true":
            return lambda s: True
        if tok == "false":
            return lambda s: False
        if not re.fullmatch(r"[a-z][a-z0-9_]*", tok):
            raise ValueError(f"guard {text!r}: unexpected token {tok!r}")
        return lambda s, a=tok: a in s

    fn = p_or()
    if pos != len(toks):
        raise ValueError(f"guard {text!r}: trailing {toks[pos:]}")
    return fn


def parse_dot(dot: str):
    """ltlf2dfa's DOT: `node [shape = doublecircle]; 3; 4;` lists the accepting states,
    `init -> 1;` the initial one, `S -> D [label="guard"];` the transitions."""
    import re

    accepting: set[int] = set()
    init = None
    trans: dict[int, list] = {}
    for line in dot.splitlines():
        line = line.strip()
        if line.startswith("node [shape = doublecircle]"):
            accepting = {int(x) for x in re.findall(r"\d+", line.split("]", 1)[1])}
        elif m := re.fullmatch(r"init -> (\d+);", line):
            init = int(m.group(1))
        elif m := re.fullmatch(r'(\d+) -> (\d+) \[label="(.*)"\];', line):
            trans.setdefault(int(m.group(1)), []).append((int(m.group(2)), _guard_parser(m.group(3)),
                                                           m.group(3)))
    if init is None:
        raise ValueError("no initial state in DOT:\n" + dot)
    return init, accepting, trans


def run_dot(dfa, trace: list[list[str]]) -> bool:
    init, accepting, trans = dfa
    state = init
    for step in trace:
        s = set(step)
        nxt = [d for (d, g, _) in trans.get(state, []) if g(s)]
        if len(nxt) != 1:
            raise ValueError(f"state {state} on {sorted(s)}: {len(nxt)} enabled transitions")
        state = nxt[0]
    return state in accepting


def parse_mona(out: str):
    """MONA's own listing (`mona -q -u -w`): free variables (upper-case atoms), `Initial state`,
    `Accepting states`, `State S: 01X -> state D` (ternary guard, one char per free variable).
    MONA's state 0 consumes a dummy first letter (position -1 of the WS1S encoding); the trace
    starts from its successor, exactly as ltlf2dfa's DOT starts from `init -> 1`."""
    import re

    m = re.search(r"DFA for formula with free variables:([^\n]*)\n", out)
    if m is None:
        raise ValueError("unexpected MONA output:\n" + out)
    free = [v.lower() for v in m.group(1).split()]
    init = int(re.search(r"Initial state: (\d+)", out).group(1))
    accepting = {int(x) for x in re.search(r"Accepting states:([^\n]*)", out).group(1).split()}
    trans: dict[int, list] = {}
    for src, guard, dst in re.findall(r"State (\d+): ([01X]*) -> state (\d+)", out):
        trans.setdefault(int(src), []).append((guard, int(dst)))
    return free, init, accepting, trans


def run_mona(dfa, trace: list[list[str]]) -> bool:
    free, init, accepting, trans = dfa

    def step_to(state, s):
        nxt = [d for (g, d) in trans[state]
               if all(c == "X" or (c == "1") == (v in s) for c, v in zip(g, free))]
        if len(nxt) != 1:
            raise ValueError(f"MONA state {state}: {len(nxt)} enabled transitions")
        return nxt[0]

    state = step_to(init, set())  # the dummy first letter: every guard of state 0 is all X
    for step in trace:
        state = step_to(state, set(step))
    return state in accepting


def worker_ltlf2dfa(req: dict) -> dict:
    from importlib.metadata import version
    from ltlf2dfa.parser.ltlf import LTLfParser
    from ltlf2dfa.parser.ppltl import PPLTLParser

    parsers = {"future": LTLfParser(), "past": PPLTLParser()}
    results = {}
    for job in req["jobs"]:
        f = parsers[job["kind"]](job["formula"])
        dot = f.to_dfa()
        raw = f.to_dfa(mona_dfa_out=True)
        dfa = parse_dot(dot)
        holds = [run_dot(dfa, tr) for tr in job["traces"]]
        if "Formula is unsatisfiable" in raw and "DFA for formula" not in raw:
            mona_holds = [False for _ in job["traces"]]
        else:
            mdfa = parse_mona(raw)
            mona_holds = [run_mona(mdfa, tr) for tr in job["traces"]]
        results[job["key"]] = {"holds": holds, "mona_holds": mona_holds, "parsed": str(f),
                               "states": len({s for s in dfa[2]} | dfa[1])}
    mona_banner = subprocess.run(["mona"], capture_output=True, text=True).stdout.splitlines()
    return {"versions": {"ltlf2dfa": version("ltlf2dfa"), "lark": version("lark"),
                         "sympy": version("sympy"),
                         "mona": mona_banner[0].strip() if mona_banner else "?"},
            "results": results}


def worker_main(name: str) -> None:
    req = json.load(sys.stdin)
    res = worker_flloat(req) if name == "flloat" else worker_ltlf2dfa(req)
    json.dump(res, sys.stdout)


# ----------------------------------------------------------------------------- driver

def ensure_venv(name: str) -> Path:
    path, spec, module = VENVS[name]
    py = path / "bin" / "python"
    if not py.exists():
        print(f"creating {path}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(path)
    wanted = spec.split("==", 1)[1]
    probe = subprocess.run([str(py), "-c", f"from importlib.metadata import version; print(version({module!r}))"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != wanted:
        print(f"installing {spec} into {path}", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", spec], check=True)
    return py


def ensure_mona() -> None:
    if shutil.which("mona"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("mona not found: running apt-get install -y mona", file=sys.stderr)
        if subprocess.run(["apt-get", "install", "-y", "mona"]).returncode != 0:
            subprocess.run(["apt-get", "update"], check=True)
            subprocess.run(["apt-get", "install", "-y", "mona"], check=True)
    if not shutil.which("mona"):
        sys.exit("ltlf_truth.py: the MONA binary is needed by ltlf2dfa: apt-get install -y mona")


def call_worker(name: str, py: Path, jobs: list[dict]) -> dict:
    print(f"{name}: {len(jobs)} formulas, {sum(len(j['traces']) for j in jobs)} traces",
          file=sys.stderr)
    proc = subprocess.run([str(py), str(Path(__file__).resolve()), "--worker", name],
                          input=json.dumps({"jobs": jobs}), capture_output=True, text=True,
                          cwd=str(ROOT))
    if proc.returncode != 0:
        sys.exit(f"worker {name} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--worker", choices=sorted(VENVS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main(args.worker)
        return

    py = {name: ensure_venv(name) for name in VENVS}
    ensure_mona()

    rng = random.Random(SEED)
    seen: set[str] = set()
    groups = [
        ("flloat", "future", gen_formulas(rng, N_FLLOAT_FORMULAS, FUTURE_UNARY, FUTURE_BINARY, seen)),
        ("ltlf2dfa", "future", gen_formulas(rng, N_DFA_FUTURE_FORMULAS, FUTURE_UNARY, FUTURE_BINARY, seen)),
        ("ltlf2dfa", "past", gen_formulas(rng, N_DFA_PAST_FORMULAS, PAST_UNARY, PAST_BINARY, seen)),
    ]
    jobs = []  # (tool, kind, formula, atoms, traces)
    for tool, kind, formulas in groups:
        for f, atoms in formulas:
            traces = [gen_trace(rng, atoms) for _ in range(TRACES_PER_FORMULA)]
            jobs.append((tool, kind, f, atoms, traces))

    def payload(sel):
        return [{"key": str(i), "kind": kind, "formula": to_tool(f), "atoms": atoms, "traces": traces}
                for i, (tool, kind, f, atoms, traces) in enumerate(jobs) if sel(tool, kind)]

    res_fl = call_worker("flloat", py["flloat"], payload(lambda t, k: k == "future"))
    res_dfa = call_worker("ltlf2dfa", py["ltlf2dfa"], payload(lambda t, k: True))

    versions = {**res_fl["versions"], **res_dfa["versions"]}
    cases = []
    excluded = []
    tool_disagree = []     # future cases where flloat != ltlf2dfa
    dot_vs_mona = []       # DOT simulation != raw MONA simulation
    vs_reference = {"flloat": [], "ltlf2dfa": []}
    n_cross = 0
    parse_roundtrip_diff = []
    for i, (tool, kind, f, atoms, traces) in enumerate(jobs):
        key = str(i)
        d = res_dfa["results"][key]
        fl = res_fl["results"].get(key)
        for name, r in (("ltlf2dfa", d), ("flloat", fl)):
            if r is not None and r["parsed"].replace(" ", "") != to_tool(f).replace(" ", ""):
                parse_roundtrip_diff.append({"tool": name, "formula": to_tool(f), "parsed": r["parsed"]})
        for t, tr in enumerate(traces):
            at = len(tr) - 1 if kind == "past" else 0
            ref = reference(f, [set(s) for s in tr], at)
            h_dfa = d["holds"][t]
            if d["mona_holds"][t] != h_dfa:
                dot_vs_mona.append({"formula": to_tool(f), "trace": tr})
            if h_dfa != ref:
                vs_reference["ltlf2dfa"].append({"formula": to_tool(f), "trace": tr, "tool": h_dfa, "reference": ref})
            if fl is not None:
                n_cross += 1
                h_fl = fl["holds"][t]
                if h_fl != ref:
                    vs_reference["flloat"].append({"formula": to_tool(f), "trace": tr, "tool": h_fl, "reference": ref})
                if h_fl != h_dfa:
                    tool_disagree.append({"formula": to_tool(f), "trace": tr, "flloat": h_fl, "ltlf2dfa": h_dfa})
            holds = fl["holds"][t] if tool == "flloat" else h_dfa
            case = {"tool": tool, "formula_tool": to_tool(f), "formula": to_ours(f),
                    "at": "last" if kind == "past" else "first", "trace": tr, "holds": holds}
            if holds != ref:
                excluded.append({**case, "reference": ref})
            else:
                cases.append(case)

    def count(pred):
        return sum(1 for c in cases if pred(c))

    meta = {
        "what": "truth of LTLf (future, at the first position) and pure-past LTLf (at the last "
                "position) formulas on finite non-empty traces, decided by flloat and ltlf2dfa+MONA",
        "generator": "bench/oracles/ltlf_truth.py",
        "seed": SEED,
        "versions": versions,
        "counts": {
            "cases": len(cases),
            "flloat_future": count(lambda c: c["tool"] == "flloat"),
            "ltlf2dfa_future": count(lambda c: c["tool"] == "ltlf2dfa" and c["at"] == "first"),
            "ltlf2dfa_past": count(lambda c: c["at"] == "last"),
            "holds_true": count(lambda c: c["holds"]),
            "holds_false": count(lambda c: not c["holds"]),
            "formulas": len(jobs),
            "traces_per_formula": TRACES_PER_FORMULA,
            "operators_per_formula": f"1..{MAX_OPS} (equal shares)",
            "trace_length": f"1..{MAX_TRACE_LEN}",
        },
        "case_fields": {
            "tool": "which tool's answer `holds` is",
            "formula_tool": "the formula as given to the tool (flloat / ltlf2dfa LTLf grammar; "
                            "PPLTL grammar of ltlf2dfa when at == last)",
            "formula": "the same formula in our syntax, fully parenthesised",
            "at": "first: truth at position 0 (future formulas); last: truth at the last "
                  "position (pure-past formulas)",
            "trace": "one list per step: the atoms true at that step (others false)",
        },
        "operator_mapping": {
            "not": "!", "and": "&", "or": "|", "implies": "->", "iff": "<->",
            "next": "X (strong next: false at the last position; flloat LTLfNext, ltlf2dfa LTLfNext)",
            "wnext": "WX (weak next: true at the last position)",
            "eventually": "F", "always": "G",
            "until": "U (a U b: b at some j >= i, a on [i, j))",
            "release": "R (a R b: for every j >= i, b at j or a somewhere on [i, j))",
            "prev": "Y (ltlf2dfa PPLTLBefore: strong yesterday, false at position 0)",
            "wprev": "WY (ltlf2dfa PPLTLWeakBefore: weak yesterday, true at position 0)",
            "once": "O", "historically": "H",
            "since": "S (a S b: b at some j <= i, a on (j, i])",
        },
        "semantics_notes": [
            "Both tools implement the textbook finite-trace semantics on these cases: every case "
            "was also checked against a plain reference evaluator (see cross_checks).",
            "flloat 0.3.0 has no past operators; past formulas come from ltlf2dfa only.",
            "ltlf2dfa's DOT starts at `init -> 1`; MONA's state 0 only consumes a dummy first "
            "letter. A DFA reads one letter per trace step, so it decides the future formula at "
            "position 0 and the past formula at the last position.",
            "ltlf2dfa also has PPLTL `P` (past release) and `start`, flloat/ltlf2dfa have `last` "
            "(and flloat `end`): not used (no counterpart in our syntax).",
            "Empty traces are not generated: flloat says every atom, true and false are false "
            "on the empty trace, and ltlf2dfa's DFAs accept the empty trace for G/WX/H-like "
            "formulas; our language never evaluates on an empty trace.",
            "Both grammars bind U and R tighter than & and |, and chain `a U b U c` as "
            "a U (b U c); formula_tool is fully parenthesised so this never matters.",
        ],
        "cross_checks": {
            "future_cases_decided_by_both_tools": n_cross,
            "flloat_vs_ltlf2dfa_disagreements": tool_disagree,
            "dot_vs_raw_mona_disagreements": dot_vs_mona,
            "flloat_vs_reference_disagreements": vs_reference["flloat"],
            "ltlf2dfa_vs_reference_disagreements": vs_reference["ltlf2dfa"],
            "tool_parse_roundtrip_differences": parse_roundtrip_diff[:20],
        },
        "excluded": excluded,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"meta": meta}) + "\n")
        for n, c in enumerate(cases):
            fh.write(json.dumps({"id": n, **c}) + "\n")
    print(json.dumps({"counts": meta["counts"],
                      "cross": {k: (v if isinstance(v, int) else len(v))
                                for k, v in meta["cross_checks"].items()},
                      "excluded": len(excluded)}, indent=1), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
