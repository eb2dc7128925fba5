#!/usr/bin/env bash
# W7, LTLf part: DFA construction, ours (`reward automata`, `reward check --timings`) vs ltlf2dfa
# 2.0.0 + MONA (`LTLf(formula).to_dfa()`), on two families:
#   chains   F(a1 & X F(a2 & … X F(ak))), k = 2 … 20: construction time and DFA states per k, plus
#            `reward score` on generated traces (fixed seeds) with and without the automaton,
#            checked against the expected truth first;
#   random   seeded random LTLf formulas (future operators only) over m = 2, 4, 6, 8, 10 atoms with
#            10, 20, 30 operator nodes, 4 per (m, size): states and time per formula and per cell,
#            the state counts compared (and explained when they differ: the empty trace), and our
#            truth and verdicts cross-checked against ltlf2dfa's DFA on random traces.
# All the work and the tables are in bench/w7_ltl.py (its docstring says what is measured and
# how); this wrapper provides the binary, the venv and MONA.
#
# Usage: bench/run_w7_ltl.sh [--chains-only | --random-only] [KMIN] [KMAX]
#   (default both parts, k = 2 … 20; ~10 min on 2 shared cores, most of it ltlf2dfa: the chains
#   at k ≥ 15 and MONA alone at k = 17, random formulas whose to_dfa reaches its cap)
# Environment: REWARD_BIN=path uses that binary as is; otherwise target/release/reward, rebuilt
#   (cargo build --release -p reward-cli) only when missing or older than its sources.
#   LTLF2DFA_TIMEOUT=s caps each chain's to_dfa call (default 60); W7_N / W7_T the traces scored
#   per k (default 1000 × 100).
#   Random part: W7_RANDOM_N formulas per (m, size) (default 4; formula i of a cell is the same
#   whatever N), W7_RANDOM_M (default 2,4,6,8,10), W7_RANDOM_SIZES (default 10,20,30),
#   W7_RANDOM_TIMEOUT=s caps each to_dfa call (default 20), W7_RANDOM_TRACES cross-check traces
#   per cell (default 300).
# Uses bench/.venv-ltlf2dfa (the venv of bench/oracles/ltlf_truth.py; created here if missing) and
# the `mona` binary (Debian package mona). Do not run ltlf_truth.py at the same time: ltlf2dfa
# writes its MONA input to one fixed file in its package directory.
set -euo pipefail
cd "$(dirname "$0")/.."
part=()
case "${1:-}" in
    --chains-only|--random-only) part=("$1"); shift ;;
    -*) echo "usage: bench/run_w7_ltl.sh [--chains-only | --random-only] [KMIN] [KMAX]"; exit 2 ;;
esac
kmin=${1:-2}; kmax=${2:-20}
if [ -n "${REWARD_BIN:-}" ]; then
    bin=$REWARD_BIN
else
    bin=target/release/reward
    if [ ! -x "$bin" ] || [ -n "$(find compiler runtime grammar stdlib Cargo.toml Cargo.lock \
            -newer "$bin" -type f -print -quit 2>/dev/null)" ]; then
        cargo build --release -q -p reward-cli
    fi
fi
venv=bench/.venv-ltlf2dfa
if ! "$venv/bin/python" -c 'from importlib.metadata import version; assert version("ltlf2dfa") == "2.0.0"' 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet ltlf2dfa==2.0.0
fi
command -v mona > /dev/null || { echo "run_w7_ltl.sh: ltlf2dfa needs the MONA binary: apt-get install -y mona"; exit 1; }
echo "W7 LTLf ${part[*]:-chains and random formulas}: k = $kmin … $kmax; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/w7_ltl.py --reward "$bin" --py "$venv/bin/python" --kmin "$kmin" --kmax "$kmax" \
    --timeout "${LTLF2DFA_TIMEOUT:-60}" --n "${W7_N:-1000}" --t "${W7_T:-100}" \
    --random-n "${W7_RANDOM_N:-4}" --random-m "${W7_RANDOM_M:-2,4,6,8,10}" \
    --random-sizes "${W7_RANDOM_SIZES:-10,20,30}" --random-timeout "${W7_RANDOM_TIMEOUT:-20}" \
    --random-traces "${W7_RANDOM_TRACES:-300}" ${part[@]+"${part[@]}"}
