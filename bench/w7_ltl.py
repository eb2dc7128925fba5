#!/usr/bin/env python3
"""W7, LTLf part: DFA construction, ours vs ltlf2dfa 2.0.0 (+MONA), on chains and random formulas.

Chains (skip with --random-only). The formula for k = 2 … 20 is the chain

    F(a1 & X(F(a2 & X( … F(ak) … ))))      (ours: eventually(a1 and next eventually(a2 …)))

"a1, then strictly later a2, …, then ak". Its minimal DFA has k + 1 states (waiting for a1 …
waiting for ak, done), over an alphabet of 2^k letters.

Per k this script writes two specs into a temporary directory (steps are text labels, the atom
ai is `step == "ai"`):

  chain_v.reward   the chain plus `count(for x in verdicts(chain) if x == "satisfied")`, so the
                   compiler must build the DFA (symbolic transitions: up to 62 atoms, so every k
                   here; a formula beyond the builder's limits is an E0031, reported as such);
  chain_s.reward   the chain's truth (`sat`) and `robustness(chain)` only: no DFA needed.

and measures
  ours      `reward automata chain_s.reward` (atoms, DFA states, build time: the binary's median
            of 5) and `reward check --timings` on both specs (parse+check and JIT, the binary's
            medians of 10); each command run 3 times, the median of the reported medians kept;
  ltlf2dfa  `LTLfParser()(formula).to_dfa()` in bench/.venv-ltlf2dfa, one worker process per k
            (a warm-up to_dfa on F(a) first), median of 5 calls (3 when a call takes over 2 s, 1
            over 10 s), each call capped at --timeout seconds (default 60). The MONA subprocess
            is timed on its own by wrapping ltlf2dfa's `invoke_mona`. States: the state nodes of
            the DOT output (the `init` arrow's pseudo-node excluded) and MONA's raw count
            ("Automaton has N states"), which has one more: MONA's state 0 reads the dummy first
            position of its string encoding, and ltlf2dfa leaves it out of the DOT. ltlf2dfa gives
            MONA 30 s of its own and then fails (invoke_mona returns False); for those k the
            script runs the same MONA program directly, capped at --timeout, to tell how long
            MONA alone would need.

Then, for every k, it scores N traces of T steps (default 1000 × 100; labels "" with p = 0.5,
else a uniformly random ai; in the even traces the chain is planted at k random sorted
positions, so they satisfy it, and the odd ones never see one random ai, so they do not; seed
7 + k) with `reward score --threads 1` (CLI end to end, median of 3): the sat+robustness spec
and the verdicts spec. Every row is checked first: chain = (a1 … ak is a subsequence of the
trace), robustness = +inf/-inf accordingly, and the number of "satisfied" verdicts = T - (the
step that completes the chain).

Random formulas (skip with --chains-only). For each m in --random-m (default 2,4,6,8,10 atoms)
and size in --random-sizes (default 10,20,30 operator nodes), --random-n formulas (default 4).
Formula i of cell (m, size) is drawn with random.Random(7,000,000 + 10,000 m + 100 size + i) (no
clock; the same formula whatever --random-n): a tree with exactly `size` operator nodes, each
node uniformly one of the 11 future operators ! X WX F G (unary) & | -> <-> U R (binary; the
left child gets a uniform share of the remaining nodes), leaves a1 … am uniformly, true and false
5% each. No past operators (ltlf2dfa 2.0.0 has them only in its separate PPLTL parser) and no
`last` (ltlf2dfa's `last` compiles to WX false, which the generator already draws; our language
has no such keyword). Every node is parenthesised, so both printings parse to the same tree
whatever the precedences: ltlf2dfa's (its grammar ltlf.lark: `(X f)`, `(WX f)`, `(f U g)`, `(!
f)`, `(f <-> g)`, `true`, `false`) and ours (`(next f)`, `(f until g)`, `(not f)`, `(f iff g)` …).
Our spec declares `input { steps: list[list[text]] }` and `prop aj = "aj" in step`: a step is a
set of labels, so the atoms are independent, as in ltlf2dfa. Per formula:
  ours      `reward automata` on a spec holding it: atoms, states, build ms (median of 3 runs of
            the binary's median of 5); a formula beyond the builder's limits shows the E0031;
  ltlf2dfa  to_dfa() in one persistent worker (--worker-random; restarted after a timeout), median
            of 5 / 3 / 1 calls as for the chains, each call capped at --random-timeout seconds
            (default 20: the sympy simplification that turns MONA's output into DOT takes 1–30 s
            on DFAs of 20–100 states over 6–10 atoms, and the whole run should stay near 10 min);
            MONA's 30 s limit handled as for the chains. The worker also sends MONA's own DFA as
            soon as MONA returns, so the states are known even when the DOT conversion times out.
  states    MONA's DFA is parsed (guards over its free variables expanded to a letter table,
            from the state MONA's state 0 leads to) and minimised here (Moore refinement): that
            count must equal the DOT's (a note is printed if not). It is compared with ours:
            '='  equal;
            'ε'  different, but ours equals the minimal DFA of ltlf2dfa's language with the empty
                 trace taken out. This is a convention, not a bug: our semantics is LTLf over
                 non-empty traces (an empty trace is a row error), so our initial state never
                 accepts; ltlf2dfa's DFA decides the empty trace by MONA's encoding (no position at
                 all: atoms, X, F and U are false there, so G, R, WX and negations are true), and
                 accepts it for many formulas; when it rejects it, the languages are the same. With L ltlf2dfa's language, its minimal DFA's states are
                 the residuals w⁻¹L of the non-empty words w plus L itself, ours those residuals
                 plus L∖{ε}; so when ltlf2dfa accepts ε, ours = theirs + [L∖{ε} is no residual of
                 a non-empty word] − [L is none], which is 0, +1 or −1. Examples: G(F(φ)) with
                 φ unsatisfiable on non-empty traces is one rejecting state for us, two for
                 ltlf2dfa (accepting start, then a sink); a formula true on every non-empty trace
                 is two states for us (rejecting start, accepting sink), one for ltlf2dfa;
            '≠'  any other difference: printed under "To investigate" with the formula.
  cross-check  all formulas of a cell in one spec with their truth and the counts of
            "satisfied" and "violated" verdicts (which need our DFA), scored by `reward score` on
            --random-traces random non-empty traces (default 300; 1–12 steps, each atom present
            with p = 0.5; seed 11 + 100 m + size), against ltlf2dfa's DFA run on the same traces
            (a verdict there: satisfied if every state reachable from the current one accepts,
            violated if none does). Any disagreement is printed with its first trace.
The summary per (m, size): formulas, '=', 'ε', '≠', formulas without a DFA on each side, cross-
check failures, the median build ms of each side over the formulas both built (ltlf2dfa
timeouts excluded) and their ratio.

Usage (normally through bench/run_w7_ltl.sh, which builds the binary and the venv):
    python3 bench/w7_ltl.py --reward target/release/reward --py bench/.venv-ltlf2dfa/bin/python \
        [--chains-only | --random-only] [--kmin 2] [--kmax 20] [--timeout 60] [--n 1000] [--t 100] \
        [--random-m 2,4,6,8,10] [--random-sizes 10,20,30] [--random-n 4] [--random-timeout 20] \
        [--random-traces 300]
Inside the venv (internal): w7_ltl.py --worker K (one JSON line per to_dfa call), w7_ltl.py
--worker-random (formulas on stdin, JSON lines out).

ltlf2dfa writes its MONA input to a fixed file inside its package directory (automa.mona), so
nothing else may use bench/.venv-ltlf2dfa while this runs (e.g. bench/oracles/ltlf_truth.py).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def peer_formula(k: int) -> str:
    f = f"F(a{k})"
    for i in range(k - 1, 0, -1):
        f = f"F(a{i} & X({f}))"
    return f


def our_formula(k: int) -> str:
    f = f"eventually(a{k})"
    for i in range(k - 1, 0, -1):
        f = f"eventually(a{i} and next {f})"
    return f


# ----------------------------------------------------------------------------- worker (venv)

def dot_states(dot: str) -> int:
    """State nodes of ltlf2dfa's DOT output, the `init` arrow's pseudo-node excluded."""
    nodes = set()
    for line in dot.splitlines():
        m = re.match(r"\s*node \[shape = \w+\];(.*)", line)
        if m:
            nodes.update(x.strip() for x in m.group(1).split(";") if x.strip())
        m = re.match(r"\s*(\w+) -> (\w+)", line)
        if m:
            nodes.update(m.groups())
    nodes.discard("init")
    return len(nodes)


def peer_setup():
    """In the venv: the parser, with ltlf2dfa's `invoke_mona` wrapped to time MONA and keep its output."""
    import ltlf2dfa.ltlf2dfa as core
    from ltlf2dfa.parser.ltlf import LTLfParser

    mona = {"ms": 0.0, "out": None, "emit": None}
    orig = core.invoke_mona

    def timed_invoke_mona():
        t = time.perf_counter()
        out = orig()
        mona["ms"] = (time.perf_counter() - t) * 1e3
        mona["out"] = out
        if mona["emit"] is not None and out:
            # MONA's own DFA, sent before ltlf2dfa turns it into DOT (sympy simplifies every guard,
            # which can take far longer than MONA): the driver keeps it even if to_dfa times out.
            mona["emit"]({"mona_out": out, "mona_ms": mona["ms"]})
            mona["emit"] = None
        return out

    core.invoke_mona = timed_invoke_mona  # to_dfa looks it up in the module at call time
    parser = LTLfParser()
    parser("F(a)").to_dfa()  # warm-up: imports, sympy caches
    return parser, mona


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def peer_calls(parser, mona, text: str, send_mona: bool = False) -> None:
    """to_dfa on one formula, median policy 5 / 3 over 2 s / 1 over 10 s; one JSON line per call."""
    from ltlf2dfa.base import MonaProgram

    formula = parser(text)
    if send_mona:  # for MONA alone, should to_dfa time out before MONA returns
        emit({"mona_program": MonaProgram(formula).mona_program()})
    reps, done = 5, 0
    while done < reps:
        mona["emit"] = emit if (send_mona and done == 0) else None
        t = time.perf_counter()
        try:
            dot = formula.to_dfa()
        except TypeError:
            if mona["out"] is False:  # ltlf2dfa's own 30 s limit on MONA
                emit({"error": "mona30", "mona_program": MonaProgram(formula).mona_program()})
                return
            raise
        ms = (time.perf_counter() - t) * 1e3
        raw = re.search(r"Automaton has (\d+) states?", mona["out"])
        emit({"ms": ms, "mona_ms": mona["ms"], "dot_states": dot_states(dot),
              "mona_states": int(raw.group(1)) if raw else None})
        done += 1
        if done == 1:
            reps = 5 if ms <= 2000 else 3 if ms <= 10000 else 1
    emit({"done": True})


