#!/usr/bin/env python3
"""verl's answer graders against the cases their own tests (and the tests of the code they copy)
state, with each grader's verdict and math-verify's on the same case.

Usage (any python3 >= 3.10; the mirrors are bare git dirs or checkouts of the named repositories):

    python3 bench/oracles/verl_graders.py \\
        --verl-repo  /work/.mirror/volcengine+verl/repo \\
        --math-repo  /work/.mirror/hendrycks+math/repo \\
        --gsm8k-repo /work/.mirror/openai+grade-school-math/repo
    ... [-o OUT.jsonl] [--no-run]      # --no-run: cases only (verdicts null), no venv

Why: issue 11 item 6 asks for cases whose truth comes from outside the project's checker. verl's
math graders are `verl.utils.reward_score.prime_math` (PRM800K's grade_answer + ToRA's
math_equal, via PRIME), `math_reward` (Hendrycks' MATH `is_equiv`, as lm-evaluation-harness
copies it), `math_dapo` (Minerva normalisation) and `gsm8k` (`#### n`). Few of them have tests
that state a verdict; every one that does is read here:

- `verl`: tests/utils/reward_score/test_sandbox_on_cpu.py::test_prime_math — the module-level
  lists prime_math_answers / prime_math_gts, each pair asserted to score 1.0 by
  default_compute_score("numina_aops_forum", answer, gt), i.e. prime_math.compute_score;
- `verl-pr`: tests/utils/reward_score/test_numeric_canonicalization_on_cpu.py::test_is_equiv_boxed
  at commit 87d81599 (a pull request's branch, never merged: the released is_equiv has no
  canonicalisation, so the released grader fails these) — `is_equiv(remove_boxed(gt), pred) is
  True` over a parametrize list;
- `math`: hendrycks/math modeling/math_equivalence_test.py — the MATH authors' unittest of
  `is_equiv`, which verl's math_reward.is_equiv copies (string equality after `strip_string`);
  each `self.assertTrue/assertFalse(is_equiv(test_in, test_out))`;
- `gsm8k`: openai/grade-school-math grade_school_math/data/example_model_solutions.jsonl — the
  GSM8K authors' model solutions (6B/175B, finetuning/verification) for the 1,319 test
  questions, each with their `is_correct` label; the solution ends in `A: n`, the gold is the
  number after the ground truth's last `A:` with commas removed (as verl's gsm8k preprocessing
  takes the number after `####`).

Read but not used (no stated verdict): verl's tests/interactions/test_gsm8k_interaction.py
(gsm8k.compute_score is patched with a mock, so its rewards are the mock's return values, e.g.
1.0 for "24" in test_multiple_concurrent_interactions); the `_test_math_equal()` functions in
PRIME's data_preprocessing/math_util/grader.py, ToRA's and Qwen2.5-Math's grader.py (they print
verdicts, assert none); PRM800K's grader (no tests).

Test files are parsed with Python's `ast` module, never imported or executed.

How the graders run: in the virtualenv bench/.venv-verl (gitignored), created on first use with
`pip install --no-deps verl==VERL_VERSION` plus `math-verify[antlr4_13_2]==0.9.0 pylatexenc
numpy` (sympy comes with math-verify). Importing `verl` pulls torch, so the grader modules are
loaded from the installed package's files under a stub `verl` package (its `__path__` points at
the installed directory, its `__init__` is not run) and a stub `verl.utils.metric` (py_functional
imports it for a type only). Each case runs in a worker process (its main thread, so
math-verify's signal timeouts work); the parent waits at most WATCHDOG seconds, then kills the
worker (by its Popen handle) and records "timeout".

- `verl_grader`: {"name", "call", "verdict"} — the grader the case's test targets, called as
  the test calls it: prime_math: `prime_math.compute_score(pred, gold)[0]` (what
  default_compute_score returns for numina_*); math_reward.is_equiv: `is_equiv(pred, gold)`
  (verl's argument order: answer, ground truth); gsm8k: `gsm8k.compute_score(pred, gold,
  method="flexible") == 1.0` (the GSM8K solutions end in `A: n`, never `#### n`, so the strict
  method scores every one 0; flexible takes the last number, which is verl's other method);
- `math_verify`: math-verify as verl's `reward_score/math_verify.py` calls it: gold
  `\\boxed{gold}` parsed with LatexExtractionConfig(), the prediction with
  (ExprExtractionConfig(), LatexExtractionConfig()), true when any pair verifies; a bare answer
  (`pred_form` "answer": every source but the GSM8K solutions) is parsed as `\\boxed{pred}`, as
  the gold is, since math-verify's LaTeX extraction finds no undelimited LaTeX;
- `expected`: the verdict the test states (assertTrue / == 1.0 / is True / is_correct);
- `family`: a grouping label assigned here (FAMILY_NOTES).

Output: tests/fixtures/verl_graders.jsonl: {"meta": {...}} then one line per case
{id, source, family, pred_form, pred, gold, expected, verl_grader, math_verify}. Deterministic.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import importlib.util
import json
import os
import re
import select
import subprocess
import sys
import time
import types
import venv
from collections import Counter, OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / "bench" / ".venv-verl"
VERL_SPEC = os.environ.get("VERL_SPEC", "verl==0.9.1")
MV_SPEC = os.environ.get("MATH_VERIFY_SPEC", "math-verify[antlr4_13_2]==0.9.0")
WATCHDOG = 60.0

VERL_TEST = "tests/utils/reward_score/test_sandbox_on_cpu.py"
VERL_PR_COMMIT = "87d81599de8a58cb7e0d35b2d5003d62698d4ae7"
VERL_PR_TEST = "tests/utils/reward_score/test_numeric_canonicalization_on_cpu.py"
MATH_TEST = "modeling/math_equivalence_test.py"
GSM8K_FILE = "grade_school_math/data/example_model_solutions.jsonl"

FAMILY_NOTES = {
    "matrix": "bmatrix against pmatrix with the same cells (verl prime_math test)",
    "number": "numbers and numeric forms: \\frac{\\sqrt{505}}{7}, 0.1 vs .1, 10\\sqrt{3} + \\sqrt4",
    "identity": "symbolic expressions equal by algebra: x^2 + y^2 + 4x - 6y + 13 vs (x+2)^2 + (y-3)^2",
    "fraction": "fraction notation: \\tfrac83, \\frac34i, 1/2, \\dfrac, \\frac1{72}",
    "list": "comma-separated answer lists, in another order or with another element",
    "units": "a unit word or dollar sign around a number: 10\\text{ units}, \\$10",
    "percentage": "10\\% against 10",
    "equation": "equations of planes; \\left( \\right) around factors",
    "leading_zero": "integers with leading zeros or a sign: 033, +033, -0, 000 (unmerged verl PR)",
    "gsm8k": "GSM8K model solutions ending in 'A: n' against the gold number",
}

MATH_FAMILY = {
    "test_fractions": "fraction", "test_order": "list", "test_order2": "list",
    "test_dfrac": "fraction", "test_units": "units", "test_units2": "units",
    "test_dollars": "units", "test_parentheses": "equation", "test_decimals": "list",
    "test_decimals2": "number", "test_percentage": "percentage", "test_sqrt": "number",
    "test_frac": "fraction", "test_tfrac": "fraction", "test_expression": "equation",
    "test_half": "fraction",
}


# ---------------------------------------------------------------- reading sources


def run_git(args: list[str]) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


class Repo:
    """A bare git dir or a checkout; files are read at a commit (default HEAD)."""

    def __init__(self, path: str, name: str):
        self.path = Path(path).resolve()
        self.name = name
        if (self.path / "HEAD").is_file() and (self.path / "objects").is_dir():
            self.gd = ["--git-dir", str(self.path)]
        elif (self.path / ".git").exists():
            self.gd = ["-C", str(self.path)]
        else:
            sys.exit(f"{path}: not a git dir or checkout of {name}")
        self.head = run_git(self.gd + ["rev-parse", "HEAD^{commit}"]).strip()

    def show(self, path: str, commit: str | None = None) -> tuple[str, str]:
        commit = commit or self.head
        text = run_git(self.gd + ["show", f"{commit}:{path}"])
        return text, commit

    def describe(self, commit: str, path: str, text: str) -> dict:
        return {"repository": self.name, "commit": commit, "path": path,
                "commit_date": run_git(self.gd + ["show", "-s", "--format=%cI", commit]).strip(),
                "sha256": hashlib.sha256(text.encode()).hexdigest()}


def lit(node: ast.AST):
    """A literal (constants, lists, tuples, str + str); anything else raises ValueError."""
    return ast.literal_eval(node)


def module_lists(tree: ast.Module) -> dict:
    out = {}
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            try:
                v = lit(st.value)
            except ValueError:
                continue
            if isinstance(v, list):
                out[st.targets[0].id] = v
    return out


def func(tree: ast.AST, name: str) -> ast.FunctionDef:
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name:
            return n
    sys.exit(f"no function {name}")


def verl_cases(text: str) -> list[dict]:
    """test_prime_math: for a, g in zip(LIST_A, LIST_G): score = default_compute_score(DS, a, g);
    assert float(score) == V."""
    tree = ast.parse(text)
    lists = module_lists(tree)
    fn = func(tree, "test_prime_math")
    consts = {}
    for st in fn.body:
        if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
            try:
                consts[st.targets[0].id] = lit(st.value)
            except ValueError:
                pass
    [loop] = [st for st in fn.body if isinstance(st, ast.For)]
    zipped = [a.id for a in loop.iter.args]
    [call] = [n for n in ast.walk(loop) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "default_compute_score"]
    ds = consts[call.args[0].id] if isinstance(call.args[0], ast.Name) else lit(call.args[0])
    [asrt] = [n for n in ast.walk(loop) if isinstance(n, ast.Assert)]
    want = lit(asrt.test.comparators[0])
    names = [e.id for e in loop.target.elts]
    pred_list = zipped[names.index(call.args[1].id)]
    gold_list = zipped[names.index(call.args[2].id)]
    assert ds == "numina_aops_forum", ds
    fams = ["matrix", "number", "identity"]
    return [{"source": f"{VERL_TEST}::test_prime_math", "index": i, "pred": p, "gold": g,
             "expected": float(want) == 1.0, "grader": "prime_math", "data_source": ds,
             "family": fams[i] if i < len(fams) else "number"}
            for i, (p, g) in enumerate(zip(lists[pred_list], lists[gold_list], strict=True))]


def verl_pr_cases(text: str) -> list[dict]:
    """test_is_equiv_boxed: parametrize("gt, pred", [...]); assert is_equiv(remove_boxed(gt), pred) is True."""
    tree = ast.parse(text)
    fn = func(tree, "test_is_equiv_boxed")
    [dec] = [d for d in fn.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "parametrize"]
    names = [s.strip() for s in lit(dec.args[0]).split(",")]
    rows = lit(dec.args[1])
    [asrt] = [n for n in ast.walk(fn) if isinstance(n, ast.Assert)]
    assert isinstance(asrt.test, ast.Compare) and isinstance(asrt.test.ops[0], ast.Is)
    want = lit(asrt.test.comparators[0])
    out = []
    for i, row in enumerate(rows):
        d = dict(zip(names, row))
        gt = d["gt"]
        m = re.fullmatch(r"\\boxed\{(.*)\}", gt, re.S)
        out.append({"source": f"{VERL_PR_TEST}::test_is_equiv_boxed", "index": i, "pred": d["pred"],
                    "gold": m.group(1) if m else gt, "gold_as_written": gt, "expected": bool(want),
                    "grader": "math_reward.is_equiv", "family": "leading_zero", "merged": False})
    return out


def math_cases(text: str) -> list[dict]:
    """Each test method: test_in = '...'; test_out = '...'; self.assertTrue/False(is_equiv(test_in, test_out))."""
    tree = ast.parse(text.replace("\t", "    "))
    out = []
    for fn in ast.walk(tree):
        if not (isinstance(fn, ast.FunctionDef) and fn.name.startswith("test")):
            continue
        env = {}
        for st in fn.body:
            if isinstance(st, ast.Assign):
                env[st.targets[0].id] = lit(st.value)
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                c = st.value
                kind = c.func.attr
                inner = c.args[0]
                assert kind in ("assertTrue", "assertFalse") and inner.func.id == "is_equiv", ast.unparse(c)
                a, b = (env[x.id] if isinstance(x, ast.Name) else lit(x) for x in inner.args)
                out.append({"source": f"{MATH_TEST}::{fn.name}", "index": 0, "pred": a, "gold": b,
                            "expected": kind == "assertTrue", "grader": "math_reward.is_equiv",
                            "family": MATH_FAMILY.get(fn.name, "number")})
    return out


def gsm8k_cases(text: str) -> list[dict]:
    out = []
    for q, line in enumerate(text.splitlines()):
        d = json.loads(line)
        gold = d["ground_truth"].rsplit("A:", 1)[-1].strip().replace(",", "")
        for model in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"):
            s = d[model]
            out.append({"source": f"{GSM8K_FILE}:{q + 1}:{model}", "index": q, "pred": s["solution"],
                        "gold": gold, "expected": bool(s["is_correct"]), "grader": "gsm8k(flexible)",
                        "family": "gsm8k", "pred_form": "solution"})
    return out


# ---------------------------------------------------------------- the worker (inside the venv)


def load_graders():
    """verl's grader modules from the installed package, without running verl/__init__ (torch)."""
    spec = importlib.util.find_spec("verl")
    base = Path(spec.submodule_search_locations[0])
    for name, path in (("verl", base), ("verl.utils", base / "utils"),
                       ("verl.utils.reward_score", base / "utils" / "reward_score")):
        m = types.ModuleType(name)
        m.__path__ = [str(path)]
        sys.modules[name] = m
    metric = types.ModuleType("verl.utils.metric")
    metric.Metric = object
    sys.modules["verl.utils.metric"] = metric
    mods = {n: importlib.import_module(f"verl.utils.reward_score.{n}")
            for n in ("prime_math", "math_reward", "gsm8k", "math_dapo")}
    return mods, str(base)


