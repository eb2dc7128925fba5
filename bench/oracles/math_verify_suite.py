#!/usr/bin/env python3
"""Math-Verify's own test suite as a fixture: every (gold, prediction, expected) case its tests
assert, with math-verify 0.9.0's actual verdict on each.

Usage (from anywhere; any python3 >= 3.10):

    python3 bench/oracles/math_verify_suite.py --repo /work/.mirror/huggingface+Math-Verify/repo
    python3 bench/oracles/math_verify_suite.py --repo CHECKOUT_DIR [--rev REV] [-o OUT.jsonl]
    python3 bench/oracles/math_verify_suite.py --repo math_verify-0.9.0.tar.gz   # PyPI sdist
    python3 bench/oracles/math_verify_suite.py --sdist    # pip-downloads the 0.9.0 sdist (has tests/);
                                                          # the committed fixture is made this way
    python3 bench/oracles/math_verify_suite.py --repo ... --no-mv   # cases only (mv null), no venv

Why: the project's answer checker `math_equal` should agree with math-verify on the cases
math-verify's authors wrote down as regressions (decimal commas, thousands separators, relations,
equations, matrices, intervals, display-math wrappers, ...). Those cases live in Math-Verify's
`tests/` as pytest parametrize lists and helper calls; this script turns them into data.

Where the tests come from (--repo, or --sdist):
- a bare git dir (e.g. the mirror of github huggingface/Math-Verify): `git ls-tree` / `git show` at
  --rev (default HEAD); the commit is recorded in meta;
- a git checkout: the files of the work tree; HEAD's commit and whether tests/ is dirty are recorded;
- a directory holding tests/ (an unpacked sdist) or an sdist .tar.gz: the PyPI sdist of
  math-verify 0.9.0 ships its tests/, which are the tests of the installed version (the GitHub
  mirror's newest stored commit, 5d148cf "0.8.0", lacks 6 percentage cases and test_gamma_func.py);
  its sha256 is recorded.

How cases are extracted: the test files are parsed with Python's `ast` module, never imported or
executed. For each `test_*` function:
- `@pytest.mark.parametrize(names, [tuples])`: each tuple is evaluated as a literal (strings,
  numbers, booleans, implicit concatenation, f-strings of `math.*` calls such as
  f"{math.sqrt(17):.15f}"); the body must assert `compare_strings(gold, pred, ...) == expected` or
  `int(verify(parse(gold), parse(pred), ...)) == expected` (also `verify(...)`); the keyword
  arguments of that call (constants or parametrize names) are resolved per case;
- other test functions: each `assert compare_strings(<literals>) == <0/1>` (or `assert
  compare_strings(...)` / `assert not ...`) is a case;
- everything else is skipped and counted in meta with a reason (parse()-only checks, direct
  sympy_expr_eq calls on sympy objects, mocked timeouts/errors, non-boolean expectations,
  non-literal parameters).
The helper `compare_strings` is itself read from its definition (tests/test_all.py): its defaults
(match_types, precision, strict, allow_set_relation_comp), the extraction config each match type
maps to (`"latex"` -> LatexExtractionConfig(boxed_match_priority=0), `"expr"` ->
ExprExtractionConfig()), and how its parameters reach `verify` (precision -> float_rounding, ...).
Commented-out cases are not in the AST, so they are not in the fixture.

How math-verify is run: in a worker process (its own main thread, so math-verify's signal.alarm
timeouts are active: parse 5 s, verify 5 s, the library defaults the tests use), exactly as the test
does it: `parse(gold, targets)`, `parse(pred, targets)` with the same extraction targets, then
`verify(gold_parsed, pred_parsed, **verify_kwargs)`. The parent waits at most WATCHDOG seconds per
case; on expiry the worker is killed (by its Popen handle) and restarted, and the case records
"timeout". One worker, one case at a time.

Output: tests/fixtures/math_verify_suite.jsonl, a first line {"meta": {...}} (generator, source and
commit, versions, counts per test file / test / family, skipped cases with reasons, agreement of mv
with expected), then one line per case:

    {"id": 17, "source": "tests/test_all.py::test_number_extraction", "param_index": 6,
     "family": "decimal_comma", "gold": "1,22", "pred": "1.22", "expected": true, "mv": true,
     "config": {"call": "compare_strings", "match_types": ["expr"],
                "extraction": [{"type": "ExprExtractionConfig"}],
                "verify": {"float_rounding": 6, "strict": true, "allow_set_relation_comp": false}},
     "gold_form": "bare", "pred_form": "bare",
     "mv_parsed": {"gold": ["1.22000000000000", "1.22"], "pred": ["1.22000000000000", "1.22"]}}

- `expected`: the test's expected outcome (1/0 or True/False in the test) as a boolean;
- `mv`: math-verify's verdict: true / false / "error" (exception, message in `mv_note`) /
  "timeout" (watchdog); null with --no-mv;
- `config.extraction`: the extraction targets passed to parse() for both gold and pred (class name
  and non-default keyword arguments); `config.parse`: extra parse() keywords (none in 0.9.0's
  tests); `config.verify`: the verify() keywords the test passes (absent ones take verify's
  defaults: float_rounding 6, numeric_precision 15, strict True, allow_set_relation_comp False,
  timeout_seconds 5);
- `family`: a short label assigned here (see FAMILY_NOTES), by the test the case comes from and by
  the shape of the gold's final answer; it is for grouping only;
- `gold_form` / `pred_form`: "bare" (only math, possibly in $..$, \\(..\\), \\[..\\], \\boxed{}),
  "sentence" (text around the answer, <= 300 characters), "completion" (a longer solution);
- `mv_parsed`: str() of the two-element lists parse() returned (sympy object, extracted string),
  each entry cut to 200 characters, for diagnosing disagreements.

math-verify runs in the virtualenv bench/.venv-mathverify (gitignored; shared with
math_corpus.py), created on first use with `pip install math-verify[antlr4_13_2]==0.9.0` (and
trl/packaging --no-deps, as math_corpus.py installs them, so both scripts accept the same venv).

The fixture is deterministic (no clock, no randomness, cases in file / test / parameter order).
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import math
import os
import re
import select
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from collections import Counter, OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-mathverify"
MV_SPEC = os.environ.get("MATH_VERIFY_SPEC", "math-verify[antlr4_13_2]==0.9.0")
TRL_SPEC = os.environ.get("TRL_SPEC", "trl==1.16.0")
SDIST_SPEC = "math-verify==0.9.0"
WATCHDOG = 60.0              # seconds for one case (two parses + verify), checked by the parent
HELPER = "compare_strings"   # the tests' helper: parse both with the same targets, then verify

FAMILY_NOTES = {
    "thousands": "thousands separators in a number: 7,425,000 / 1 000 / 14{,}916 / 12,\\!000,\\!023; "
                 "also a rejected '32, 349'",
    "decimal_comma": "a comma as the decimal separator: 1000,99 / 1,22 / 0,111 / 2,74",
    "number": "plain numbers and numeric forms: integers, decimals, fractions, roots, approximations, "
              "base-n numerals, number extraction from text",
    "percentage": "percent notation: 28\\%, 28 percent, 28 pct; and 0.28 / 28/100 NOT equal to 28",
    "units": "a number with a unit or degree: 15\\mbox{ cm}^2, 125 miles, 90^\\circ, 0.06 \\text{ yuan}",
    "latex_wrapper": "display/inline math delimiters and styling around the answer: \\[ \\], $$ $$, "
                     "\\( \\), \\boxed, \\left( \\right), \\dfrac, malformed \\frac13 / \\sqrt3",
    "inequality": "relations <, >, \\le, \\ge, \\neq (flipped / negated sides), chains like "
                  "-793 < a < 10, relation vs interval",
    "equation": "equations and assignments: x = 11 vs 11, k=1, line/plane equations up to scaling, "
                "chains a = b = c (last side counts)",
    "interval": "intervals and unions: [0,1), (1, \\infty), [-1,-\\frac12) \\cup ..., x \\in [..]",
    "set": "sets and answer lists: \\{1,2,3\\}, 'a, b', several \\boxed{} answers, 'and'/'or' joined "
           "answers, \\pm; order-independent",
    "tuple": "ordered tuples / points: (3, \\frac{\\pi}{2}), (p,q)=(3,2), lists of tuples, ratios 7:32",
    "matrix": "pmatrix / bmatrix / array matrices, matrix sums and products",
    "identity": "symbolic expressions equal by algebra or trig identities, variables, functions",
    "text": "text answers: \\text{Evelyn}, \\text{(C)}, odd, E; and a \\text{13} that is NOT 13",
}


# ---------------------------------------------------------------- reading the tests


def run_git(args: list[str]) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def read_tests(repo: Path, rev: str) -> tuple[dict, "OrderedDict[str, str]"]:
    """Returns (source description, {"tests/x.py": text}) for a git dir, checkout, dir or sdist."""
    files: OrderedDict[str, str] = OrderedDict()
    src: dict = {"path": str(repo)}
    if repo.is_file() and repo.name.endswith((".tar.gz", ".tgz")):
        data = repo.read_bytes()
        src.update(kind="sdist", sha256=hashlib.sha256(data).hexdigest(), file=repo.name)
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            names = sorted(m.name for m in tf.getmembers() if m.isfile())
            for name in names:
                rel = name.split("/", 1)[1] if "/" in name else name
                if rel.startswith("tests/") and rel.endswith(".py"):
                    files[rel] = tf.extractfile(name).read().decode("utf-8")
                if rel == "PKG-INFO":
                    src["version"] = _pkg_version(tf.extractfile(name).read().decode("utf-8"))
        return src, files
    if (repo / "HEAD").is_file() and (repo / "objects").is_dir():      # bare git dir
        gd = ["--git-dir", str(repo)]
        commit = run_git(gd + ["rev-parse", rev + "^{commit}"]).strip()
        src.update(kind="git", commit=commit, rev=rev,
                   commit_date=run_git(gd + ["show", "-s", "--format=%cI", commit]).strip(),
                   commit_subject=run_git(gd + ["show", "-s", "--format=%s", commit]).strip())
        m = re.search(r'^version\s*=\s*"([^"]+)"', run_git(gd + ["show", f"{commit}:pyproject.toml"]), re.M)
        src["version"] = m.group(1) if m else None
        for name in sorted(run_git(gd + ["ls-tree", "-r", "--name-only", commit, "--", "tests/"]).split()):
            if name.endswith(".py"):
                files[name] = run_git(gd + ["show", f"{commit}:{name}"])
        return src, files
    if not (repo / "tests").is_dir():
        sys.exit(f"{repo}: neither a git dir, a checkout/sdist dir with tests/, nor an sdist .tar.gz")
    if (repo / ".git").exists():
        src.update(kind="checkout", commit=run_git(["-C", str(repo), "rev-parse", "HEAD"]).strip(),
                   tests_dirty=bool(run_git(["-C", str(repo), "status", "--porcelain", "--", "tests"]).strip()))
    else:
        src["kind"] = "directory"
        if (repo / "PKG-INFO").is_file():
            src["version"] = _pkg_version((repo / "PKG-INFO").read_text("utf-8"))
    if (repo / "pyproject.toml").is_file() and "version" not in src:
        m = re.search(r'^version\s*=\s*"([^"]+)"', (repo / "pyproject.toml").read_text("utf-8"), re.M)
        src["version"] = m.group(1) if m else None
    for p in sorted((repo / "tests").rglob("*.py")):
        files[p.relative_to(repo).as_posix()] = p.read_text("utf-8")
    return src, files


def _pkg_version(pkg_info: str) -> str | None:
    m = re.search(r"^Version:\s*(\S+)", pkg_info, re.M)
    return m.group(1) if m else None


def download_sdist(dest: Path) -> Path:
    """pip-downloads the math-verify 0.9.0 sdist (source only, no dependencies) into dest."""
    py = venv_python() if venv_python().exists() else Path(sys.executable)
    subprocess.run([str(py), "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                    "--dest", str(dest), SDIST_SPEC], check=True)
    [tgz] = sorted(dest.glob("math_verify-*.tar.gz"))
    return tgz


# ---------------------------------------------------------------- literal evaluation (no exec)


class NotLiteral(Exception):
    pass


def lit(node: ast.AST):
    """Value of a literal expression: constants, tuples/lists, unary +/-, str + str, f-strings over
    literals and math.* calls. Anything else raises NotLiteral."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return [lit(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = lit(node.operand)
        if isinstance(v, (int, float)):
            return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = lit(node.left), lit(node.right)
        if type(a) is type(b) and isinstance(a, (str, int, float)):
            return a + b
    if isinstance(node, ast.JoinedStr):
        return "".join(lit(v) for v in node.values)
    if isinstance(node, ast.FormattedValue):
        v = lit(node.value)
        if node.conversion == ord("r"):
            v = repr(v)
        elif node.conversion == ord("s"):
            v = str(v)
        spec = lit(node.format_spec) if node.format_spec is not None else ""
        return format(v, spec)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
        v = getattr(math, node.attr, None)
        if isinstance(v, float):
            return v
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "math"
            and not node.keywords):
        fn = getattr(math, node.func.attr, None)
        if callable(fn):
            return fn(*[lit(a) for a in node.args])
    raise NotLiteral(ast.unparse(node)[:80])


