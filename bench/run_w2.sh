#!/usr/bin/env bash
# W2: GSM8K/DAPO rule scoring. Interpreter, JIT (CLI end to end), the shared library from C
# (per call and batch, single thread), and the plain-Python peer, in one run.
# Usage: bench/run_w2.sh [N] (default 100000).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
source bench/lib.sh
cargo build --release -q -p reward-cli -p reward-runtime
python3 bench/gen_gsm8k.py "$n" > "$work/w2.jsonl"
for engine in interp jit; do
    t=$(for _ in 1 2 3 4 5; do time_cmd ./target/release/reward score bench/gsm8k_dapo.reward "$work/w2.jsonl" --engine "$engine" --threads 1 --no-progress; done | median)
    printf 'reward %s (CLI end to end, 1 thread): median %.3f s = %.0f rollouts/s\n' "$engine" "$t" "$(echo "$n / $t" | bc -l)"
    eval "t_$engine=$t"
done
./target/release/reward build bench/gsm8k_dapo.reward -o "$work/libw2.so" 2>/dev/null
cc -O2 -o "$work/drive" bench/drive_so.c -DHEADER="\"$work/libw2.h\"" -L"$work" -lw2 -Wl,-rpath,"$work"
"$work/drive" "$work/w2.jsonl" 2> "$work/so.txt" > "$work/so_scores.txt"
cat "$work/so.txt"
python3 bench/peer_gsm8k.py "$work/w2.jsonl" 2> "$work/peer.txt" > "$work/peer_scores.txt"
cat "$work/peer.txt"
p=$(awk '{print $5}' "$work/peer.txt")
./target/release/reward score bench/gsm8k_dapo.reward "$work/w2.jsonl" --no-progress | python3 -c "import sys, json; [print(json.loads(l)['score']) for l in sys.stdin]" > "$work/ours.txt"
if python3 -c "import sys; a=[float(x) for x in open(sys.argv[1])]; b=[float(x) for x in open(sys.argv[2])]; sys.exit(0 if a==b else 1)" "$work/ours.txt" "$work/peer_scores.txt"; then echo "scores identical to the peer on all $n rollouts"; else echo "scores DIFFER from the peer"; fi
printf 'jit / interp: %.2fx; jit (CLI end to end) / peer (scoring only): %.1fx\n' "$(echo "$t_interp / $t_jit" | bc -l)" "$(echo "$p / $t_jit" | bc -l)"
