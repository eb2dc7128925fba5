#!/usr/bin/env bash
# JIT ÷ interpreter on a numeric trajectory workload (steps/s), in one run.
# Usage: bench/run_steps.sh [N] [T] (default 2000 trajectories × 500 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}; t=${2:-500}
source bench/lib.sh
cargo build --release -q -p reward-cli
python3 bench/gen_steps.py "$n" "$t" > "$work/steps.jsonl"
for engine in interp jit; do
    tt=$(for _ in 1 2 3 4 5; do time_cmd ./target/release/reward score bench/steps.reward "$work/steps.jsonl" --engine "$engine" --threads 1 --no-progress; done | median)
    printf '%s (CLI end to end, 1 thread): median %.3f s = %.1f M steps/s\n' "$engine" "$tt" "$(echo "$n * $t / $tt / 1000000" | bc -l)"
    eval "t_$engine=$tt"
done
printf 'jit / interp: %.2fx faster end to end\n' "$(echo "$t_interp / $t_jit" | bc -l)"
