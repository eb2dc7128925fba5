#!/usr/bin/env python3
"""W5 peers: per-trajectory totals of a reward machine (reward-machines text format) over the
labels of bench/gen_w5.py, timed on labels already in memory (scoring only, JSON parsing
excluded), median of --repeat runs.

Usage:
    peer_w5.py plain  MACHINE.txt ROLLOUTS.jsonl [--limit K] [--repeat R]
    peer_w5.py pycrm  MACHINE.txt ROLLOUTS.jsonl [--limit K] [--repeat R]
    peer_w5.py table  MACHINE.txt ROLLOUTS.jsonl OUT.bin        (input of bench/w5_loop.c)

Totals go to stdout (one per trajectory, repr of the float), the timing line to stderr:
    PEER <name> <trajectories> <steps> <median seconds> <median seconds of json.loads on the lines>

- plain: a plain-Python step loop over a memoised transition table: (state, label) -> (next
  state, reward), filled on first use by evaluating the guards in file order (the design note's
  "plain-Python step loop with memo", ~1M steps/s); stops when the machine ends.
- pycrm: the PyPI package pyrewardmachines (module `pycrm`, v1.1.1): the machine written as a
  `pycrm.automaton.RewardMachine` subclass (guards as its transition expressions "A and not N",
  propositions an Enum, terminal targets -1), wrapped in `RmToCrmAdapter` as its cross-product
  environments do, and stepped with `CountingRewardMachine.transition(u, c, props)`; the
  reward is `reward_fn(obs, action, next_obs)`. `transition` raises ValueError when no edge
  matches: the machine ends with reward 0 (our semantics; pycrm itself has no such case). The
  label -> set-of-Enum conversion (the labelling function) is precomputed and not timed.
  Runs in bench/.venv-rm, created on first use with
      pip install --no-deps pyrewardmachines==1.1.1 numpy
  (--no-deps: its declared dependencies pull torch, CUDA, stable-baselines3 and gymnasium,
  ~5 GB, for its RL agents; pycrm.automaton needs only numpy.)
- table: writes the machine as a dense table over the distinct labels of the data, and the
  labels as ids, for the bare C loop (the limit): int32 n, states, labels, start; int32
  next[states*labels]; float64 reward[states*labels]; int32 length[n]; uint8 label ids. The
  ended state is an absorbing sink paying 0, so the C loop needs no branch.
"""
import json
import os
import statistics
import struct
import subprocess
import sys
import time
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_w5 import Machine  # noqa: E402

VENV = Path(__file__).resolve().parent / ".venv-rm"
PYCRM_SPEC = "pyrewardmachines==1.1.1"


def load(path, limit, repeat=1):
    """The first `limit` rows' labels, and the median time json.loads takes on their lines."""
    lines = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if limit is not None and len(lines) >= limit:
                break
            lines.append(line)
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        rows = [json.loads(line)["labels"] for line in lines]
        times.append(time.perf_counter() - t0)
    return rows, statistics.median(times)


def run_plain(m, rows):
    memo = {}
    step = m.step
    out = []
    for labels in rows:
        u, total = m.start, 0.0
        for lab in labels:
            key = (u, lab)
            nxt = memo.get(key)
            if nxt is None:
                nxt = memo[key] = step(u, lab)
            u, r = nxt
            total += r
            if u is None:
                break
        out.append(total)
    return out


def build_pycrm(m):
    from enum import Enum

    from pycrm.automaton import RewardMachine, RmToCrmAdapter

    letters = sorted(m.letters)
    Props = Enum("Props", {c.upper(): c for c in letters})
    delta_u, delta_r = {}, {}
    for u, edges in m.edges.items():
        du, dr = {}, {}
        for _, v, r, text in edges:
            expr = " or ".join(" and ".join(("not " + lit[1:].strip().upper()) if lit.startswith("!")
                                            else lit.strip().upper() for lit in conj.split("&"))
                               for conj in text.split("|"))
            if expr in du:
                raise ValueError(f"state {u}: guard {text!r} twice (pycrm keys edges by guard)")
            du[expr] = -1 if v in m.terminal else v
            dr[expr] = r
        delta_u[u], delta_r[u] = du, dr

    class FileMachine(RewardMachine):
        @property
        def u_0(self):
            return m.start

        def _get_state_transition_function(self):
            return {u: dict(d) for u, d in delta_u.items()}

        def _get_reward_transition_function(self):
            return {u: dict(d) for u, d in delta_r.items()}

    crm = RmToCrmAdapter(FileMachine(env_prop_enum=Props))
    props_of = {}

    def props(label):
        p = props_of.get(label)
        if p is None:
            p = props_of[label] = {Props[c.upper()] for c in label if c.upper() in Props.__members__}
        return p

    return crm, props


