#!/usr/bin/env bash
# W3: the shaping family on long rollouts. PROMPTS × PER_PROMPT completions of 500–10,000 tokens
# (bench/gen_w3.py: text and token ids, 30 % falling into a repeated loop, a `correct` flag),
# scored by bench/w3_shaping.reward: TRL's cosine-scaled length reward (std::shaping
# cosine_scaled_reward), n = 3 repetition penalties over the ids (TRL; repetition_penalty_ids)
# and over the lower-cased words (open-r1; repetition_penalty_text), DAPO's soft overlong
# punishment (soft_overlong_penalty), and open-r1's / Kimi's length reward over each prompt's
# group (a `group by prompt_id` block with kimi_length_reward and the group's min/max length).
# In one run: our interpreter and JIT (CLI end to end, 1 thread and all cores) beside TRL's own
# functions and open-r1's (re-typed) in bench/peer_w3.py (scoring only, data in memory, each
# called per prompt group as GRPOTrainer does). Before timing, the interpreter's output must
# equal the JIT's byte for byte and every term and the score must equal the peer's on every
# rollout (a difference within 1e-12 would be reported and allowed; none is expected).
# Then each term alone (a spec with that term only, JIT, 1 thread) beside the peer's function,
# and a spec that only decodes the input (the JSON floor), and `repetition_packed`: TRL's penalty
# written in the language with each 3-gram packed into one int (checked equal to TRL's first),
# which shows what `distinct` over lists (the n-grams of std::shaping) costs. Medians of 3 runs.
#
# Usage: bench/run_w3.sh [PROMPTS] [PER_PROMPT]   (default 4 × 16 = 64 rollouts, ~0.35M tokens,
#   ~3 MB; the design names no size: W1's 512 16 would be 8,192 rollouts, ~43M tokens, ~400 MB)
# Environment: REWARD_BIN=path uses that binary and skips the cargo build.
# Uses bench/.venv-trl (created on first use, as bench/oracles/trl_rewards.py does).
set -euo pipefail
cd "$(dirname "$0")/.."
prompts=${1:-4}; per=${2:-16}
n=$(( prompts * per ))
cores=$(nproc)
source bench/lib.sh
bin=$(reward_bin)
spec=bench/w3_shaping.reward
fmt_row() { # name seconds rollouts tokens
    awk -v name="$1" -v s="$2" -v c="$3" -v t="$4" 'BEGIN { printf "  %-54s %9.3f %10.0f %9.1f %9.2f\n", name, s, c / s, s / c * 1e6, t / s / 1e6 }'
}
python3 bench/gen_w3.py "$prompts" "$per" > "$work/w3.jsonl"
bytes=$(wc -c < "$work/w3.jsonl")
# --- agreement first
"$bin" score "$spec" "$work/w3.jsonl" --engine jit --no-progress > "$work/ours.jsonl"
"$bin" score "$spec" "$work/w3.jsonl" --engine interp --no-progress > "$work/interp.jsonl"
python3 bench/peer_w3.py score "$work/w3.jsonl" > "$work/peer.jsonl" 2> "$work/peer.time"
read -r _ _ _ tokens p_cos p_rep p_rept p_over p_len p_tot p_parse < <(grep '^PEER w3' "$work/peer.time")
echo "W3 shaping: $prompts prompts x $per = $n rollouts, $tokens tokens ($(( bytes / 1000000 )) MB of JSON Lines); $cores cores; binary $bin"
echo "agreement:"
cmp -s "$work/ours.jsonl" "$work/interp.jsonl" || { echo "W3: the interpreter's output DIFFERS from the JIT's"; exit 1; }
echo "  interpreter output = JIT output on all $n rollouts"
python3 bench/peer_w3.py compare "$work/ours.jsonl" "$work/peer.jsonl"
# --- timing
echo
echo "timings (all $n rollouts; ours CLI end to end, medians of 3; peer scoring only, median of 3):"
printf '  %-54s %9s %10s %9s %9s\n' "engine" "median s" "rollouts/s" "us/roll." "M tok/s"
declare -A sec=()
for engine in interp jit; do
    for th in 1 "$cores"; do
        x=$(for _ in 1 2 3; do time_cmd "$bin" score "$spec" "$work/w3.jsonl" --engine "$engine" --threads "$th" --no-progress; done | median)
        sec[$engine.$th]=$x
        fmt_row "reward $engine, all terms, CLI end to end, $th thread$( [ "$th" = 1 ] || echo s)" "$x" "$n" "$tokens"
    done