def call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return f.attr
    return None


def config_call(node: ast.AST) -> dict:
    """An extraction config written as a call, e.g. LatexExtractionConfig(boxed_match_priority=0)."""
    name = call_name(node)
    if not name or not name.endswith("ExtractionConfig") or node.args:
        raise NotLiteral(ast.unparse(node)[:80])
    out = {"type": name}
    for kw in node.keywords:
        out[kw.arg] = lit(kw.value)
    return out


# ---------------------------------------------------------------- the helper compare_strings


def read_helper(files: dict[str, str]) -> dict:
    """Reads compare_strings' definition: defaults, match type -> extraction config, parse/verify
    keywords. Fails loudly if its shape is not the one this script understands."""
    for path, text in files.items():
        for fn in ast.walk(ast.parse(text)):
            if isinstance(fn, ast.FunctionDef) and fn.name == HELPER:
                return _helper_from_def(path, fn)
    sys.exit(f"no definition of {HELPER} in tests/")


def _helper_from_def(path: str, fn: ast.FunctionDef) -> dict:
    params = [a.arg for a in fn.args.args]
    defaults = dict(zip(params[len(params) - len(fn.args.defaults):], [lit(d) for d in fn.args.defaults]))
    match_map: dict[str, dict] = {}
    parse_calls, verify_call = [], None
    for node in ast.walk(fn):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) \
                and isinstance(node.test.ops[0], ast.Eq) and isinstance(node.test.comparators[0], ast.Constant):
            for sub in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                n = call_name(sub)
                if n and n.endswith("ExtractionConfig"):
                    match_map[node.test.comparators[0].value] = config_call(sub)
                    break
        n = call_name(node)
        if n == "parse":
            parse_calls.append(node)
        elif n == "verify":
            verify_call = node
    assert set(match_map) >= {"latex", "expr"}, match_map
    assert len(parse_calls) == 2 and verify_call is not None, "unexpected compare_strings body"
    # parse(gold, targets) / parse(pred, targets): no other keywords expected.
    parse_kw = {}
    for c in parse_calls:
        for kw in c.keywords:
            parse_kw[kw.arg] = lit(kw.value)
        assert len(c.args) == 2, ast.unparse(c)
    verify_kw = {}    # verify keyword -> helper parameter name (or constant)
    for kw in verify_call.keywords:
        if isinstance(kw.value, ast.Name) and kw.value.id in params:
            verify_kw[kw.arg] = ("param", kw.value.id)
        else:
            verify_kw[kw.arg] = ("const", lit(kw.value))
    return {"defined_in": path, "params": params, "defaults": defaults, "match_types": match_map,
            "parse_kwargs": parse_kw, "verify_kwargs": verify_kw}


