#!/usr/bin/env python3
"""W5 workload: N trajectories of T steps of random labels for one reward machine in the text
format of the reward-machines code (tests/fixtures/reward_machines/{office,craft}/t*.txt).

Usage: gen_w5.py MACHINE.txt N T > rollouts.jsonl      (one {"labels": [...]} per line)

Each step's label is "" (nothing happened, probability 0.6) or one letter of the world drawn
uniformly: office a b c d e f g n, craft a..i (the world is guessed from the path; otherwise the
machine's own letters), as each cell of those grid worlds holds at most one object.

Why the labels are steered: uniformly random labels end most machines within a few dozen steps
(a decoration, a matching goal, or a label no edge matches), so a "1,000-step" benchmark would
time JSON parsing rather than the step loop. Up to a release step drawn per trajectory in
[0.8 T, T), a drawn label that would end the machine is redrawn (up to 20 times, then the first
label that keeps it alive, if any); after it, labels are drawn freely, so most machines end
(with or without reward) near the end and the totals vary. The stderr line says what fraction of
the steps the machine actually ran before it ended.

This file also holds the machine parser and the step semantics the peers share (imported by
peer_w5.py): at each step the first edge (in file order) of the current state whose guard holds
is taken and its reward paid; no edge matching ends the machine with reward 0; entering a
terminal state ends it (the semantics of `reward import-rm` without --compat). Deterministic:
fixed seed, no clock, no hash order.
"""
import json
import random
import re
import sys

SEED = 5
EMPTY_P = 0.6
WORLDS = {"office": "abcdefgn", "craft": "abcdefghi"}
EDGE = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*,\s*'([^']*)'\s*,\s*ConstantRewardFunction\(\s*([-+0-9.eE]+)\s*\)\s*\)")


class Machine:
    """A reward machine in the reward-machines text format (constant rewards only)."""

    def __init__(self, path):
        lines = [l.split("#", 1)[0].strip() for l in open(path, encoding="utf-8")]
        lines = [l for l in lines if l]
        self.start = int(lines[0])
        self.terminal = set(int(x) for x in re.findall(r"-?\d+", lines[1]))
        self.edges = {}  # state -> [(guard, target, reward, guard_text)] in file order
        self.letters = set()
        for l in lines[2:]:
            m = EDGE.fullmatch(l)
            if m is None:
                raise ValueError(f"{path}: cannot read edge {l!r} (only ConstantRewardFunction)")
            u, v, g, r = int(m.group(1)), int(m.group(2)), m.group(3), float(m.group(4))
            self.edges.setdefault(u, []).append((parse_guard(g), v, r, g))
            self.letters |= set(re.findall(r"[a-z]", g))
        self.world = next((w for k, w in WORLDS.items() if k in str(path)), "".join(sorted(self.letters)))

    def step(self, u, label):
        """(next state, reward); next state None when the machine has ended (terminal or no edge)."""
        s = set(label)
        for guard, v, r, _ in self.edges.get(u, []):
            if guard(s):
                return (None if v in self.terminal else v), r
        return None, 0.0


def parse_guard(text):
    """'a&!n|c': a disjunction of conjunctions of letters, each possibly negated with '!'."""
    terms = []
    for conj in text.split("|"):
        lits = []
        for lit in conj.split("&"):
            lit = lit.strip()
            neg = lit.startswith("!")
            name = lit[1:].strip() if neg else lit
            if not re.fullmatch(r"[a-z]", name):
                raise ValueError(f"guard {text!r}: unexpected literal {lit!r}")
            lits.append((name, neg))
        terms.append(lits)
    return lambda s: any(all((n in s) != neg for n, neg in lits) for lits in terms)


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    t = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    m = Machine(path)
    memo = {}

    def alive(u, lab):  # the state after this label (None: ended), memoised
        key = (u, lab)
        if key not in memo:
            memo[key] = m.step(u, lab)[0]
        return memo[key]

    rng = random.Random(SEED)
    world = list(m.world)
    candidates = [""] + world

    def draw():
        return "" if rng.random() < EMPTY_P else rng.choice(world)

    ran = 0
    out = sys.stdout
    for _ in range(n):
        release = rng.randint(int(0.8 * t), max(int(0.8 * t), t - 1))
        u = m.start
        labels = []
        for i in range(t):
            lab = draw()
            if u is not None and i < release:
                tries = 0
                while alive(u, lab) is None and tries < 20:
                    lab, tries = draw(), tries + 1
                if alive(u, lab) is None:
                    lab = next((c for c in candidates if alive(u, c) is not None), lab)
            labels.append(lab)
            if u is not None:
                ran += 1
                u = alive(u, lab)
        out.write(json.dumps({"labels": labels}, separators=(",", ":")) + "\n")
    sys.stderr.write(f"gen_w5: {path}: {n} x {t} steps, the machine ran {100.0 * ran / max(1, n * t):.1f}% of them\n")


if __name__ == "__main__":
    main()
