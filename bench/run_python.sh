#!/usr/bin/env bash
# Python package overhead (issue: Python): batch of 1 and of N R1 rollouts from a list of
# dicts and from a pyarrow Table, beside `reward score` on the same rows in the same run.
# Usage: bench/run_python.sh [N] [THREADS] (defaults 8192, 1). Builds the package into its
# own virtualenv (bench/.venv-python).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8192}
threads=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p reward-cli
venv=bench/.venv-python
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q ./python pyarrow
python3 bench/gen_r1.py "$n" > "$work/r1.jsonl"
"$venv/bin/python" bench/py_overhead.py "$work/r1.jsonl" "$threads"