def helper_config(helper: dict, args: dict) -> dict:
    """Config of one compare_strings call, given its bound arguments (helper param -> value)."""
    vals = dict(helper["defaults"], **args)
    mts = list(vals["match_types"])
    verify_kw = {}
    for k, (kind, v) in helper["verify_kwargs"].items():
        verify_kw[k] = vals[v] if kind == "param" else v
    return {"call": HELPER, "match_types": mts,
            "extraction": [dict(helper["match_types"][m]) for m in mts if m in helper["match_types"]],
            **({"parse": helper["parse_kwargs"]} if helper["parse_kwargs"] else {}),
            "verify": verify_kw}


# ---------------------------------------------------------------- extracting cases


def to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    return None


def parametrize_of(fn: ast.FunctionDef):
    for d in fn.decorator_list:
        if isinstance(d, ast.Call) and call_name(d) == "parametrize":
            names = lit(d.args[0])
            if isinstance(names, str):
                names = [s.strip() for s in names.split(",")]
            return names, d.args[1]
    return None


def mocked(fn: ast.FunctionDef) -> bool:
    src = ast.unparse(fn)
    return any(call_name(d) == "patch" for d in fn.decorator_list) or "patch(" in src


def skip_reason(fn: ast.FunctionDef, node: ast.AST) -> str:
    """Why an assert (or a whole parametrized test) is not a gold-vs-pred case."""
    names = {call_name(n) for n in ast.walk(node)} - {None}
    fn_names = {call_name(n) for n in ast.walk(fn)} - {None}
    if mocked(fn):
        return "mocks math-verify internals (timeout / exception propagation), no gold-vs-pred verdict"
    if "sympy_expr_eq" in names:
        return "calls grader.sympy_expr_eq on constructed sympy objects (no strings)"
    if "raises" in names:
        return "expects an exception"
    if "parse" in fn_names and "verify" not in fn_names and HELPER not in fn_names:
        return "checks parse() output only (extracted values / config behaviour), no gold"
    return "not a gold-vs-pred comparison"