done
fmt_row "peer: TRL + open-r1, all terms (scoring only)" "$p_tot" "$n" "$tokens"
fmt_row "peer: all terms + json.loads" "$(echo "$p_tot + $p_parse" | bc -l)" "$n" "$tokens"
# --- each term alone
head='input { prompt_id: text, completion: text, completion_ids: list[int], correct: bool }'
use='use std::shaping::{cosine_scaled_reward, repetition_penalty_ids, repetition_penalty_text, soft_overlong_penalty, kimi_length_reward}'
printf '%s\n%s\nscore = len(completion) + len(completion_ids)\n' "$use" "$head" > "$work/t_floor.reward"
printf '%s\n%s\nscore = cosine_scaled_reward(correct, min(len(completion_ids), 8192), 8192, -1.0, -0.5, 0.5, 1.0)\n' "$use" "$head" > "$work/t_cosine.reward"
printf '%s\n%s\nscore = repetition_penalty_ids(completion_ids, 3, -1.0)\n' "$use" "$head" > "$work/t_repetition.reward"
printf '%s\n%s\nscore = repetition_penalty_text(completion, 3, -1.0)\n' "$use" "$head" > "$work/t_repetition_text.reward"
printf '%s\n%s\nscore = soft_overlong_penalty(len(completion_ids), 8192, 2048)\n' "$use" "$head" > "$work/t_overlong.reward"
# TRL's penalty over the ids written in the language with each 3-gram packed into one int
# (ids < 2^21), so that `distinct` hashes ints instead of comparing lists; checked equal to TRL's.
cat > "$work/t_repetition_packed.reward" <<EOF
$head
let _m = len(completion_ids) - 2
let _d = len(distinct([for i in range(max(_m, 0)): (completion_ids[i] * 4194304 + completion_ids[i + 1]) * 4194304 + completion_ids[i + 2]]))
score = if _m < 1 or _d == _m then 0.0 else (1.0 - _d / _m) * -1.0
EOF
"$bin" score "$work/t_repetition_packed.reward" "$work/w3.jsonl" --no-progress > "$work/packed.jsonl"
python3 -c '
import json, sys
a = [json.loads(l)["score"] for l in open(sys.argv[1])]
b = [json.loads(l)["repetition"] for l in open(sys.argv[2])]
sys.exit(0 if a == b else 1)' "$work/packed.jsonl" "$work/peer.jsonl" || { echo "W3: the packed repetition spec DIFFERS from TRL"; exit 1; }
printf '%s\n%s\nscore = 0.0\ngroup by prompt_id {\n    score = kimi_length_reward(correct, len(completion), min(len(completion)), max(len(completion)))\n}\n' "$use" "$head" > "$work/t_length.reward"
echo
echo "each term alone (ours: a spec with that term only, jit, 1 thread, CLI end to end; peer: that function):"
printf '  %-22s %12s %12s %12s %10s\n' term "ours s" "ours - floor" "peer s" "peer/ours"
declare -A tsec=()
for t in floor cosine repetition repetition_packed repetition_text overlong length; do
    tsec[$t]=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/t_$t.reward" "$work/w3.jsonl" --engine jit --threads 1 --no-progress; done | median)
done
for t in floor cosine repetition repetition_packed repetition_text overlong length; do
    case $t in cosine) p=$p_cos ;; repetition|repetition_packed) p=$p_rep ;; repetition_text) p=$p_rept ;; overlong) p=$p_over ;; length) p=$p_len ;; *) p="" ;; esac
    if [ "$t" = floor ]; then
        printf '  %-22s %12.3f %12s %12.4f %10s\n' "decode only" "${tsec[floor]}" "" "$p_parse" "(json.loads)"
    else
        awk -v t="$t" -v s="${tsec[$t]}" -v f="${tsec[floor]}" -v p="$p" 'BEGIN { printf "  %-22s %12.3f %12.3f %12.4f %9.3gx\n", t, s, s - f, p, p / s }'
    fi
done
echo
awk -v i1="${sec[interp.1]}" -v j1="${sec[jit.1]}" -v iN="${sec[interp.$cores]}" -v jN="${sec[jit.$cores]}" -v c="$cores" \
    -v p="$p_tot" -v pp="$p_parse" 'BEGIN {
    printf "ratios (rollouts/s):\n"
    printf "  jit / interp: %.2fx (1 thread), %.2fx (%d threads)\n", i1 / j1, iN / jN, c
    printf "  jit 1 thread (end to end) / peer (scoring only): %.3gx; with its json.loads: %.3gx\n", p / j1, (p + pp) / j1
    printf "  interp 1 thread / peer: %.3gx; jit %d threads / peer (1 core): %.3gx\n", p / i1, c, p / jN
}'
