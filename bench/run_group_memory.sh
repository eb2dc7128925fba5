#!/usr/bin/env bash
# Peak memory of `reward score` on a GRPO-style `group by` spec (bench/grpo_group.reward:
# groups of 16 rollouts per prompt) against the size of its input. Usage:
# bench/run_group_memory.sh [N] (default 50000 rollouts, about 200 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50000}
source bench/lib.sh
cargo build --release -q -p reward-cli
python3 bench/gen_r1.py "$n" > "$work/rows.jsonl"
bytes=$(wc -c < "$work/rows.jsonl")
for threads in 1 2; do
    /usr/bin/time -f "%M %e" -o "$work/time" ./target/release/reward score bench/grpo_group.reward \
        "$work/rows.jsonl" --threads "$threads" --no-progress -o "$work/out.jsonl"
    read -r kb secs < "$work/time"
    printf 'threads %d: input %.0f MiB, peak RSS %.0f MiB (%.2fx the input), %.1f s, %d output rows\n' \
        "$threads" "$(echo "$bytes / 1048576" | bc -l)" "$(echo "$kb / 1024" | bc -l)" \
        "$(echo "$kb * 1024 / $bytes" | bc -l)" "$secs" "$(wc -l < "$work/out.jsonl")"
done