def comparison_of(test: ast.AST):
    """(call node, expected node, negate) from an assert's test, or None."""
    negate = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negate = test.operand, True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left, right = test.left, test.comparators[0]
        if call_name(left) == "int" and len(left.args) == 1:
            left = left.args[0]
        if call_name(left) in (HELPER, "verify"):
            return left, right, negate
        return None
    if call_name(test) in (HELPER, "verify"):
        return test, ast.Constant(True), negate
    return None


def resolve(node: ast.AST, env: dict):
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Name) and node.id in ("True", "False"):
        return node.id == "True"
    return lit(node)


def bind_call(call: ast.Call, env: dict, helper: dict) -> tuple[str, str, dict]:
    """(gold, pred, config) of a compare_strings(...) or verify(parse(g), parse(p), ...) call."""
    if call_name(call) == HELPER:
        params = helper["params"]
        args = {params[i]: resolve(a, env) for i, a in enumerate(call.args)}
        for kw in call.keywords:
            args[kw.arg] = resolve(kw.value, env)
        gold, pred = args.pop(params[0]), args.pop(params[1])
        return gold, pred, helper_config(helper, args)
    # verify(parse(gold[, targets]), parse(pred[, targets]), **kw)
    if len(call.args) < 2 or any(call_name(a) != "parse" for a in call.args[:2]):
        raise NotLiteral("verify() not over two parse() calls")
    pg, pp = call.args[0], call.args[1]
    cfgs = []
    for pc in (pg, pp):
        if len(pc.args) > 1:
            cfgs.append([config_call(e) for e in pc.args[1].elts])
        else:
            cfgs.append([{"type": "LatexExtractionConfig"}, {"type": "ExprExtractionConfig"}])  # parse() default
        if any(kw.arg == "extraction_config" for kw in pc.keywords):
            raise NotLiteral("extraction_config keyword")
    if cfgs[0] != cfgs[1]:
        raise NotLiteral("different extraction configs for gold and pred")
    parse_kw = {kw.arg: resolve(kw.value, env) for kw in pg.keywords}
    if parse_kw != {kw.arg: resolve(kw.value, env) for kw in pp.keywords}:
        raise NotLiteral("different parse() keywords for gold and pred")
    verify_kw = {kw.arg: resolve(kw.value, env) for kw in call.keywords}
    cfg = {"call": "verify(parse(gold), parse(pred))", "extraction": cfgs[0]}
    if parse_kw:
        cfg["parse"] = parse_kw
    cfg["verify"] = verify_kw
    return resolve(pg.args[0], env), resolve(pp.args[0], env), cfg