def worker(k: int) -> None:
    parser, mona = peer_setup()
    peer_calls(parser, mona, peer_formula(k))


def worker_random() -> None:
    """One formula (ltlf2dfa syntax) per line of stdin; "ready" after the warm-up."""
    parser, mona = peer_setup()
    emit({"ready": True})
    for line in sys.stdin:
        if line.strip():
            peer_calls(parser, mona, line.strip(), send_mona=True)


# ----------------------------------------------------------------------------- driver

def read_line(fd: int, buf: bytearray, deadline: float) -> str | None:
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buf.extend(chunk)
    if b"\n" not in buf:
        return ""
    i = buf.index(b"\n")
    line = bytes(buf[:i]).decode()
    del buf[: i + 1]
    return line


def run_peer(py: str, k: int, timeout: float) -> dict:
    """Median of ltlf2dfa's to_dfa calls for chain k, or why there is none."""
    proc = subprocess.Popen([py, __file__, "--worker", str(k)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    fd, buf, calls = proc.stdout.fileno(), bytearray(), []
    res: dict = {}
    try:
        while True:
            # the warm-up and the parser construction come before the first call: allow 30 s more
            line = read_line(fd, buf, time.monotonic() + timeout + (30 if not calls else 0))
            if line is None:
                res = {"error": "timeout"}
                break
            if not line:
                res = {"error": "worker died: " + proc.stderr.read().decode()[-500:]}
                break
            obj = json.loads(line)
            if obj.get("done"):
                break
            if "error" in obj:
                res = obj
                break
            calls.append(obj)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # our own worker's process group only
        proc.wait()
    if calls and not res:
        res = {"ms": statistics.median(c["ms"] for c in calls),
               "mona_ms": statistics.median(c["mona_ms"] for c in calls),
               "dot_states": calls[0]["dot_states"], "mona_states": calls[0]["mona_states"],
               "reps": len(calls)}
    if res.get("error") == "mona30":
        res.update(mona_alone(res.pop("mona_program"), timeout))
    return res


def mona_alone(program: str, timeout: float) -> dict:
    """What MONA alone needs on ltlf2dfa's program, capped at our own timeout (the process is ours;
    killed on expiry): {"mona_alone_ms": ms or None, "mona_states": n, "mona_out": output}."""
    with tempfile.NamedTemporaryFile("w", suffix=".mona", delete=False) as fh:
        fh.write(program)
    res: dict = {}
    t = time.perf_counter()
    mona = subprocess.Popen(["mona", "-q", "-u", "-w", fh.name], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out, _ = mona.communicate(timeout=timeout)
        res["mona_alone_ms"] = (time.perf_counter() - t) * 1e3
        raw = re.search(r"Automaton has (\d+) states?", out)
        res["mona_states"] = int(raw.group(1)) if raw else None
        res["mona_out"] = out
    except subprocess.TimeoutExpired:
        os.killpg(mona.pid, signal.SIGKILL)
        mona.wait()
        res["mona_alone_ms"] = None
    os.unlink(fh.name)
    return res


def write_specs(d: Path, k: int) -> tuple[Path, Path]:
    head = ["// generated by bench/w7_ltl.py", "input { steps: list[text] }"]
    head += [f'prop a{i} = step == "a{i}"' for i in range(1, k + 1)]
    head.append(f"ltl chain = {our_formula(k)}")
    v = d / f"chain{k}_v.reward"
    v.write_text("\n".join(head + [
        'let done_steps = count(for x in verdicts(chain) if x == "satisfied")',
        "score = if chain then 1.0 else 0.0", ""]))
    s = d / f"chain{k}_s.reward"
    s.write_text("\n".join(head + [
        "let margin = robustness(chain)",
        "score = if chain then 1.0 else 0.0", ""]))
    return v, s


def med3(fn):
    vals = [fn() for _ in range(3)]
    if any(v is None for v in vals):
        return None
    if isinstance(vals[0], tuple):
        return tuple(statistics.median(x) for x in zip(*vals))
    return statistics.median(vals)


def our_automaton(binary: str, spec: Path, name: str = "chain") -> dict:
    out = subprocess.run([binary, "automata", str(spec)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"reward automata {spec} failed:\n{out.stderr}")
    line = out.stdout.strip()
    m = re.match(rf"{name}: (\d+) atoms, (\d+) formula nodes, (.*), built in ([\d.]+) ms$", line)
    if not m:
        m = re.match(rf"{name}: (\d+) atoms, (\d+) formula nodes, (.*)$", line)
    if not m:
        raise SystemExit(f"unexpected output of reward automata: {line!r}")
    res = {"atoms": int(m.group(1)), "nodes": int(m.group(2)), "line": line}
    sm = re.match(r"(\d+) states?$", m.group(3))
    if sm:
        res["states"] = int(sm.group(1))
        res["build_ms"] = med3(lambda: float(re.search(
            r"built in ([\d.]+) ms", subprocess.run([binary, "automata", str(spec)],
                                                    capture_output=True, text=True).stdout).group(1)))
    else:
        res["none"] = m.group(3)  # no automaton: the E0031 limit that stopped the build
    return res


def our_check(binary: str, spec: Path) -> dict:
    """parse+check and jit medians, or the error code that stops the spec."""
    def once():
        out = subprocess.run([binary, "check", "--timings", str(spec)], capture_output=True, text=True)
        m = re.search(r"parse\+check ([\d.]+) ms, jit ([\d.]+) ms", out.stdout)
        if out.returncode != 0 or not m:
            return None
        return float(m.group(1)), float(m.group(2))
    r = med3(once)
    if r is None:
        out = subprocess.run([binary, "check", str(spec)], capture_output=True, text=True)
        codes = sorted(set(re.findall(r"\[(E\d{4})\]", out.stderr + out.stdout)))
        msg = re.search(r"Error: (.*)", out.stderr + out.stdout)
        return {"error": ",".join(codes) or "failed", "message": msg.group(1) if msg else ""}
    return {"front_ms": r[0], "jit_ms": r[1]}


def gen_traces(k: int, n: int, t: int) -> list[list[str]]:
    rng = random.Random(7 + k)
    labels = [f"a{i}" for i in range(1, k + 1)]
    traces = []
    for j in range(n):
        if j % 2 == 0:  # the chain planted at k sorted positions: true
            tr = ["" if rng.random() < 0.5 else rng.choice(labels) for _ in range(t)]
            for pos, lab in zip(sorted(rng.sample(range(t), k)), labels):
                tr[pos] = lab
        else:  # one label never occurs: false
            missing = rng.choice(labels)
            others = [lab for lab in labels if lab != missing]
            tr = ["" if rng.random() < 0.5 else rng.choice(others) for _ in range(t)]
        traces.append(tr)
    return traces


def completes_at(tr: list[str], k: int) -> int | None:
    want = 1
    for i, lab in enumerate(tr):
        if lab == f"a{want}":
            if want == k:
                return i
            want += 1
    return None


def score_and_check(binary: str, spec: Path, data: Path, traces, k: int, kind: str) -> float:
    cmd = [binary, "score", str(spec), str(data), "--threads", "1", "--no-progress"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr}")
    rows = [json.loads(l) for l in out.stdout.splitlines()]
    assert len(rows) == len(traces)
    for j, (row, tr) in enumerate(zip(rows, traces)):
        at = completes_at(tr, k)
        terms = row["terms"]
        ok = terms["chain"] == (at is not None)
        if kind == "s":
            ok = ok and terms["margin"] == ("inf" if at is not None else "-inf")
        else:
            ok = ok and terms["done_steps"] == (len(tr) - at if at is not None else 0)
        if not ok:
            raise SystemExit(f"k={k} spec {spec.name}: row {j} wrong: {terms}, chain completes at {at}")

    def once():
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        return (time.perf_counter() - t0) * 1e3
    return med3(once)


# ----------------------------------------------------------------------------- random formulas

UNARY = [("!", "not"), ("X", "next"), ("WX", "wnext"), ("F", "eventually"), ("G", "always")]
BINARY = [("&", "and"), ("|", "or"), ("->", "implies"), ("<->", "iff"), ("U", "until"),
          ("R", "release")]


def random_formula(rng: random.Random, m: int, size: int):
    """A random tree with exactly `size` operator nodes; leaves a1 … am (true / false 5% each)."""
    if size == 0:
        r = rng.random()
        return ("true",) if r < 0.05 else ("false",) if r < 0.10 else ("atom", f"a{rng.randint(1, m)}")
    i = rng.randrange(len(UNARY) + len(BINARY))
    if i < len(UNARY):
        return ("u", i, random_formula(rng, m, size - 1))
    left = rng.randint(0, size - 1)
    return ("b", i - len(UNARY), random_formula(rng, m, left), random_formula(rng, m, size - 1 - left))


def show(t, ours: bool) -> str:
    """Fully parenthesised: ltlf2dfa's syntax (ours=False) or our keywords (ours=True)."""
    if t[0] in ("true", "false"):
        return t[0]
    if t[0] == "atom":
        return t[1]
    if t[0] == "u":
        return f"({UNARY[t[1]][ours]} {show(t[2], ours)})"
    return f"({show(t[2], ours)} {BINARY[t[1]][ours]} {show(t[3], ours)})"


def random_seed(m: int, size: int, i: int) -> int:
    return 7_000_000 + 10_000 * m + 100 * size + i  # formula i of a cell never depends on --random-n


class PeerWorker:
    """A persistent ltlf2dfa worker (w7_ltl.py --worker-random in the venv), restarted after a
    timeout or a crash. One formula at a time; each to_dfa call capped at `timeout` seconds."""

    def __init__(self, py: str, timeout: float, mona_cap: float):
        self.py, self.timeout, self.mona_cap, self.proc = py, timeout, mona_cap, None

    def _start(self) -> str | None:
        self.proc = subprocess.Popen([self.py, __file__, "--worker-random"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.buf = bytearray()
        line = read_line(self.proc.stdout.fileno(), self.buf, time.monotonic() + 60)
        if not line or not json.loads(line).get("ready"):
            err = self.proc.stderr.read1(4000).decode() if line == "" else "no warm-up in 60 s"
            self.stop()
            return err
        return None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own worker's process group only
            self.proc.wait()
            self.proc = None

    def run(self, formula: str) -> dict:
        if self.proc is None:
            err = self._start()
            if err:
                return {"error": "worker failed: " + err[-300:]}
        self.proc.stdin.write((formula + "\n").encode())
        self.proc.stdin.flush()
        fd, calls, res, mona, program = self.proc.stdout.fileno(), [], {}, {}, None
        deadline = time.monotonic() + self.timeout
        while True:
            line = read_line(fd, self.buf, deadline)
            if line is None:
                res = {"error": "timeout"}
                self.stop()
                break
            if not line:
                res = {"error": "worker died: " + self.proc.stderr.read1(4000).decode()[-300:]}
                self.stop()
                break
            obj = json.loads(line)
            if obj.get("done"):
                break
            if "mona_program" in obj and "error" not in obj:
                program = obj["mona_program"]
                continue
            if "mona_out" in obj:  # mid-call: MONA done, ltlf2dfa's DOT conversion still to come
                mona = obj
                continue
            if "error" in obj:
                res = obj
                break
            calls.append(obj)
            deadline = time.monotonic() + self.timeout
        if calls and not res:
            res = {"ms": statistics.median(c["ms"] for c in calls),
                   "mona_ms": statistics.median(c["mona_ms"] for c in calls),
                   "dot_states": calls[0]["dot_states"], "mona_states": calls[0]["mona_states"],
                   "reps": len(calls)}
        if mona:
            res["mona_out"] = mona["mona_out"]
            res.setdefault("mona_ms", mona["mona_ms"])
        if res.get("error") == "mona30":
            res.update(mona_alone(res.pop("mona_program"), self.mona_cap))
        elif res.get("error") == "timeout" and not mona and program:
            res.update(mona_alone(program, self.mona_cap))  # to_dfa timed out inside MONA
        return res


def parse_mona(out: str) -> dict | None:
    """MONA's DFA (mona -q -u -w): free variables, accepting states, and per state a table from
    letters (bit i = variable i) to states, over states reachable from the one state 0 leads to
    (MONA's state 0 reads the dummy first position of its encoding; ltlf2dfa's DOT drops it)."""
    fv = re.search(r"DFA for formula with free variables:[ \t]*(.*)\n", out)
    acc = re.search(r"Accepting states:[ \t]*(.*)\n", out)
    if not fv or not acc:
        return None
    names = [v.lower() for v in fv.group(1).split()]
    n = len(names)
    accepting = {int(x) for x in acc.group(1).split()}
    table: dict[int, list[int | None]] = {}
    for src, guard, dst in re.findall(r"^State (\d+): ([01X]*) -> state (\d+)$", out, re.M):
        row = table.setdefault(int(src), [None] * (1 << n))
        free = [i for i, c in enumerate(guard) if c == "X"]
        base = sum(1 << i for i, c in enumerate(guard) if c == "1")
        for bits in range(1 << len(free)):
            row[base | sum(1 << free[j] for j in range(len(free)) if bits >> j & 1)] = int(dst)
    start = set(table[0])
    if len(start) != 1:
        return None
    start = start.pop()
    reach, todo = {start}, [start]
    while todo:
        q = todo.pop()
        for d in table[q]:
            if d not in reach:
                reach.add(d)
                todo.append(d)
    return {"names": names, "start": start, "accepting": accepting & reach,
            "table": {q: table[q] for q in reach}}


def min_states(dfa: dict, empty_accepted: bool | None = None) -> int:
    """States of the minimal DFA of the language read from dfa's start state (Moore refinement);
    with empty_accepted given, of that language with the empty word's membership set so (a fresh
    initial state copying the start state's row)."""
    table, acc, start = dict(dfa["table"]), set(dfa["accepting"]), dfa["start"]
    if empty_accepted is not None:
        table["init"] = table[start]
        if empty_accepted:
            acc.add("init")
        start = "init"
    cls = {q: int(q in acc) for q in table}
    while True:
        sig = {q: (cls[q], tuple(cls[d] for d in table[q])) for q in table}
        ids: dict = {}
        new = {q: ids.setdefault(sig[q], len(ids)) for q in table}
        if len(ids) == len(set(cls.values())):
            break
        cls = new
    reach, todo = {cls[start]}, [start]
    rep = {}
    for q in table:
        rep.setdefault(cls[q], q)
    while todo:
        q = todo.pop()
        for d in table[q]:
            if cls[d] not in reach:
                reach.add(cls[d])
                todo.append(rep[cls[d]])
    return len(reach)


def mona_verdicts(dfa: dict, trace: list[list[str]]) -> tuple[bool, int, int]:
    """(accepted, #"satisfied", #"violated") of ltlf2dfa's DFA on a non-empty trace: after each
    step, satisfied if every state reachable from the current one accepts (ending now included),
    violated if none does."""
    table, acc = dfa["table"], dfa["accepting"]
    good, bad = {}, {}
    for q in table:
        seen, todo = {q}, [q]
        while todo:
            for d in table[todo.pop()]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        good[q], bad[q] = seen <= acc, not (seen & acc)
    q, sat, vio = dfa["start"], 0, 0
    for step in trace:
        q = table[q][sum(1 << i for i, a in enumerate(dfa["names"]) if a in step)]
        sat += good[q]
        vio += bad[q]
    return q in acc, sat, vio


def random_traces(m: int, count: int, seed: int) -> list[list[list[str]]]:
    rng = random.Random(seed)
    return [[[f"a{j}" for j in range(1, m + 1) if rng.random() < 0.5]
             for _ in range(rng.randint(1, 12))] for _ in range(count)]


def spec_head(m: int) -> list[str]:
    return (["// generated by bench/w7_ltl.py", "input { steps: list[list[text]] }"]
            + [f'prop a{j} = "a{j}" in step' for j in range(1, m + 1)])


def random_part(a, d: Path) -> None:
    ms = [int(x) for x in a.random_m.split(",")]
    sizes = [int(x) for x in a.random_sizes.split(",")]
    peer = PeerWorker(a.py, a.random_timeout, a.timeout)
    rows = []
    try:
        for m in ms:
            for size in sizes:
                cell = []
                for i in range(a.random_n):
                    t = random_formula(random.Random(random_seed(m, size, i)), m, size)
                    r = {"m": m, "size": size, "i": i, "peer_f": show(t, False), "our_f": show(t, True)}
                    spec = d / f"rand_{m}_{size}_{i}.reward"
                    spec.write_text("\n".join(spec_head(m) + [f"ltl f = {r['our_f']}",
                                                              "score = if f then 1.0 else 0.0", ""]))
                    r["auto"] = our_automaton(a.reward, spec, "f")
                    r["peer"] = peer.run(r["peer_f"])
                    dfa = parse_mona(r["peer"]["mona_out"]) if r["peer"].get("mona_out") else None
                    if dfa:
                        r["dfa"] = dfa
                        r["theirs"] = min_states(dfa)  # = the DOT's states (checked where both exist)
                        r["eps"] = dfa["start"] in dfa["accepting"]
                        r["nonempty"] = min_states(dfa, empty_accepted=False)
                    classify(r)
                    cell.append(r)
                    au, p = r["auto"], r["peer"]
                    print(f"m={m} size={size} #{i}: ours "
                          + (f"{au['states']} states {au['build_ms']:.3f} ms" if "states" in au else au["none"])
                          + "; ltlf2dfa " + (f"{p['dot_states']} states {p['ms']:.1f} ms" if "ms" in p
                                             else p["error"]) + f"  [{r['class']}]",
                          file=sys.stderr, flush=True)
                cross_check(a, d, m, size, cell)
                rows += cell
    finally:
        peer.stop()
    report_random(a, rows, ms, sizes)


def classify(r: dict) -> None:
    """'=' same states; 'ε' differ only by the empty trace (ours = ltlf2dfa's language without the
    empty word, which ltlf2dfa accepts); '≠' a real difference; '?' no DFA on one side."""
    au, p = r["auto"], r["peer"]
    if "dot_states" in p and "theirs" in r and p["dot_states"] != r["theirs"]:
        r["note"] = f"DOT {p['dot_states']} states but MONA's DFA minimises to {r['theirs']}"
    if "states" not in au or "theirs" not in r:
        r["class"] = "?"
    elif au["states"] == r["theirs"]:
        r["class"] = "="
    elif r["eps"] and au["states"] == r["nonempty"]:
        r["class"] = "ε"
    else:
        r["class"] = "≠"


def cross_check(a, d: Path, m: int, size: int, cell: list[dict]) -> None:
    """Our truth and verdicts against ltlf2dfa's DFA on random non-empty traces (every step a
    random subset of a1 … am), all formulas of the cell in one spec, one `reward score` run."""
    live = [r for r in cell if "dfa" in r and "states" in r["auto"]]
    if not live:
        return
    lines = spec_head(m)
    for r in live:
        j = r["i"]
        lines += [f"ltl f{j} = {r['our_f']}",
                  f'let s{j} = count(for x in verdicts(f{j}) if x == "satisfied")',
                  f'let v{j} = count(for x in verdicts(f{j}) if x == "violated")']
    lines += ["score = 0.0", ""]
    spec, data = d / f"cross_{m}_{size}.reward", d / f"cross_{m}_{size}.jsonl"
    spec.write_text("\n".join(lines))
    traces = random_traces(m, a.random_traces, 11 + 100 * m + size)
    data.write_text("".join(json.dumps({"steps": tr}) + "\n" for tr in traces))
    out = subprocess.run([a.reward, "score", str(spec), str(data), "--threads", "1", "--no-progress"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        for r in live:
            r["cross"] = "reward score failed: " + out.stderr.strip()[-200:]
        return
    got = [json.loads(l)["terms"] for l in out.stdout.splitlines()]
    for r in live:
        j, bad = r["i"], []
        for tr, terms in zip(traces, got):
            want = mona_verdicts(r["dfa"], tr)
            if (terms[f"f{j}"], terms[f"s{j}"], terms[f"v{j}"]) != want:
                bad.append((tr, (terms[f"f{j}"], terms[f"s{j}"], terms[f"v{j}"]), want))
        r["cross"] = len(bad)
        if bad:
            r["cross_example"] = bad[0]


def report_random(a, rows: list[dict], ms: list[int], sizes: list[int]) -> None:
    print(f"\nW7 LTLf random formulas: DFA states and construction, ours (`reward automata`, median of"
          f"\n3 × the binary's median of 5) vs ltlf2dfa 2.0.0 + MONA (to_dfa(), median of 5 / 3 / 1,"
          f"\neach call capped at {a.random_timeout:.0f} s); {a.random_n} formulas per (m, size), seeds "
          f"7,000,000 + 10,000 m + 100 size + i\n")
    print("| m | size | # | atoms | ours: states | our build ms | ltlf2dfa: states (DOT / MONA raw) "
          "| ltlf2dfa ms (MONA) | ε | states | cross-check | formula (ltlf2dfa syntax) |")
    print("|---:|---:|---:|---:|---:|---:|---|---|:-:|:-:|---:|---|")
    for r in rows:
        au, p = r["auto"], r["peer"]
        os_ = str(au["states"]) if "states" in au else "none: " + au["none"]
        ob = fmt(au.get("build_ms"), "{:.3f}")
        if "ms" in p:
            ps = f"{p['dot_states']} / {p['mona_states']}"
            pm = f"{p['ms']:.1f} ({p['mona_ms']:.1f})" + ("" if p["reps"] >= 3 else f" [{p['reps']} run]")
        else:
            ps = (f"— / {r['theirs'] + 1} (DFA: {r['theirs']})" if "theirs" in r else "—")
            alone = p.get("mona_alone_ms", "")
            alone = (f"MONA alone {alone / 1e3:.1f} s" if isinstance(alone, float)
                     else f"MONA alone > {a.timeout:.0f} s" if alone is None else "")
            if p["error"] == "mona30":
                pm = "fails (its 30 s MONA limit); " + alone
            elif p["error"] == "timeout" and "mona_ms" in p:
                pm = f"> {a.random_timeout:.0f} s (MONA {p['mona_ms']:.1f}, then the DOT conversion)"
            elif p["error"] == "timeout":
                pm = f"> {a.random_timeout:.0f} s (in MONA; {alone})"
            else:
                pm = p["error"]
        eps = "—" if "eps" not in r else ("acc" if r["eps"] else "rej")
        cr = r.get("cross", "—")
        cr = "ok" if cr == 0 else cr
        print(f"| {r['m']} | {r['size']} | {r['i']} | {au['atoms']} | {os_} | {ob} | {ps} | {pm} | {eps} "
              f"| {r['class']} | {cr} | `{r['peer_f']}` |")
    print("\nε: whether ltlf2dfa's DFA accepts the empty trace (its initial state). states: '=' ours equal"
          "\nltlf2dfa's DOT; 'ε' they differ only by the empty trace (ours = the minimal DFA of ltlf2dfa's"
          "\nlanguage with the empty trace taken out); '≠' anything else; '?' a side built none. cross-check:"
          f"\ntraces (of {a.random_traces} random non-empty ones, 1–12 steps) where our truth or our count of"
          "\n\"satisfied\" / \"violated\" verdicts differs from ltlf2dfa's DFA run on the same trace.\n")
    print("| m | size | formulas | states equal | equal but for ε | differ | no DFA ours / to_dfa timed out "
          "| cross-check failures | median ms ours | median ms ltlf2dfa | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for m in ms:
        for size in sizes:
            cell = [r for r in rows if r["m"] == m and r["size"] == size]
            # over the formulas we built; an ltlf2dfa timeout counts as its cap, a lower bound,
            # so a cell with one prints its median and ratio as "≥"
            ours = [r for r in cell if r["auto"].get("build_ms") is not None]
            lb = any("ms" not in r["peer"] for r in ours)
            mo = statistics.median(r["auto"]["build_ms"] for r in ours) if ours else None
            mp = (statistics.median(r["peer"].get("ms", a.random_timeout * 1e3) for r in ours)
                  if ours else None)
            no_o = sum("states" not in r["auto"] for r in cell)
            no_p = sum("ms" not in r["peer"] for r in cell)
            xf = sum(1 for r in cell if isinstance(r.get("cross"), int) and r["cross"] > 0)
            ge = "≥ " if lb else ""
            ratio = f"{ge}{mp / mo:.0f}×" if mo and mp else "—"
            print(f"| {m} | {size} | {len(cell)} | {sum(r['class'] == '=' for r in cell)} "
                  f"| {sum(r['class'] == 'ε' for r in cell)} | {sum(r['class'] == '≠' for r in cell)} "
                  f"| {no_o} / {no_p} | {xf} | {fmt(mo, '{:.3f}')} | {ge}{fmt(mp, '{:.1f}')} | {ratio} |")
    print(f"\nmedians over the formulas we built; an ltlf2dfa timeout counts as its {a.random_timeout:.0f} s"
          "\ncap (a lower bound: \"≥\"); its states then come from MONA's own DFA (sent before the DOT"
          "\nconversion, or from MONA alone); ratio = ltlf2dfa ÷ ours. \"no DFA\": formulas without to_dfa's"
          "\nresult in time (ours: an E0031 limit).")
    odd = [r for r in rows if r["class"] == "≠" or r.get("note")
           or (isinstance(r.get("cross"), int) and r["cross"] > 0) or isinstance(r.get("cross"), str)]
    if odd:
        print("\nTo investigate:")
        for r in odd:
            print(f"- m={r['m']} size={r['size']} #{r['i']}: ours {r['auto'].get('states')}, ltlf2dfa "
                  f"{r.get('theirs')} (without the empty trace {r.get('nonempty')}); {r.get('note', '')} "
                  f"cross-check {r.get('cross')} {r.get('cross_example', '')}\n  ours: {r['our_f']}\n"
                  f"  ltlf2dfa: {r['peer_f']}")
    else:
        print("\nNo formula where the state counts differ other than by the empty trace, and no "
              "cross-check failure.")


def fmt(x, spec="{:.2f}"):
    return "—" if x is None else spec.format(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", type=int)
    ap.add_argument("--worker-random", action="store_true")
    ap.add_argument("--reward", default="target/release/reward")
    ap.add_argument("--py", default="bench/.venv-ltlf2dfa/bin/python")
    ap.add_argument("--kmin", type=int, default=2)
    ap.add_argument("--kmax", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--t", type=int, default=100)
    ap.add_argument("--chains-only", action="store_true")
    ap.add_argument("--random-only", action="store_true")
    ap.add_argument("--random-m", default="2,4,6,8,10")
    ap.add_argument("--random-sizes", default="10,20,30")
    ap.add_argument("--random-n", type=int, default=4)
    ap.add_argument("--random-timeout", type=float, default=20.0)
    ap.add_argument("--random-traces", type=int, default=300)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker)
        return
    if a.worker_random:
        worker_random()
        return
    with tempfile.TemporaryDirectory() as tmp:
        if not a.random_only:
            chains(a, Path(tmp))
        if not a.chains_only:
            random_part(a, Path(tmp))


def chains(a, d: Path) -> None:
    if a.t < a.kmax:
        raise SystemExit("--t must be at least --kmax (the chain is planted in the traces)")
    ks = range(a.kmin, a.kmax + 1)
    rows = []
    peer_stopped = None
    for k in ks:
        v, s = write_specs(d, k)
        r = {"k": k, "auto": our_automaton(a.reward, s), "check_v": our_check(a.reward, v),
             "check_s": our_check(a.reward, s)}
        if peer_stopped is None:
            r["peer"] = run_peer(a.py, k, a.timeout)
            if "error" in r["peer"] and r["peer"].get("mona_alone_ms") is None:
                peer_stopped = k  # it only gets harder with k: skip the rest
        else:
            r["peer"] = {"error": f"skipped (timeout at k = {peer_stopped})"}
        traces = gen_traces(k, a.n, a.t)
        data = d / f"traces{k}.jsonl"
        data.write_text("".join(json.dumps({"steps": tr}) + "\n" for tr in traces))
        r["score_s"] = score_and_check(a.reward, s, data, traces, k, "s")
        r["score_v"] = (score_and_check(a.reward, v, data, traces, k, "v")
                        if "error" not in r["check_v"] else None)
        r["true"] = sum(completes_at(tr, k) is not None for tr in traces)
        rows.append(r)
        p = r["peer"]
        print(f"k={k}: ours {r['auto']['line'].split(': ', 1)[1]}; ltlf2dfa "
              + (f"{p['dot_states']} states (MONA {p['mona_states']}), {p['ms']:.1f} ms" if "ms" in p
                 else p["error"]), file=sys.stderr, flush=True)

    print(f"\nW7 LTLf chains F(a1 & X F(a2 & … X F(ak))): DFA construction, ours vs ltlf2dfa 2.0.0 + MONA")
    print(f"binary {a.reward}; ltlf2dfa per call capped at {a.timeout:.0f} s\n")
    hdr = ("| k | our states | our build ms | our check+JIT ms (verdicts) | check+JIT ms (sat only) "
           "| ltlf2dfa states (DOT / MONA raw) | ltlf2dfa ms (of which MONA) | ratio build | ratio compile |")
    print(hdr)
    print("|---:|---|---:|---|---:|---|---|---:|---:|")
    for r in rows:
        au, cv, cs, p = r["auto"], r["check_v"], r["check_s"], r["peer"]
        our_states = str(au["states"]) if "states" in au else f"none ({au['none'].split(': ', 1)[1]})"
        build = fmt(au.get("build_ms"), "{:.3f}")
        cv_s = (f"{cv['front_ms'] + cv['jit_ms']:.2f} ({cv['front_ms']:.2f} + {cv['jit_ms']:.2f})"
                if "error" not in cv else cv["error"])
        cs_s = f"{cs['front_ms'] + cs['jit_ms']:.2f}" if "error" not in cs else cs["error"]
        if "ms" in p:
            ps = f"{p['dot_states']} / {p['mona_states']}"
            pm = f"{p['ms']:.1f} ({p['mona_ms']:.1f})" + ("" if p["reps"] >= 3 else f" [{p['reps']} run]")
            rb = f"{p['ms'] / au['build_ms']:.1f}×" if au.get("build_ms") else "—"
            rc = f"{p['ms'] / (cv['front_ms'] + cv['jit_ms']):.1f}×" if "error" not in cv else "—"
        else:
            ps = "—" if p.get("mona_states") is None else f"— / {p['mona_states']}"
            if p["error"] == "mona30":
                alone = p.get("mona_alone_ms")
                pm = ("ltlf2dfa fails (its 30 s MONA limit); MONA alone "
                      + (f"{alone / 1e3:.1f} s" if alone is not None else f"timeout (> {a.timeout:.0f} s)"))
            else:
                pm = p["error"]
            rb = rc = "—"
        print(f"| {r['k']} | {our_states} | {build} | {cv_s} | {cs_s} | {ps} | {pm} | {rb} | {rc} |")
    print("\nratio build = ltlf2dfa to_dfa ms ÷ our DFA build ms; ratio compile = ltlf2dfa to_dfa ms ÷ our whole"
          "\nparse+check+JIT of the verdicts spec (which includes the DFA build). > 1 means we are faster.")
    v_fail = [r for r in rows if "error" in r["check_v"]]
    if v_fail:
        print(f"verdicts spec for k >= {v_fail[0]['k']}: `reward check` reports "
              f"{v_fail[0]['check_v']['error']}: {v_fail[0]['check_v']['message']}")
    print(f"\nScoring {a.n} traces × {a.t} steps per k (reward score --threads 1, CLI end to end, median of 3;"
          "\nevery row checked first: truth, robustness ±inf, count of \"satisfied\" verdicts)\n")
    print("| k | chain true in | sat+robustness spec ms | verdicts spec ms |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        sv = fmt(r["score_v"], "{:.1f}") if r["score_v"] is not None else r["check_v"]["error"]
        print(f"| {r['k']} | {r['true']} / {a.n} | {r['score_s']:.1f} | {sv} |")


if __name__ == "__main__":
    main()
