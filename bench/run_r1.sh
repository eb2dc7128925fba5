#!/usr/bin/env bash
# W1-lite: the interpreter's rollouts per second on the R1-zero example, beside a plain-Python
# peer of the same reward, in one run. Usage: bench/run_r1.sh [N] (default 8192).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-8192}
source bench/lib.sh
cargo build --release -q -p reward-cli
python3 bench/gen_r1.py "$n" > "$work/r1.jsonl"
bytes=$(wc -c < "$work/r1.jsonl")
echo "workload: $n rollouts, $((bytes / 1024 / 1024)) MiB"
time_cmd() { # prints seconds for one run of "$@"
    local s e
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    echo "$e - $s" | bc -l
}
for engine in interp jit; do
    for threads in 1 2; do
        t=$(for _ in 1 2 3 4 5; do time_cmd ./target/release/reward score examples/r1_zero.reward "$work/r1.jsonl" --engine "$engine" --threads "$threads" --no-progress; done | median)
        printf 'reward (%s, CLI end to end, %d thread%s): median %.3f s = %.0f rollouts/s, %.0f MiB/s\n' "$engine" "$threads" "$([ "$threads" = 1 ] && echo "" || echo s)" "$t" "$(echo "$n / $t" | bc -l)" "$(echo "$bytes / 1048576 / $t" | bc -l)"
        eval "t_${engine}_$threads=$t"
    done
done
t1=$t_jit_1
p=$(for _ in 1 2 3; do python3 bench/peer_r1.py "$work/r1.jsonl" 2>&1 >/dev/null | awk '{print $5}'; done | median)
printf 'peer (plain Python, scoring only, 1 core): median %.3f s = %.0f rollouts/s\n' "$p" "$(echo "$n / $p" | bc -l)"
printf 'ratio reward jit (1 thread, end to end) / peer (scoring only): %.1fx\n' "$(echo "$p / $t1" | bc -l)"
printf 'ratio jit / interp (1 thread): %.2fx faster\n' "$(echo "$t_interp_1 / $t_jit_1" | bc -l)"
cat_t=$(for _ in 1 2 3; do time_cmd cat "$work/r1.jsonl"; done | median)
printf 'limit: cat of the input: %.3f s = %.0f MiB/s\n' "$cat_t" "$(echo "$bytes / 1048576 / $cat_t" | bc -l)"