def extract_cases(files: dict[str, str], helper: dict) -> tuple[list[dict], list[dict]]:
    cases, skipped = [], []

    def skip(source, reason, n=1, detail=None):
        skipped.append({"source": source, "reason": reason, "n": n, **({"detail": detail} if detail else {})})

    for path, text in files.items():
        tree = ast.parse(text)
        for fn in tree.body:
            if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("test")):
                continue
            source = f"{path}::{fn.name}"
            asserts = [n for n in ast.walk(fn) if isinstance(n, ast.Assert)]
            pz = parametrize_of(fn)
            if pz:
                names, values = pz
                comps = [c for c in (comparison_of(a.test) for a in asserts) if c]
                if len(comps) != 1 or not isinstance(comps[0][1], ast.Name) or comps[0][1].id not in names:
                    skip(source, skip_reason(fn, fn), len(values.elts) if isinstance(values, (ast.List, ast.Tuple)) else 1)
                    continue
                call, exp_node, negate = comps[0]
                for i, elt in enumerate(values.elts):
                    try:
                        row = lit(elt)
                    except NotLiteral as e:
                        skip(source, "parameter is not a literal", detail=f"[{i}] {e}")
                        continue
                    env = dict(zip(names, row if len(names) > 1 else [row]))
                    try:
                        gold, pred, cfg = bind_call(call, env, helper)
                    except (NotLiteral, KeyError) as e:
                        skip(source, "call arguments not resolvable", detail=f"[{i}] {e}")
                        continue
                    exp = to_bool(env[exp_node.id])
                    if exp is None:
                        skip(source, "expected value is not a boolean or 0/1", detail=f"[{i}] {env[exp_node.id]!r}")
                        continue
                    if not (isinstance(gold, str) and isinstance(pred, str)):
                        skip(source, "gold or pred is not a string", detail=f"[{i}]")
                        continue
                    cases.append({"source": source, "param_index": i, "gold": gold, "pred": pred,
                                  "expected": exp != negate, "config": cfg})
                continue
            # Not parametrized: each assert on compare_strings(...) with literal arguments.
            for k, a in enumerate(asserts):
                comp = comparison_of(a.test)
                if comp is None or call_name(comp[0]) != HELPER:
                    skip(source, skip_reason(fn, a))
                    continue
                call, exp_node, negate = comp
                try:
                    gold, pred, cfg = bind_call(call, {}, helper)
                    exp = to_bool(lit(exp_node))
                except NotLiteral as e:
                    skip(source, "call arguments not resolvable", detail=str(e))
                    continue
                if exp is None:
                    skip(source, "expected value is not a boolean or 0/1")
                    continue
                cases.append({"source": source, "assert_index": k, "gold": gold, "pred": pred,
                              "expected": exp != negate, "config": cfg})
    return cases, skipped


# ---------------------------------------------------------------- forms and families

MATH_SEG = re.compile(r"\$\$.*?\$\$|\$.*?\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
UNIT_WORDS = {"percent", "pct", "percentage", "and", "or", "miles", "cm"}


def boxed_contents(s: str) -> list[str]:
    out, i = [], 0
    while True:
        j = s.find("\\boxed", i)
        if j < 0:
            return out
        k = j + len("\\boxed")
        while k < len(s) and s[k] == " ":
            k += 1
        if k >= len(s) or s[k] != "{":
            i = k
            continue
        depth, m = 0, k
        while m < len(s):
            if s[m] == "{":
                depth += 1
            elif s[m] == "}":
                depth -= 1
                if depth == 0:
                    break
            m += 1
        out.append(s[k + 1:m])
        i = m + 1


def form_of(s: str) -> str:
    rest = MATH_SEG.sub(" ", s)
    rest = re.sub(r"\\boxed\s*\{", " ", rest)
    rest = re.sub(r"\\(begin|end)\{[^}]*\}", " ", rest)
    rest = re.sub(r"\\[A-Za-z]+", " ", rest)            # LaTeX commands outside $...$
    words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w.lower() not in UNIT_WORDS]
    if not words:
        return "bare"
    return "sentence" if len(s) <= 300 else "completion"


