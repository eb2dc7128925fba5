#!/usr/bin/env python3
"""W6 peers: the formulas of bench/w6_safe.reward and bench/w6_window.reward on the trajectories
of bench/gen_w6.py, by flloat (truth) and rtamt (robustness), timed on data already in memory
(scoring only: JSON parsing and the conversion to each tool's input are not timed), median of
--repeat runs, on the first --limit trajectories.

Usage:
    peer_w6.py flloat ROLLOUTS.jsonl [--limit K] [--repeat R]            (safe only)
    peer_w6.py rtamt  ROLLOUTS.jsonl [--window W] [--limit K] [--repeat R]
        without --window: the safe formula; with it: eventually(always[0,W](at_goal))

Values go to stdout, one per trajectory (flloat: true/false; rtamt: repr of the float, inf and
-inf included), the timing line to stderr:  PEER <name> <trajectories> <steps> <median seconds>
<median seconds of json.loads on those lines> (the tools' own input conversion is in neither)

- flloat 0.3.0 (bench/.venv-flloat, the venv of bench/oracles/ltlf_truth.py; created here too if
  missing): `LTLfParser()("G(!collided) & F(at_goal)").truth(trace, 0)`, trace a list of dicts
  {"collided": bool, "at_goal": bool}. flloat has no bounded operators, so it only runs `safe`.
- rtamt 0.4.10 (bench/.venv-rtamt, the venv of bench/oracles/stl_robustness.py): the offline
  discrete-time monitor `StlDiscreteTimeSpecification` (standard semantics), parsed once per
  formula, `spec.evaluate({"time", "x", "y", "ok"})[0][1]` per trajectory. Our boolean atom
  `not step.collided` has robustness ±∞; rtamt has no booleans, so it gets the signal
  ok = +inf (no collision) / -inf and the predicate `ok > 0.0`, whose robustness ok − 0 is the
  same ±∞: then every value is the same IEEE result as ours. at_goal is `(x > 9.0) and (y > 9.0)`.
flloat and rtamt live in separate venvs (as the oracles keep them), so this script re-executes
itself in the one it needs.
"""
import json
import math
import os
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENVS = {"flloat": (BENCH / ".venv-flloat", "flloat==0.3.0", "flloat"),
         "rtamt": (BENCH / ".venv-rtamt", "rtamt==0.4.10", "rtamt")}
SAFE_FLLOAT = "G(!collided) & F(at_goal)"
SAFE_RTAMT = "always(ok > 0.0) and eventually((x > 9.0) and (y > 9.0))"
DWELL_RTAMT = "eventually(always[0,{w}]((x > 9.0) and (y > 9.0)))"


def ensure_venv(tool):
    path, spec, module = VENVS[tool]
    if Path(sys.prefix).resolve() == path.resolve():
        return
    py = path / "bin" / "python"
    if not py.exists():
        print(f"creating {path}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(path)
    if subprocess.run([str(py), "-c", f"import {module}"], capture_output=True).returncode != 0:
        print(f"installing {spec} into {path}", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", spec], check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def load(path, limit, repeat=1):
    """The first `limit` rows' steps, and the median time json.loads takes on their lines."""
    lines = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(lines) >= limit:
                break
            lines.append(line)
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        rows = [json.loads(line)["steps"] for line in lines]
        times.append(time.perf_counter() - t0)
    return rows, statistics.median(times)


def main():
    args = sys.argv[1:]
    opts = {"--limit": None, "--repeat": "3", "--window": None}
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    tool, data = pos[0], pos[1]
    if tool not in VENVS:
        raise SystemExit(f"unknown peer {tool!r}")
    ensure_venv(tool)
    rows, parse_s = load(data, None if opts["--limit"] is None else int(opts["--limit"]), int(opts["--repeat"]))
    steps = sum(len(r) for r in rows)
    if tool == "flloat":
        from flloat.parser.ltlf import LTLfParser

        formula = LTLfParser()(SAFE_FLLOAT)
        traces = [[{"collided": s["collided"], "at_goal": s["x"] > 9.0 and s["y"] > 9.0} for s in r]
                  for r in rows]

        def run():
            return [formula.truth(tr, 0) for tr in traces]

        show = lambda v: "true" if v else "false"  # noqa: E731
        name = "flloat"
    else:
        import rtamt

        w = opts["--window"]
        spec = rtamt.StlDiscreteTimeSpecification()
        for var in ("x", "y", "ok"):
            spec.declare_var(var, "float")
        spec.spec = SAFE_RTAMT if w is None else DWELL_RTAMT.format(w=int(w))
        spec.parse()
        cols = [(list(range(len(r))), [s["x"] for s in r], [s["y"] for s in r],
                 [-math.inf if s["collided"] else math.inf for s in r]) for r in rows]

        def run():
            # fresh lists each run: the offline monitor may extend its inputs in place
            return [spec.evaluate({"time": list(t), "x": list(x), "y": list(y), "ok": list(ok)})[0][1]
                    for t, x, y, ok in cols]

        show = repr
        name = "rtamt" if w is None else f"rtamt-w{w}"
    times, vals = [], None
    for _ in range(int(opts["--repeat"])):
        t0 = time.perf_counter()
        vals = run()
        times.append(time.perf_counter() - t0)
    sys.stdout.write("".join(show(v) + "\n" for v in vals))
    sys.stderr.write(f"PEER {name} {len(rows)} {steps} {statistics.median(times):.6f} {parse_s:.6f}\n")


if __name__ == "__main__":
    main()
