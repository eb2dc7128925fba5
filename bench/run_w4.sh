#!/usr/bin/env bash
# W4: rubrics. N responses to travel-planning prompts (bench/gen_w4.py) × 20 criteria: ten
# rule-checked IFEval-style constraints written in the language (bench/w4_checks.reward: word
# counts, keyword and forbidden-word regexes, title, bullets, highlights, closing phrase,
# postscript, a fractional topic coverage) and ten precomputed judge verdicts (the `judge`
# column). Two normalisations of the same criteria, one spec each:
#   bench/w4_healthbench.reward   HealthBench: Σ points·met / Σ positive points, clip [0, 1]
#   bench/w4_rar.reward           Rubrics as Rewards, explicit: Σ w·c / Σ w
# each with per-tag totals in the breakdown. In one run: our interpreter and JIT (CLI end to end:
# process start, compilation, JSON in, the full breakdown out, 1 thread and all cores) beside a
# plain-Python scorer written from the papers' formulas (bench/peer_w4.py; scoring only, data in
# memory, and again with its json.loads). Before timing, the interpreter's output must equal the
# JIT's byte for byte, and every value the peer computes (score, each criterion, each tag total)
# must equal ours on every response. Responses/s count all N; medians of 3 runs.
# A spec that only decodes the input (score = len(completion)) shows the JSON floor of our figures.
#
# Usage: bench/run_w4.sh [N]   (default 10000, ~18 MB; the design's size is 100000, ~180 MB)
# Environment: REWARD_BIN=path uses that binary and skips the cargo build.
# The peer needs only python3's standard library.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
cores=$(nproc)
source bench/lib.sh
bin=$(reward_bin)
fmt_row() { # name seconds responses bytes
    awk -v name="$1" -v s="$2" -v c="$3" -v b="$4" 'BEGIN { printf "  %-50s %9.3f %11.0f %9.2f %8.0f\n", name, s, c / s, s / c * 1e6, b / s / 1e6 }'
}
python3 bench/gen_w4.py "$n" > "$work/w4.jsonl"
bytes=$(wc -c < "$work/w4.jsonl")
specs=(healthbench rar)
echo "W4 rubrics: $n responses x 20 criteria (10 rule-checked, 10 judge verdicts), $(( bytes / 1000000 )) MB of JSON Lines; $cores cores; binary $bin"
# --- agreement first
echo "agreement:"
for s in "${specs[@]}"; do
    "$bin" score "bench/w4_$s.reward" "$work/w4.jsonl" --engine jit --no-progress > "$work/$s.jit"
    "$bin" score "bench/w4_$s.reward" "$work/w4.jsonl" --engine interp --no-progress > "$work/$s.interp"
    cmp -s "$work/$s.jit" "$work/$s.interp" || { echo "W4: $s: the interpreter's output DIFFERS from the JIT's"; exit 1; }
    python3 bench/peer_w4.py score "$s" "$work/w4.jsonl" > "$work/$s.peer" 2> "$work/$s.peer.time"
    python3 bench/peer_w4.py compare "$work/$s.jit" "$work/$s.peer" "$s"
done
echo "  interpreter output = JIT output on all $n responses, both specs"
out_mb=$(( $(wc -c < "$work/healthbench.jit") / 1000000 ))
# --- timing
printf 'input { prompt_id: text, completion: text, judge: {accurate_facts: bool, answers_question: bool, actionable_steps: bool, tailored: bool, clear_structure: bool, appropriate_tone: bool, cites_official_sources: bool, invents_details: bool, unsafe_advice: bool, ignores_constraint: bool} }\nscore = len(completion)\n' > "$work/floor.reward"
echo
echo "timings (all $n responses; ours CLI end to end, writing the full breakdown: ${out_mb} MB for healthbench):"
printf '  %-50s %9s %11s %9s %8s\n' "spec / engine" "median s" "resp./s" "us/resp." "MB/s in"
x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/floor.reward" "$work/w4.jsonl" --engine jit --threads 1 --no-progress; done | median)
echo "decode only: score = len(completion)"
fmt_row "reward jit, CLI end to end, 1 thread" "$x" "$n" "$bytes"
declare -A sec=() psec=() pparse=()
for s in "${specs[@]}"; do
    echo "$s$( [ "$s" = healthbench ] && echo ' (normalize: positive, clip [0, 1])' || echo ' (normalize: total)')"
    for engine in interp jit; do
        for th in 1 "$cores"; do
            x=$(for _ in 1 2 3; do time_cmd "$bin" score "bench/w4_$s.reward" "$work/w4.jsonl" --engine "$engine" --threads "$th" --no-progress; done | median)
            sec[$s.$engine.$th]=$x
            fmt_row "reward $engine, CLI end to end, $th thread$( [ "$th" = 1 ] || echo s)" "$x" "$n" "$bytes"
        done
    done
    read -r _ _ _ _ ps pp < "$work/$s.peer.time"
    psec[$s]=$ps; pparse[$s]=$pp
    fmt_row "plain Python (scoring only, median of 3)" "$ps" "$n" "$bytes"
    fmt_row "plain Python (json.loads + scoring)" "$(echo "$ps + $pp" | bc -l)" "$n" "$bytes"