def core_of(s: str) -> str:
    """The final answer part of a string, for family assignment: the boxed contents if any, else
    the whole string if bare, else the last math segment, else the last 80 characters."""
    b = list(dict.fromkeys(x.strip() for x in boxed_contents(s)))    # distinct, in order
    if b:
        return " , ".join(b)
    if form_of(s) == "bare":
        return s
    segs = MATH_SEG.findall(s)
    return segs[-1] if segs else s[-80:]


TEST_FAMILY = {    # a test's default family, used when no content rule below applies
    "test_simple_fraction_notation": "number",
    "test_sets_handling": "interval",
    "test_latex_notation": "latex_wrapper",
    "test_percent_notation": "percentage",
    "test_relations_math": "equation",
    "test_set_rel_assymetry": "interval",
    "test_symbols": "text",
    "test_strict_variable_comparison": "identity",
    "test_boxed": "latex_wrapper",
}

REL = re.compile(r"<|>|!=|\\(le|ge|lt|gt|neq|leq|geq)(?![a-zA-Z])")
CONNECTOR = re.compile(r"\\text\{\s*(and|or)\s*\}|\s(and|or)\s|\)or\(|\$\s*(and|or)\s*\$")
THOUSANDS = re.compile(r"\d(\{,\}|\s?\{\s?,\s?\}\s?)\d{3}|\d,\s?\\!\s?\d{3}|\\boxed\{\d+,\s\d{3}\}")


def top_level_comma(s: str) -> bool:
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ",;" and depth == 0:
            return True
    return False


def family_of(c: dict) -> str:
    """A grouping label from the test and the shape of the final answers (see FAMILY_NOTES)."""
    test = c["source"].split("::")[1]
    g, p = core_of(c["gold"]).strip(), core_of(c["pred"]).strip()
    both = g + " " + p
    gs = re.sub(r"^\$+|\$+$", "", g).strip()            # gold core without $ delimiters
    if test == "test_number_extraction":
        comma_dec = re.compile(r"\d,\d{1,2}(?!\d)|(^|\D)0,\d")
        if comma_dec.search(c["gold"]) or comma_dec.search(c["pred"]):
            return "decimal_comma"
        if re.search(r"\d[,\s]\d{3}(?!\d)", c["pred"]):
            return "thousands"
        return "number"
    if test in ("test_latex_notation", "test_symbols", "test_strict_variable_comparison"):
        return TEST_FAMILY[test]
    if re.search(r"\\begin\{(p|b)matrix\}|\\begin\{array\}", both):
        return "matrix"
    if THOUSANDS.search(both) or THOUSANDS.search(c["pred"]):
        return "thousands"
    if re.search(r"%|percent", g) or re.search(r"%|percent|pct", p):
        return "percentage"
    if re.search(r"\\cup|\\infty|\\in\s*[\[(]", both) or test in ("test_sets_handling", "test_set_rel_assymetry") \
            or re.fullmatch(r"[\[(][^,()\[\]]+,[^,()\[\]]+[\])]", gs) and re.search(r"[\[\]]", gs):
        return "interval"
    if REL.search(g) or (REL.search(p) and test == "test_relations_math"):
        return "inequality"
    if re.search(r"\\mbox|\\text\{\s*(cm|yuan|miles|meters)|\^\s*\\circ|miles|\\textnormal", both):
        return "units"
    gold_boxes = set(b.strip() for b in boxed_contents(c["gold"]))
    listy = bool(CONNECTOR.search(g) or len(gold_boxes) > 1)
    if not listy and re.fullmatch(r"\\text\{[^}]*\}|[A-Za-z]+|\\text\{[^}]*\}", gs) or \
            re.fullmatch(r"\$*\\text\{[^}]*\}\$*\.?", p):
        return "text"
    if re.search(r"(?<![<>!\\])=", g):
        return "equation"
    if listy or top_level_comma(gs) or gs.startswith(("{", "\\{")) or "\\pm" in gs:
        return "tuple" if re.search(r"\(\s*[^()]+[,;][^()]+\)", gs) else "set"
    if re.search(r"\(\s*[^()]+,[^()]+\)|\d:\d", gs):
        return "tuple"
    bare = re.sub(r"\\(text|mathrm|operatorname)\{[^}]*\}", " e ", gs)
    bare = re.sub(r"\\[a-zA-Z]+", " ", bare)
    if re.search(r"\\(sin|cos|tan|sec|csc|cot|log|ln|sum)(?![a-zA-Z])", gs) or re.search(r"[a-zA-Z]", bare):
        return "identity"
    return TEST_FAMILY.get(test, "number")


