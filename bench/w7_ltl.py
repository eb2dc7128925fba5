#!/usr/bin/env python3
"""W7, LTLf part: DFA construction for sequencing chains, ours vs ltlf2dfa (+MONA).

The formula for k = 2 … 20 is the chain

    F(a1 & X(F(a2 & X( … F(ak) … ))))      (ours: eventually(a1 and next eventually(a2 …)))

"a1, then strictly later a2, …, then ak". Its minimal DFA has k + 1 states (waiting for a1 …
waiting for ak, done), over an alphabet of 2^k letters.

Per k this script writes two specs into a temporary directory (steps are text labels, the atom
ai is `step == "ai"`):

  chain_v.reward   the chain plus `count(for x in verdicts(chain) if x == "satisfied")`, so the
                   compiler must build the DFA (at most 12 atoms: E0031 beyond);
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
7 + k) with `reward score --threads 1` (CLI end to end, median of 3): the
sat+robustness spec for every k, the verdicts spec where it compiles. Every row is checked
first: chain = (a1 … ak is a subsequence of the trace), robustness = +inf/-inf accordingly, and
the number of "satisfied" verdicts = T - (the step that completes the chain).

Usage (normally through bench/run_w7_ltl.sh, which builds the binary and the venv):
    python3 bench/w7_ltl.py --reward target/release/reward --py bench/.venv-ltlf2dfa/bin/python \
        [--kmin 2] [--kmax 20] [--timeout 60] [--n 1000] [--t 100]
Inside the venv (internal): w7_ltl.py --worker K   (one JSON line per to_dfa call)

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

def worker(k: int) -> None:
    import ltlf2dfa.ltlf2dfa as core
    from ltlf2dfa.base import MonaProgram
    from ltlf2dfa.parser.ltlf import LTLfParser

    parser = LTLfParser()
    mona = {"ms": 0.0, "out": None}
    orig = core.invoke_mona

    def timed_invoke_mona():
        t = time.perf_counter()
        out = orig()
        mona["ms"] = (time.perf_counter() - t) * 1e3
        mona["out"] = out
        return out

    core.invoke_mona = timed_invoke_mona  # to_dfa looks it up in the module at call time

    def emit(obj: dict) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    parser("F(a)").to_dfa()  # warm-up: imports, sympy caches
    formula = parser(peer_formula(k))
    reps, done = 5, 0
    while done < reps:
        t = time.perf_counter()
        try:
            dot = formula.to_dfa()
        except TypeError:
            if mona["out"] is False:  # ltlf2dfa's own 30 s limit on MONA
                emit({"error": "mona30", "mona_program": MonaProgram(formula).mona_program()})
                return
            raise
        ms = (time.perf_counter() - t) * 1e3
        nodes = set()
        for line in dot.splitlines():
            m = re.match(r"\s*node \[shape = \w+\];(.*)", line)
            if m:
                nodes.update(x.strip() for x in m.group(1).split(";") if x.strip())
            m = re.match(r"\s*(\w+) -> (\w+)", line)
            if m:
                nodes.update(m.groups())
        nodes.discard("init")
        raw = re.search(r"Automaton has (\d+) states", mona["out"])
        emit({"ms": ms, "mona_ms": mona["ms"], "dot_states": len(nodes),
              "mona_states": int(raw.group(1)) if raw else None})
        done += 1
        if done == 1:
            reps = 5 if ms <= 2000 else 3 if ms <= 10000 else 1
    emit({"done": True})


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
        # What MONA alone needs, capped at our own timeout (the process is ours; killed on expiry).
        with tempfile.NamedTemporaryFile("w", suffix=".mona", delete=False) as fh:
            fh.write(res.pop("mona_program"))
        t = time.perf_counter()
        mona = subprocess.Popen(["mona", "-q", "-u", "-w", fh.name], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True, text=True)
        try:
            out, _ = mona.communicate(timeout=timeout)
            res["mona_alone_ms"] = (time.perf_counter() - t) * 1e3
            raw = re.search(r"Automaton has (\d+) states", out)
            res["mona_states"] = int(raw.group(1)) if raw else None
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


def our_automaton(binary: str, spec: Path) -> dict:
    out = subprocess.run([binary, "automata", str(spec)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"reward automata {spec} failed:\n{out.stderr}")
    line = out.stdout.strip()
    m = re.match(r"chain: (\d+) atoms, (\d+) formula nodes, (.*), built in ([\d.]+) ms$", line)
    if not m:
        raise SystemExit(f"unexpected output of reward automata: {line!r}")
    res = {"atoms": int(m.group(1)), "nodes": int(m.group(2)), "line": line}
    sm = re.match(r"(\d+) states$", m.group(3))
    if sm:
        res["states"] = int(sm.group(1))
        res["build_ms"] = med3(lambda: float(re.search(
            r"built in ([\d.]+) ms", subprocess.run([binary, "automata", str(spec)],
                                                    capture_output=True, text=True).stdout).group(1)))
    else:
        res["none"] = m.group(3)  # "no automaton: 13 atoms (at most 12)"
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


def fmt(x, spec="{:.2f}"):
    return "—" if x is None else spec.format(x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", type=int)
    ap.add_argument("--reward", default="target/release/reward")
    ap.add_argument("--py", default="bench/.venv-ltlf2dfa/bin/python")
    ap.add_argument("--kmin", type=int, default=2)
    ap.add_argument("--kmax", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--t", type=int, default=100)
    a = ap.parse_args()
    if a.worker is not None:
        worker(a.worker)
        return
    if a.t < a.kmax:
        raise SystemExit("--t must be at least --kmax (the chain is planted in the traces)")
    ks = range(a.kmin, a.kmax + 1)
    rows = []
    peer_stopped = None
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
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
