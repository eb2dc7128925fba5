#!/usr/bin/env bash
# W1: the R1-zero math step. PROMPTS × PER_PROMPT completions of <think>/<answer> text (500–8,000
# words of reasoning each) with answers whose truth is known by construction (bench/gen_w1.py,
# built on the gold/near-miss forms of tests/fixtures/math_corpus.jsonl), scored with open-r1's
# GRPO reward: accuracy + format + tag count, weights 1/1/1.
#   ours: examples/open_r1_grpo.reward (std::math math_equal(final_answer(completion),
#         final_answer(solution)), std::format open_r1_format and tag_count_reward), interpreter
#         and JIT, CLI end to end (process start, compilation, JSON in and out), 1 thread and all
#         cores;
#   peer: TRL's accuracy_reward (math-verify inside) and open-r1's format/tag-count regexes
#         re-typed from open-r1's rewards.py (bench/peer_w1.py), scoring only on data in memory.
# Before timing: the interpreter's output must equal the JIT's byte for byte, and our format and
# tag-count terms must equal open-r1's on every completion (else the script stops). Accuracy is
# reported against the known truth for both checkers, with their agreement.
# math-verify takes milliseconds per completion (~3.5 ms here), so it runs once, on the first
# MV_N completions (default all N: ~30 s at the design's size); the format/tag regexes run on
# all N (median of 3), and the peer's completions/s is 1 / (format+tag seconds per completion +
# math-verify seconds per completion). Ours: medians of 3 runs over all N.
#
# Usage: bench/run_w1.sh [PROMPTS] [PER_PROMPT]   (default 64 × 16 = 1,024 completions, ~15 MB;
#   the design's size is 512 16: 8,192 completions, ~120 MB)
# Environment: REWARD_BIN=path uses that binary and skips the cargo build; MV_N=K runs
#   math-verify on the first K completions only (a mix of every category: see gen_w1.py).
# Uses bench/.venv-mathverify (created on first use, as bench/oracles/math_corpus.py does).
set -euo pipefail
cd "$(dirname "$0")/.."
prompts=${1:-64}; per=${2:-16}
n=$(( prompts * per ))
mv_n=${MV_N:-$n}
cores=$(nproc)
source bench/lib.sh
bin=$(reward_bin)
spec=examples/open_r1_grpo.reward
fmt_row() { # name seconds completions bytes
    awk -v name="$1" -v s="$2" -v c="$3" -v b="$4" 'BEGIN { printf "  %-52s %9.3f %12.0f %9.1f %9.0f\n", name, s, c / s, s / c * 1e6, b / s / 1e6 }'
}
python3 bench/gen_w1.py "$prompts" "$per" > "$work/w1.jsonl"
bytes=$(wc -c < "$work/w1.jsonl")
echo "W1 R1-zero math step: $prompts prompts x $per completions = $n ($(( bytes / 1000000 )) MB of JSON Lines); $cores cores; binary $bin"
# --- agreement first
echo "agreement:"
"$bin" score "$spec" "$work/w1.jsonl" --engine jit --no-progress > "$work/ours.jsonl"
"$bin" score "$spec" "$work/w1.jsonl" --engine interp --no-progress > "$work/interp.jsonl"
cmp -s "$work/ours.jsonl" "$work/interp.jsonl" || { echo "W1: the interpreter's output DIFFERS from the JIT's"; exit 1; }
echo "  interpreter output = JIT output on all $n completions"
python3 bench/peer_w1.py score "$work/w1.jsonl" --mv-limit "$mv_n" > "$work/peer.jsonl" 2> "$work/peer.time"
python3 bench/peer_w1.py compare "$work/w1.jsonl" "$work/ours.jsonl" "$work/peer.jsonl"
read -r _ _ pn pfmt pk pmv pparse < <(grep '^PEER w1' "$work/peer.time")
# --- timing
printf 'input { completion: text }\nscore = len(completion)\n' > "$work/floor.reward"
echo
echo "timings (ours: all $n completions, medians of 3; peer: format+tag on $pn (median of 3), math-verify once on $pk):"
printf '  %-52s %9s %12s %9s %9s\n' engine "median s" "compl./s" "us/compl." "MB/s"
declare -A sec=()
for engine in interp jit; do
    for th in 1 "$cores"; do
        s=$(for _ in 1 2 3; do time_cmd "$bin" score "$spec" "$work/w1.jsonl" --engine "$engine" --threads "$th" --no-progress; done | median)
        sec[$engine.$th]=$s
        fmt_row "reward $engine, CLI end to end, $th thread$( [ "$th" = 1 ] || echo s)" "$s" "$n" "$bytes"
    done
done
x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/floor.reward" "$work/w1.jsonl" --engine jit --threads 1 --no-progress; done | median)
fmt_row "reward jit, decode only: score = len(completion)" "$x" "$n" "$bytes"
peer_s=$(echo "($pfmt / $pn + $pmv / $pk) * $n" | bc -l)   # the peer's time for all n, per-item costs added
fmt_row "peer: open-r1 format + tag count (regexes)" "$pfmt" "$pn" "$bytes"
fmt_row "peer: TRL accuracy_reward (math-verify), $( [ "$pk" = "$n" ] && echo all || echo first) $pk" "$pmv" "$pk" "$(( bytes * pk / n ))"
fmt_row "peer: all three (scoring only)" "$peer_s" "$n" "$bytes"
fmt_row "peer: all three + json.loads" "$(echo "$peer_s + $pparse" | bc -l)" "$n" "$bytes"
echo
awk -v i1="${sec[interp.1]}" -v j1="${sec[jit.1]}" -v iN="${sec[interp.$cores]}" -v jN="${sec[jit.$cores]}" -v c="$cores" \
    -v p="$peer_s" -v pp="$pparse" -v pf="$pfmt" -v pn="$pn" -v n="$n" 'BEGIN {
    printf "ratios (completions/s):\n"
    printf "  jit / interp: %.2fx (1 thread), %.2fx (%d threads)\n", i1 / j1, iN / jN, c
    printf "  jit 1 thread (end to end) / peer (scoring only): %.3gx; interp 1 thread / peer: %.3gx\n", p / j1, p / i1
    printf "  jit 1 thread / peer with its json.loads: %.3gx (both from the JSON text)\n", (p + pp) / j1
    printf "  jit %d threads / peer (1 core): %.3gx\n", c, p / jN
    printf "  jit 1 thread (all three terms) / the peer'"'"'s format + tag count alone: %.3gx\n", pf / pn * n / j1
}'