# ---------------------------------------------------------------- math-verify (worker side)


def worker_main() -> None:
    """Reads {"gold", "pred", "config"} lines on stdin, answers {"mv", "note", "parsed"} lines."""
    import logging
    import math_verify
    from math_verify import parse, verify

    class Catch(logging.Handler):
        hit = False

        def emit(self, record):
            if "imeout" in record.getMessage():
                Catch.hit = True

    for name in ("math_verify", "math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addHandler(Catch())

    def targets(cfg):
        out = []
        for e in cfg["extraction"]:
            kw = {k: v for k, v in e.items() if k != "type"}
            out.append(getattr(math_verify, e["type"])(**kw))
        return out

    out = sys.stdout.buffer
    verify(parse("$\\frac{1}{2}$"), parse("$0.5$"))          # warm-up: imports, grammar tables
    for line in sys.stdin.buffer:
        req = json.loads(line)
        cfg = req["config"]
        Catch.hit = False
        parsed = None
        try:
            t = targets(cfg)
            pkw = cfg.get("parse", {})
            gp = parse(req["gold"], t, **pkw)
            pp = parse(req["pred"], t, **pkw)
            parsed = {"gold": [str(x)[:200] for x in gp], "pred": [str(x)[:200] for x in pp]}
            mv = bool(verify(gp, pp, **cfg.get("verify", {})))
            note = "internal_timeout" if Catch.hit else None
        except Exception as e:  # noqa: BLE001  (recorded, never hides a case)
            mv, note = "error", f"{type(e).__name__}: {e}"[:200]
        out.write((json.dumps({"mv": mv, "note": note, "parsed": parsed}) + "\n").encode())
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

    def call(self, c: dict) -> dict:
        if self.proc is None:
            self.start()
        req = {"gold": c["gold"], "pred": c["pred"], "config": c["config"]}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], WATCHDOG)
        if not ready:
            self.stop()
            return {"mv": "timeout", "note": None, "parsed": None}
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            return {"mv": "error", "note": "worker died", "parsed": None}
        return json.loads(line)