def worker_main() -> None:
    import io
    import contextlib
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    mods, _ = load_graders()

    def grade(c):
        g = c["grader"]
        if g == "prime_math":
            return float(mods["prime_math"].compute_score(c["pred"], c["gold"])[0]) == 1.0
        if g == "math_reward.is_equiv":
            return bool(mods["math_reward"].is_equiv(c["pred"], c["gold"]))
        if g == "gsm8k(flexible)":
            return float(mods["gsm8k"].compute_score(c["pred"], c["gold"], method="flexible")) == 1.0
        raise ValueError(g)

    def mv(c):
        gold = parse("\\boxed{" + c["gold"] + "}", (LatexExtractionConfig(),))
        text = c["pred"] if c["pred_form"] == "solution" else "\\boxed{" + c["pred"] + "}"
        pred = parse(text, (ExprExtractionConfig(), LatexExtractionConfig()))
        return bool(gold and pred and any(verify(gold, p) for p in pred))

    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        c = json.loads(line)
        res = {}
        for key, f in (("verl", grade), ("mv", mv)):
            try:
                with contextlib.redirect_stdout(io.StringIO()):     # the graders print on errors
                    res[key] = f(c)
            except Exception as e:  # noqa: BLE001  (recorded, never hides a case)
                res[key] = "error"
                res[key + "_note"] = f"{type(e).__name__}: {e}"[:200]
        out.write((json.dumps(res) + "\n").encode())
        out.flush()


