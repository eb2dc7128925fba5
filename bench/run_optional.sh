#!/usr/bin/env bash
# Traces whose steps leave optional fields out, scored by `reward score --threads 1` from JSON
# Lines: examples/carl_driving.reward on CARLA-like steps (14 fields, 12 optional, read with
# `??`, `is_some` and by index `steps[i].f`) and examples/robot_reach_avoid.reward (`bumped:
# bool?` in its formulas), bench/gen_optional.py; and bench/w6_optional.reward beside
# bench/w6_safe.reward on the W6 trajectories (the same formula, the flag optional or not). In
# one run: the JIT and the reference interpreter (JIT ÷ interpreter), and a spec with the same
# input that only decodes the steps (`score = float(len(steps))`): the JSON floor, and what the
# scoring costs beyond it. Outputs of both engines are checked identical first. Medians of 5.
#
# Usage: bench/run_optional.sh [N] [T]   (default 100 × 2000 CaRL steps, 100 × 10000 robot and
#   W6 steps; N and T, when given, set all three)
# Environment: REWARD_BIN=path uses that binary and skips the cargo build.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bin=$(reward_bin)
run() { for _ in 1 2 3 4 5; do time_cmd "$bin" score "$@" --threads 1 --no-progress; done | median; }
# The spec's input block, with a score that only decodes the rows.
floor_of() {
    awk '/^input \{/ {on = 1} on {print} on && /^\}/ {exit}' "$1"
    echo 'score = float(len(steps))'
}
row() { # name spec data
    local name=$1 spec=$2 data=$3
    "$bin" score "$spec" "$data" --engine jit --no-progress > "$work/jit.txt"
    "$bin" score "$spec" "$data" --engine interp --no-progress > "$work/interp.txt"
    cmp -s "$work/jit.txt" "$work/interp.txt" || { echo "$name: the JIT and the interpreter DIFFER"; exit 1; }
    floor_of "$spec" > "$work/floor.reward"
    local jit interp floor
    jit=$(run "$spec" "$data" --engine jit)
    interp=$(run "$spec" "$data" --engine interp)
    floor=$(run "$work/floor.reward" "$data")
    awk -v n="$name" -v j="$jit" -v i="$interp" -v f="$floor" -v mb="$(du -m "$data" | cut -f1)" 'BEGIN {
        printf "  %-44s %4d MB  JIT %8.1f ms  interpreter %8.1f ms  decode only %7.1f ms  JIT / interp %5.2fx  beyond decoding: JIT %7.1f ms, interp %7.1f ms\n",
            n, mb, j * 1e3, i * 1e3, f * 1e3, i / j, (j - f) * 1e3, (i - f) * 1e3 }'
}
nc=${1:-100}; tc=${2:-2000}; nr=${1:-100}; tr=${2:-10000}
python3 bench/gen_optional.py carl "$nc" "$tc" > "$work/carl.jsonl"
python3 bench/gen_optional.py robot "$nr" "$tr" > "$work/robot.jsonl"
python3 bench/gen_w6.py "$nr" "$tr" > "$work/w6.jsonl"
echo "optional fields of steps, reward score --threads 1 from JSON Lines; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); binary $bin"
row "carl_driving ($nc x $tc)" examples/carl_driving.reward "$work/carl.jsonl"
row "robot_reach_avoid ($nr x $tr)" examples/robot_reach_avoid.reward "$work/robot.jsonl"
row "w6_optional, collided: bool? ($nr x $tr)" bench/w6_optional.reward "$work/w6.jsonl"
row "w6_safe, collided: bool (same data)" bench/w6_safe.reward "$work/w6.jsonl"