# ---------------------------------------------------------------- venv (as math_corpus.py)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    """Re-executes this script inside bench/.venv-mathverify, creating and filling it if needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    probe = subprocess.run([str(venv_python()), "-c",
                            "import importlib.metadata as m; print(m.version('math-verify'))"],
                           capture_output=True, text=True)
    want = MV_SPEC.split("==", 1)[1] if "==" in MV_SPEC else None
    have = probe.stdout.strip() if probe.returncode == 0 else None
    if not have or (want and have != want):
        print(f"installing {MV_SPEC}, {TRL_SPEC} packaging (--no-deps) into {VENV}", file=sys.stderr)
        pip = [str(venv_python()), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + [MV_SPEC], check=True)
        subprocess.run(pip + ["--no-deps", TRL_SPEC, "packaging"], check=True)
    os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--repo", help="Math-Verify bare git dir, checkout, unpacked sdist dir or sdist .tar.gz")
    src.add_argument("--sdist", action="store_true", help=f"pip-download the {SDIST_SPEC} sdist and use its tests/")
    ap.add_argument("--rev", default="HEAD", help="revision to read from a bare git dir (default HEAD)")
    ap.add_argument("-o", "--output", default=str(ROOT / "tests" / "fixtures" / "math_verify_suite.jsonl"))
    ap.add_argument("--no-mv", action="store_true", help="write the cases without running math-verify")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main()
        return
    if not args.repo and not args.sdist:
        ap.error("one of --repo or --sdist is required")
    if not args.no_mv:
        ensure_venv()

    with tempfile.TemporaryDirectory() as tmp:
        repo = download_sdist(Path(tmp)) if args.sdist else Path(args.repo).resolve()
        source, files = read_tests(repo, args.rev)
        if args.sdist:
            source["path"] = f"pip download --no-deps --no-binary :all: {SDIST_SPEC}"
    helper = read_helper(files)
    cases, skipped = extract_cases(files, helper)
    for i, c in enumerate(cases, 1):
        c["id"] = i
        c["family"] = family_of(c)
        c["gold_form"], c["pred_form"] = form_of(c["gold"]), form_of(c["pred"])
    seen = Counter((c["gold"], c["pred"], json.dumps(c["config"], sort_keys=True)) for c in cases)

    versions = {"python": sys.version.split()[0]}
    if not args.no_mv:
        import importlib.metadata as md
        for pkg in ("math-verify", "latex2sympy2_extended", "sympy", "antlr4-python3-runtime"):
            versions[pkg] = md.version(pkg)
        print(f"math-verify {versions['math-verify']}: {len(cases)} cases, 1 worker", file=sys.stderr)
        t0 = time.time()
        w = Worker()
        try:
            for c in cases:
                r = w.call(c)
                c["mv"] = r["mv"]
                if r.get("note"):
                    c["mv_note"] = r["note"]
                if r.get("parsed") is not None:
                    c["mv_parsed"] = r["parsed"]
        finally:
            w.stop()
        print(f"math-verify done in {time.time() - t0:.0f} s", file=sys.stderr)
    else:
        for c in cases:
            c["mv"] = None

    def tally(key):
        out: dict = {}
        for c in cases:
            r = out.setdefault(c[key], {"cases": 0, "expected_true": 0, "mv_agrees": 0})
            r["cases"] += 1
            r["expected_true"] += c["expected"]
            r["mv_agrees"] += c["mv"] == c["expected"]
        return out

    skipped_by_reason: dict = {}
    for s in skipped:
        r = skipped_by_reason.setdefault(s["reason"], {"n": 0, "where": {}})
        r["n"] += s["n"]
        r["where"][s["source"]] = r["where"].get(s["source"], 0) + s["n"]
    files_count = Counter(c["source"].split("::")[0] for c in cases)
    disagree = [{"id": c["id"], "source": c["source"], "family": c["family"], "expected": c["expected"],
                 "mv": c["mv"]} for c in cases if not args.no_mv and c["mv"] != c["expected"]]
    meta = {
        "generator": "bench/oracles/math_verify_suite.py",
        "source": dict(source, repository="github.com/huggingface/Math-Verify",
                       test_files=list(files)),
        "versions": versions,
        "cases": len(cases),
        "expected_true": sum(c["expected"] for c in cases),
        "duplicate_cases": sum(n - 1 for n in seen.values() if n > 1),
        "counts_by_file": dict(files_count),
        "counts_by_test": tally("source"),
        "counts_by_family": dict(sorted(tally("family").items())),
        "skipped": sum(s["n"] for s in skipped),
        "skipped_by_reason": skipped_by_reason,
        "skipped_detail": [s for s in skipped if "detail" in s],
        "extraction": "test files parsed with Python's ast module (never imported or executed); "
                      "parametrize lists evaluated as literals (f-strings over math.* allowed); a "
                      "test's cases are kept when its body asserts compare_strings(gold, pred, ...) "
                      "== expected or int(verify(parse(gold), parse(pred), ...)) == expected; "
                      "non-parametrized tests contribute each assert compare_strings(<literals>) == "
                      "0/1; keyword arguments resolved per case; commented-out cases are absent",
        "helper": {k: v for k, v in helper.items() if k != "verify_kwargs"}
                  | {"verify_kwargs": {k: (f"<{v}>" if kind == "param" else v)
                                       for k, (kind, v) in helper["verify_kwargs"].items()}},
        "mv_call": "worker process main thread: targets = config.extraction; g = parse(gold, targets, "
                   "**config.parse); p = parse(pred, targets, **config.parse); verify(g, p, "
                   "**config.verify); library default timeouts (parse 5 s, verify 5 s); parent "
                   f"watchdog {WATCHDOG:.0f} s per case",
        "fields": {
            "source": "tests/<file>.py::<test function>", "param_index": "index in its parametrize list",
            "assert_index": "index of the assert in a non-parametrized test",
            "family": "grouping label assigned by this script (see family_notes)",
            "expected": "the test's expected outcome", "mv": "math-verify's verdict: true/false/"
            "\"error\"/\"timeout\" (null with --no-mv)", "config": "extraction targets and verify "
            "keywords the test uses", "gold_form/pred_form": "bare / sentence (<= 300 chars) / "
            "completion", "mv_parsed": "str() of parse() results, cut to 200 chars",
            "mv_note": "exception text, or internal_timeout when math-verify logged one"},
        "family_notes": FAMILY_NOTES,
        "mv_summary": None if args.no_mv else {
            "agree": sum(c["mv"] == c["expected"] for c in cases),
            "disagree": disagree,
            "errors": sum(c["mv"] == "error" for c in cases),
            "timeouts": sum(c["mv"] == "timeout" for c in cases),
        },
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = ("id", "source", "param_index", "assert_index", "family", "gold", "pred", "expected", "mv",
            "mv_note", "config", "gold_form", "pred_form", "mv_parsed")
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for c in cases:
            f.write(json.dumps({k: c[k] for k in keys if k in c}, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases ({meta['expected_true']} expected true), {meta['skipped']} skipped, "
          f"{out.stat().st_size / 1e3:.0f} kB -> {out}")
    fams = meta["counts_by_family"]
    for k, r in fams.items():
        print(f"  {k:<15} {r['cases']:>4}  expected_true {r['expected_true']:>4}  mv_agrees {r['mv_agrees']:>4}")
    for k, r in skipped_by_reason.items():
        print(f"  skipped {r['n']:>3}: {k}: {r['where']}")
    if not args.no_mv:
        print(f"mv agrees with expected on {meta['mv_summary']['agree']}/{len(cases)}")
        for d in disagree:
            print(f"  disagree: {d}")


if __name__ == "__main__":
    main()
