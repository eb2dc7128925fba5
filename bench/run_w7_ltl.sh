#!/usr/bin/env bash
# W7, LTLf part: DFA construction for the sequencing chains F(a1 & X F(a2 & … X F(ak))),
# k = 2 … 20, ours (`reward automata`, `reward check --timings`) vs ltlf2dfa 2.0.0 + MONA
# (`LTLf(formula).to_dfa()`): construction time and DFA states per k, plus `reward score` on
# generated traces (fixed seeds) with and without the automaton, checked against the expected
# truth first. All the work and the table are in bench/w7_ltl.py (its docstring says what is
# measured and how); this wrapper provides the binary, the venv and MONA.
#
# Usage: bench/run_w7_ltl.sh [KMIN] [KMAX]   (default 2 20; ~5 min, most of it ltlf2dfa at k ≥ 15)
# Environment: REWARD_BIN=path uses that binary as is; otherwise target/release/reward, rebuilt
#   (cargo build --release -p reward-cli) only when missing or older than its sources.
#   LTLF2DFA_TIMEOUT=s caps each to_dfa call (default 60); W7_N / W7_T the traces scored per k
#   (default 1000 × 100).
# Uses bench/.venv-ltlf2dfa (the venv of bench/oracles/ltlf_truth.py; created here if missing) and
# the `mona` binary (Debian package mona). Do not run ltlf_truth.py at the same time: ltlf2dfa
# writes its MONA input to one fixed file in its package directory.
set -euo pipefail
cd "$(dirname "$0")/.."
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
echo "W7 LTLf chains k = $kmin … $kmax; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/w7_ltl.py --reward "$bin" --py "$venv/bin/python" --kmin "$kmin" --kmax "$kmax" \
    --timeout "${LTLF2DFA_TIMEOUT:-60}" --n "${W7_N:-1000}" --t "${W7_T:-100}"