def run_pycrm(crm, props_rows):
    out = []
    final = set(crm.F)
    for props in props_rows:
        u, c, total = crm.u_0, crm.c_0, 0.0
        for p in props:
            try:
                u, c, reward_fn = crm.transition(u, c, p)
            except ValueError:  # no edge matched: the machine ends, reward 0
                break
            total += reward_fn(None, None, None)
            if u in final:
                break
        out.append(total)
    return out


def ensure_venv():
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    probe = subprocess.run([str(py), "-c", "import pycrm.automaton, numpy"], capture_output=True)
    if probe.returncode != 0:
        print(f"installing {PYCRM_SPEC} (no deps) and numpy into {VENV}", file=sys.stderr)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", PYCRM_SPEC, "numpy>=2"],
                       check=True)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def write_table(m, rows, out):
    states = sorted({m.start} | set(m.edges) | {v for es in m.edges.values() for _, v, _, _ in es})
    index = {u: i for i, u in enumerate(states)}
    dead = len(states)
    labels = sorted({lab for labels in rows for lab in labels})
    if len(labels) > 255:
        raise ValueError("more than 255 distinct labels")
    lid = {lab: i for i, lab in enumerate(labels)}
    ns, nl = dead + 1, len(labels)
    nxt, rew = [dead] * (ns * nl), [0.0] * (ns * nl)
    for u in states:
        for lab in labels:
            v, r = m.step(u, lab)
            nxt[index[u] * nl + lid[lab]] = dead if v is None else index[v]
            rew[index[u] * nl + lid[lab]] = r
    with open(out, "wb") as fh:
        fh.write(struct.pack("<4i", len(rows), ns, nl, index[m.start]))
        fh.write(struct.pack(f"<{ns * nl}i", *nxt))
        fh.write(struct.pack(f"<{ns * nl}d", *rew))
        fh.write(struct.pack(f"<{len(rows)}i", *(len(r) for r in rows)))
        for labels in rows:
            fh.write(bytes(lid[lab] for lab in labels))


def main():
    args = sys.argv[1:]
    opts = {"--limit": None, "--repeat": "3"}
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    mode, machine, data = pos[0], pos[1], pos[2]
    if mode == "pycrm":
        ensure_venv()
    limit = None if opts["--limit"] is None else int(opts["--limit"])
    m = Machine(machine)
    rows, parse_s = load(data, limit, 1 if mode == "table" else int(opts["--repeat"]))
    if mode == "table":
        write_table(m, rows, pos[3])
        return
    if mode == "plain":
        work, run = rows, lambda: run_plain(m, rows)
        name = "plain-python"
    elif mode == "pycrm":
        crm, props = build_pycrm(m)
        work = [[props(lab) for lab in labels] for labels in rows]
        run = lambda: run_pycrm(crm, work)  # noqa: E731
        name = "pyrewardmachines"
    else:
        raise SystemExit(f"unknown peer {mode!r}")
    times, totals = [], None
    for _ in range(int(opts["--repeat"])):
        t0 = time.perf_counter()
        totals = run()
        times.append(time.perf_counter() - t0)
    sys.stdout.write("".join(f"{x!r}\n" for x in totals))
    steps = sum(len(r) for r in rows)
    sys.stderr.write(f"PEER {name} {len(rows)} {steps} {statistics.median(times):.6f} {parse_s:.6f}\n")


if __name__ == "__main__":
    main()
