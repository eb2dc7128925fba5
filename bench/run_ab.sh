#!/usr/bin/env bash
# A/B of two `reward` binaries on the data-path workloads, in one run, the binaries alternated:
# W1 (R1 text, examples/open_r1_grpo.reward), W5 (a reward machine over label traces, office/t3
# imported with `reward import-rm`) and W6 (LTLf over robot trajectories, bench/w6_safe.reward
# and bench/w6_window.reward), each CLI end to end with --threads $THREADS (default 1; `THREADS=2`
# on two cores is the end-to-end run of a user with the default). Outputs must be identical
# between the binaries before anything is timed. Prints per workload the median wall and user
# time of each binary, their ratio, ns/step (W5/W6) or MB/s (W1), and `cat` of the same file as
# the memory-read limit.
#
# Usage: bench/run_ab.sh OLD_BIN NEW_BIN [RUNS]
#   e.g. build the old binary in a worktree of an earlier commit:
#     git worktree add /tmp/old <rev> && (cd /tmp/old && cargo build --release -p reward-cli)
#     bench/run_ab.sh /tmp/old/target/release/reward target/release/reward
# Sizes: W1_PROMPTS × 16 completions (default 1024: ~265 MB), W5 W5_N × 1000 steps (default
# 4096), W6 W6_N × 10000 steps (default 200). The old binary must accept the specs: W1_SPEC=path
# gives the W1 spec (e.g. `git show <rev>:examples/open_r1_grpo.reward > /tmp/or1.reward` when
# the example has syntax newer than OLD_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1; new=$2; runs=${3:-5}; threads=${THREADS:-1}
source bench/lib.sh
w1_prompts=${W1_PROMPTS:-1024}; w5_n=${W5_N:-4096}; w6_n=${W6_N:-200}
w1_spec=${W1_SPEC:-examples/open_r1_grpo.reward}
python3 bench/gen_w1.py "$w1_prompts" 16 > "$work/w1.jsonl" 2> /dev/null
src=tests/fixtures/reward_machines/office/t3.txt
"$new" import-rm "$src" -o "$work/t3.reward"
python3 bench/gen_w5.py "$src" "$w5_n" 1000 > "$work/w5.jsonl" 2> /dev/null
python3 bench/gen_w6.py "$w6_n" 10000 > "$work/w6.jsonl" 2> /dev/null
# times BIN SPEC INPUT: prints "wall user" of one run.
times() {
    /usr/bin/time -f "%e %U" -o "$work/t" "$1" score "$2" "$3" --threads "$threads" --no-progress -o "$work/out" > /dev/null
    cat "$work/t"
}
echo "A/B: old $old, new $new; $runs runs each, alternated; --threads $threads; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-22s %9s %9s %9s %9s %8s %14s\n' workload "old wall" "new wall" "old user" "new user" "old/new" "new rate"
row() { # name spec input steps-or-empty
    local name=$1 spec=$2 input=$3 steps=$4
    "$old" score "$spec" "$input" --threads "$threads" --no-progress -o "$work/a.jsonl"
    "$new" score "$spec" "$input" --threads "$threads" --no-progress -o "$work/b.jsonl"
    cmp -s "$work/a.jsonl" "$work/b.jsonl" || { echo "$name: the binaries' outputs DIFFER"; exit 1; }
    : > "$work/old"; : > "$work/new"
    for _ in $(seq "$runs"); do
        times "$old" "$spec" "$input" >> "$work/old"
        times "$new" "$spec" "$input" >> "$work/new"
    done
    local ow nw ou nu
    ow=$(cut -d' ' -f1 "$work/old" | median); nw=$(cut -d' ' -f1 "$work/new" | median)
    ou=$(cut -d' ' -f2 "$work/old" | median); nu=$(cut -d' ' -f2 "$work/new" | median)
    local rate
    if [ -n "$steps" ]; then
        rate=$(awk -v s="$nw" -v n="$steps" 'BEGIN { printf "%.1f ns/step", s / n * 1e9 }')
    else
        rate=$(awk -v s="$nw" -v b="$(stat -c %s "$input")" 'BEGIN { printf "%.0f MB/s", b / s / 1e6 }')
    fi
    last_new=$nw
    awk -v n="$name" -v ow="$ow" -v nw="$nw" -v ou="$ou" -v nu="$nu" -v r="$rate" \
        'BEGIN { printf "  %-22s %9.3f %9.3f %9.3f %9.3f %7.2fx %14s\n", n, ow, nw, ou, nu, ow / nw, r }'
}
row "W1 open-r1 (text)" "$w1_spec" "$work/w1.jsonl" ""
w1_new=$last_new
row "W5 office/t3 (labels)" "$work/t3.reward" "$work/w5.jsonl" $((w5_n * 1000))
row "W6 safe (ltl)" bench/w6_safe.reward "$work/w6.jsonl" $((w6_n * 10000))
row "W6 window (ltl)" bench/w6_window.reward "$work/w6.jsonl" $((w6_n * 10000))
for f in w1 w5 w6; do
    c=$(for _ in $(seq "$runs"); do s=$(date +%s.%N); cat "$work/$f.jsonl" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; done | median)
    awk -v f="$f" -v c="$c" -v b="$(stat -c %s "$work/$f.jsonl")" 'BEGIN { printf "  cat %s.jsonl: %.3f s (%.0f MB/s), the read limit\n", f, c, b / c / 1e6 }'
    if [ "$f" = w1 ]; then
        awk -v n="$w1_new" -v c="$c" 'BEGIN { printf "  W1 new / cat: %.1fx (target: within 5x)\n", n / c }'
    fi
done