class Worker:
    def __init__(self):
        self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.kill()        # our own child, by its Popen handle
            self.proc.wait()
            self.proc = None

    def call(self, c: dict) -> dict:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        req = {k: c[k] for k in ("pred", "gold", "grader", "pred_form")}
        self.proc.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], WATCHDOG)
        if not ready:
            self.stop()
            return {"verl": "timeout", "mv": "timeout"}
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            sys.exit("the worker died (run it with --worker to see why)")
        return json.loads(line)


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not venv_python().exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    probe = subprocess.run([str(venv_python()), "-c", "import importlib.metadata as m; "
                            "print(m.version('verl'), m.version('math-verify'), m.version('pylatexenc'), m.version('numpy'))"],
                           capture_output=True, text=True)
    want = f"{VERL_SPEC.split('==')[1]} {MV_SPEC.split('==')[1]}"
    if probe.returncode != 0 or not probe.stdout.startswith(want):
        pip = [str(venv_python()), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + ["--no-deps", VERL_SPEC], check=True)
        subprocess.run(pip + [MV_SPEC, "pylatexenc", "numpy"], check=True)
    os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verl-repo", help="volcengine/verl bare git dir or checkout")
    ap.add_argument("--math-repo", help="hendrycks/math bare git dir or checkout")
    ap.add_argument("--gsm8k-repo", help="openai/grade-school-math bare git dir or checkout")
    ap.add_argument("-o", "--output", default=str(ROOT / "tests" / "fixtures" / "verl_graders.jsonl"))
    ap.add_argument("--no-run", action="store_true", help="write the cases without running any grader")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main()
        return
    if not (args.verl_repo and args.math_repo and args.gsm8k_repo):
        ap.error("--verl-repo, --math-repo and --gsm8k-repo are required")
    if not args.no_run:
        ensure_venv()

    verl = Repo(args.verl_repo, "github.com/volcengine/verl")
    mathr = Repo(args.math_repo, "github.com/hendrycks/math")
    gsm = Repo(args.gsm8k_repo, "github.com/openai/grade-school-math")
    sources, cases = [], []
    for repo, path, commit, reader in ((verl, VERL_TEST, None, verl_cases),
                                       (verl, VERL_PR_TEST, VERL_PR_COMMIT, verl_pr_cases),
                                       (mathr, MATH_TEST, None, math_cases),
                                       (gsm, GSM8K_FILE, None, gsm8k_cases)):
        text, commit = repo.show(path, commit)
        got = reader(text)
        sources.append(dict(repo.describe(commit, path, text), cases=len(got)))
        cases += got
    for i, c in enumerate(cases, 1):
        c["id"] = i
        c.setdefault("pred_form", "answer")

    versions = {"python": sys.version.split()[0]}
    if not args.no_run:
        import importlib.metadata as md
        for pkg in ("verl", "math-verify", "latex2sympy2_extended", "sympy", "pylatexenc"):
            versions[pkg] = md.version(pkg)
        print(f"{len(cases)} cases, 1 worker", file=sys.stderr)
        t0 = time.time()
        w = Worker()
        try:
            for n, c in enumerate(cases, 1):
                r = w.call(c)
                c["verl_grader"] = {"name": c["grader"], "verdict": r["verl"]}
                if "verl_note" in r:
                    c["verl_grader"]["note"] = r["verl_note"]
                c["math_verify"] = r["mv"]
                if "mv_note" in r:
                    c["math_verify_note"] = r["mv_note"]
                if n % 500 == 0:
                    print(f"  {n} cases, {time.time() - t0:.0f} s", file=sys.stderr)
        finally:
            w.stop()
        print(f"done in {time.time() - t0:.0f} s", file=sys.stderr)
    else:
        for c in cases:
            c["verl_grader"] = {"name": c["grader"], "verdict": None}
            c["math_verify"] = None

    fams: dict = {}
    for c in cases:
        r = fams.setdefault(c["family"], {"cases": 0, "expected_true": 0, "verl_agrees": 0, "mv_agrees": 0})
        r["cases"] += 1
        r["expected_true"] += c["expected"]
        r["verl_agrees"] += c["verl_grader"]["verdict"] == c["expected"]
        r["mv_agrees"] += c["math_verify"] == c["expected"]
    meta = {
        "generator": "bench/oracles/verl_graders.py",
        "sources": sources,
        "versions": versions,
        "cases": len(cases),
        "expected_true": sum(c["expected"] for c in cases),
        "counts_by_family": dict(sorted(fams.items())),
        "family_notes": FAMILY_NOTES,
        "graders": {
            "prime_math": "float(prime_math.compute_score(pred, gold)[0]) == 1.0 (default_compute_score "
                          "for numina_* data sources)",
            "math_reward.is_equiv": "math_reward.is_equiv(pred, gold): Hendrycks' strip_string on both, "
                                    "then string equality",
            "gsm8k(flexible)": "gsm8k.compute_score(pred, gold, method='flexible') == 1.0: the last "
                               "number in the last 300 characters, compared as a string",
            "math_verify": "as verl's reward_score/math_verify.py: parse('\\\\boxed{'+gold+'}', "
                           "[LatexExtractionConfig()]), parse(pred, [ExprExtractionConfig(), "
                           "LatexExtractionConfig()]), any verify(gold, p); a bare-answer prediction "
                           "(pred_form 'answer', every source but GSM8K's solutions) is parsed as "
                           "'\\\\boxed{'+pred+'}', as the gold is, since math-verify's LaTeX extraction "
                           "finds no bare LaTeX; default timeouts; parent "
                           f"watchdog {WATCHDOG:.0f} s per case",
        },
        "not_used": {
            "verl tests/interactions/test_gsm8k_interaction.py": "gsm8k.compute_score is mocked: the "
                "rewards asserted are the mock's return values, not verdicts",
            "PRIME data_preprocessing/math_util/grader.py, ToRA/Qwen2.5-Math grader.py _test_math_equal":
                "print verdicts, assert none",
            "openai/prm800k grading/grader.py": "no tests",
        },
        "fields": {
            "source": "file::test or file:line:model", "pred/gold": "as the test passes them (gold "
            "after the test's own remove_boxed for the verl PR cases; gold_as_written keeps the "
            "literal)", "expected": "the verdict the test states", "verl_grader": "{name, verdict}: "
            "the grader the test targets, true/false/\"error\"/\"timeout\"", "math_verify":
            "math-verify's verdict", "merged": "false for the unmerged verl PR's cases"},
    }
    out = Path(args.output)
    keys = ("id", "source", "family", "pred_form", "pred", "gold", "gold_as_written", "expected", "verl_grader",
            "math_verify", "math_verify_note", "merged")
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"meta": meta}, ensure_ascii=False) + "\n")
        for c in cases:
            f.write(json.dumps({k: c[k] for k in keys if k in c}, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases ({meta['expected_true']} expected true), "
          f"{out.stat().st_size / 1e3:.0f} kB -> {out}")
    for k, r in meta["counts_by_family"].items():
        print(f"  {k:<13} {r['cases']:>5}  true {r['expected_true']:>5}  verl {r['verl_agrees']:>5}  "
              f"mv {r['mv_agrees']:>5}")


if __name__ == "__main__":
    main()