done
# --- where our time goes (healthbench, jit, 1 thread)
judge_t='judge: {accurate_facts: bool, answers_question: bool, actionable_steps: bool, tailored: bool, clear_structure: bool, appropriate_tone: bool, cites_official_sources: bool, invents_details: bool, unsafe_advice: bool, ignores_constraint: bool}'
cp bench/w4_checks.reward "$work/"
printf 'use "./w4_checks.reward"\ninput { prompt_id: text, completion: text, %s }\nscore = word_total(completion)\n' "$judge_t" > "$work/p_words.reward"
cat > "$work/p_rules.reward" <<EOF
use "./w4_checks.reward"
input { prompt_id: text, completion: text, $judge_t }
let _n = word_total(completion)
score = enough_words(_n) + short_enough(_n) + has_keywords(completion) + forbidden_word(completion)
    + has_title(completion) + (bullets(completion) >= 3) + (highlights(completion) >= 2)
    + ends_with_phrase(completion) + has_postscript(completion) + topic_coverage(completion)
EOF
cat > "$work/p_formula.reward" <<EOF
use "./w4_checks.reward"
input { prompt_id: text, completion: text, $judge_t }
let _n = word_total(completion)
let _s = 3.0 * enough_words(_n) + 2.0 * short_enough(_n) + 4.0 * has_keywords(completion)
    - 5.0 * forbidden_word(completion) + 2.0 * has_title(completion) + 2.0 * (bullets(completion) >= 3)
    + 1.0 * (highlights(completion) >= 2) + 2.0 * ends_with_phrase(completion)
    + 1.0 * has_postscript(completion) + 6.0 * topic_coverage(completion)
    + 8.0 * judge.accurate_facts + 10.0 * judge.answers_question + 5.0 * judge.actionable_steps
    + 6.0 * judge.tailored + 3.0 * judge.clear_structure + 2.0 * judge.appropriate_tone
    + 4.0 * judge.cites_official_sources - 8.0 * judge.invents_details - 10.0 * judge.unsafe_advice
    - 6.0 * judge.ignores_constraint
score = clip(_s / 61.0, 0.0, 1.0)
EOF
"$bin" score "$work/p_formula.reward" "$work/w4.jsonl" --no-progress > "$work/formula.jsonl"
python3 -c '
import json, sys
a = [json.loads(l)["score"] for l in open(sys.argv[1])]
b = [json.loads(l)["score"] for l in open(sys.argv[2])]
sys.exit(0 if a == b else 1)' "$work/formula.jsonl" "$work/healthbench.jit" || { echo "W4: the formula spec DIFFERS from the rubric"; exit 1; }
echo
echo "where our time goes (healthbench, jit, 1 thread, CLI end to end, medians of 3):"
for p in words rules formula; do
    x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/p_$p.reward" "$work/w4.jsonl" --engine jit --threads 1 --no-progress; done | median)
    case $p in
        words) label="decode + len(words(completion)) only" ;;
        rules) label="decode + the ten rule checks only" ;;
        formula) label="same scores without \`rubric\` (no breakdown)" ;;
    esac
    fmt_row "$label" "$x" "$n" "$bytes"
done
fmt_row "the rubric spec (28 values written per row)" "${sec[healthbench.jit.1]}" "$n" "$bytes"
echo
echo "ratios (responses/s):"
for s in "${specs[@]}"; do
    awk -v s="$s" -v i1="${sec[$s.interp.1]}" -v j1="${sec[$s.jit.1]}" -v iN="${sec[$s.interp.$cores]}" -v jN="${sec[$s.jit.$cores]}" \
        -v p="${psec[$s]}" -v pp="${pparse[$s]}" -v c="$cores" 'BEGIN {
        printf "  %s: jit / interp %.2fx (1 thread), %.2fx (%d threads); jit 1 thread / peer %.3gx (with its json.loads %.3gx), %d threads %.3gx; interp 1 thread / peer %.3gx\n",
            s, i1 / j1, iN / jN, c, p / j1, (p + pp) / j1, c, p / jN, p / i1
    }'
done
