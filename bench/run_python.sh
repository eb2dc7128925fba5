#!/usr/bin/env bash
# Python package overhead (issue: Python), all in one run on the same rows: W1 R1 rollouts
# (bench/gen_w1.py) scored with examples/open_r1_grpo.reward by
#   - the in-process Rust API (Spec::score_batch on decoded rows: the baseline),
#   - the Python package: a batch of 1 (per-call overhead), of N as a list of dicts and as a
#     pyarrow Table, and a trivial spec (per-row overhead),
#   - `reward score` (the CLI, end to end), a Ray Data job with 2 actors,
#   - TRL's accuracy_reward (math-verify) + open-r1's format and tag count (bench/peer_w1.py).
# Usage: bench/run_python.sh [PROMPTS] [PER_PROMPT] [THREADS] (default 512 16 1: 8,192 rows).
# Builds the package into its own virtualenv (bench/.venv-python).
set -euo pipefail
cd "$(dirname "$0")/.."
prompts=${1:-512}; per=${2:-16}; threads=${3:-1}
source bench/lib.sh
spec=examples/open_r1_grpo.reward
cargo build --release -q -p reward-cli
cargo build --release -q -p reward-compiler --example api_bench
venv=bench/.venv-python
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q ./python pyarrow "ray[data]"
python3 bench/gen_w1.py "$prompts" "$per" > "$work/rows.jsonl"
./target/release/examples/api_bench "$spec" "$work/rows.jsonl" "$threads"
"$venv/bin/python" bench/py_overhead.py "$spec" "$work/rows.jsonl" "$threads"
# The peer, on the first 512 rollouts for math-verify (milliseconds each).
python3 bench/peer_w1.py score "$work/rows.jsonl" --mv-limit 512 > /dev/null 2> "$work/peer.time"
read -r _ _ pn pfmt pk pmv _ < <(grep '^PEER w1' "$work/peer.time")
awk -v n="$pn" -v f="$pfmt" -v k="$pk" -v m="$pmv" 'BEGIN {
    printf "peer (TRL accuracy_reward + open-r1 format/tag count, 1 core): %.2f us/row (format+tag %.2f, math-verify %.1f)\n",
        (f / n + m / k) * 1e6, f / n * 1e6, m / k * 1e6 }'
