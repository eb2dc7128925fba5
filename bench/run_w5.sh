#!/usr/bin/env bash
# W5: reward machines (office / craft, imported from tests/fixtures/reward_machines with
# `reward import-rm`) on N trajectories × T steps of random labels (bench/gen_w5.py: labels
# steered away from ending the machine until ~0.8–1 T, so the step loop runs, not just JSON).
# Per machine, in one run: our interpreter and JIT (CLI end to end, 1 thread and all cores), the
# shared library's batch call from C (1 thread), the peers pyrewardmachines (PyPI, stepped with
# its own `transition`) and a plain-Python memoised step loop (bench/peer_w5.py, scoring only,
# labels already in memory), and a bare C table-lookup loop over pre-tokenised labels (the
# limit, bench/w5_loop.c), and our JIT on a spec that only decodes the labels (the JSON floor
# inside the CLI figures). Per-trajectory totals of every engine are checked identical before
# anything is timed. Steps/s count every input step (N × T); medians of 3 runs.
#
# Usage: bench/run_w5.sh [N] [T] [MACHINE...]
#   default 512 × 1000 on office/t3 office/t4 craft/t10; the design's size is 4096 1000.
#   MACHINE: office/t1 … office/t4, craft/t1 … craft/t10, or `all`.
# Environment: REWARD_BIN=path uses that binary and skips the cargo build (REWARD_SO=0 skips the
#   shared-library row, which needs libreward_runtime.a beside the binary); PYCRM_N=K times
#   pyrewardmachines on the first K trajectories only (default min(N, 256): ~0.3M steps/s).
# The first run creates bench/.venv-rm (pyrewardmachines without its RL dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-512}; t=${2:-1000}
shift $(( $# < 2 ? $# : 2 ))
machines=("$@")
[ ${#machines[@]} -eq 0 ] && machines=(office/t3 office/t4 craft/t10)
if [ "${machines[0]}" = all ]; then
    machines=(office/t{1..4} craft/t{1..10})
fi
pycrm_n=${PYCRM_N:-$(( n < 256 ? n : 256 ))}
cores=$(nproc)
source bench/lib.sh
bin=$(reward_bin -p reward-runtime)
cc -O2 -o "$work/w5_loop" bench/w5_loop.c
# The decoding floor: the same input, read and counted, no machine.
printf 'input {\n    labels: list[text]\n}\nscore = len(labels)\n' > "$work/floor.reward"
# same A B LABEL: the floats in B equal the first len(B) floats of A (else stop).
same() {
    python3 - "$1" "$2" <<'EOF' || { echo "W5: totals of $3 DIFFER from ours ($2)"; exit 1; }
import sys
a = [float(x) for x in open(sys.argv[1])]
b = [float(x) for x in open(sys.argv[2])]
sys.exit(0 if b and a[:len(b)] == b else 1)
EOF
}
fmt_row() { # name seconds steps: prints the row with M steps/s and ns/step
    awk -v name="$1" -v s="$2" -v st="$3" 'BEGIN { printf "  %-46s %10.3f %10.2f %9.2f\n", name, s, st / s / 1e6, s / st * 1e9 }'
}
echo "W5 reward machines: $n trajectories x $t steps each; $cores cores; binary $bin"
for m in "${machines[@]}"; do
    src=tests/fixtures/reward_machines/$m.txt
    tag=${m//\//_}
    "$bin" import-rm "$src" -o "$work/$tag.reward"
    python3 bench/gen_w5.py "$src" "$n" "$t" > "$work/$tag.jsonl" 2> "$work/gen.txt"
    ran=$(sed -n 's/.*ran \([0-9.]*\)%.*/\1/p' "$work/gen.txt")
    steps=$(( n * t ))
    # --- agreement first
    "$bin" score "$work/$tag.reward" "$work/$tag.jsonl" --engine interp --no-progress | scores > "$work/interp.txt"
    "$bin" score "$work/$tag.reward" "$work/$tag.jsonl" --engine jit --no-progress | scores > "$work/ours.txt"
    same "$work/ours.txt" "$work/interp.txt" "the interpreter"
    python3 bench/peer_w5.py plain "$src" "$work/$tag.jsonl" > "$work/plain.txt" 2> "$work/plain.time"
    same "$work/ours.txt" "$work/plain.txt" "the plain-Python loop"
    python3 bench/peer_w5.py pycrm "$src" "$work/$tag.jsonl" --limit "$pycrm_n" > "$work/pycrm.txt" 2> "$work/pycrm.time"
    same "$work/ours.txt" "$work/pycrm.txt" "pyrewardmachines"
    python3 bench/peer_w5.py table "$src" "$work/$tag.jsonl" "$work/$tag.bin"
    "$work/w5_loop" "$work/$tag.bin" > "$work/limit.txt" 2> "$work/limit.time"
    same "$work/ours.txt" "$work/limit.txt" "the bare C loop"
    so_ok=0
    if [ "${REWARD_SO:-1}" != 0 ] && "$bin" build "$work/$tag.reward" -o "$work/libw5.so" > /dev/null 2>&1; then
        cc -O2 -o "$work/drive" bench/drive_so.c -DHEADER="\"$work/libw5.h\"" -L"$work" -lw5 -Wl,-rpath,"$work"
        if "$work/drive" "$work/$tag.jsonl" > "$work/so.txt" 2> /dev/null; then
            same "$work/ours.txt" "$work/so.txt" "the shared library (a stale libreward_runtime.a? REWARD_SO=0 skips it)"
            so_ok=1
        else
            echo "W5: the shared-library driver failed; no .so row"
        fi
    fi
    rewarded=$(awk '$1 != 0 {c++} END {print c + 0}' "$work/ours.txt")
    echo
    echo "$m ($(grep -c '^(' "$src") edges): $steps steps, the machine runs ${ran}% of them; $rewarded/$n trajectories earn a reward;"
    echo "  totals identical: interpreter, JIT, plain Python, pyrewardmachines (first $pycrm_n), bare C loop$( [ $so_ok = 1 ] && echo ', shared library')"
    printf '  %-46s %10s %10s %9s\n' engine "median s" "M steps/s" "ns/step"
    declare -A sec=()
    for engine in interp jit; do
        for th in 1 "$cores"; do
            s=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/$tag.reward" "$work/$tag.jsonl" --engine "$engine" --threads "$th" --no-progress; done | median)
            sec[$engine.$th]=$s
            fmt_row "reward $engine, CLI end to end, $th thread$( [ "$th" = 1 ] || echo s)" "$s" "$steps"
        done
    done
    x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/floor.reward" "$work/$tag.jsonl" --engine jit --threads 1 --no-progress; done | median)
    fmt_row "reward jit, decode only: score = len(labels)" "$x" "$steps"
    if [ $so_ok = 1 ]; then
        rate=$(for _ in 1 2 3; do "$work/drive" "$work/$tag.jsonl" 2>&1 > /dev/null | sed -n 's/^so batch: .* = \([0-9]*\) rollouts\/s/\1/p'; done | median)
        sec[so]=$(echo "$n / $rate" | bc -l)
        fmt_row "reward .so batch from C, 1 thread" "${sec[so]}" "$steps"
    fi
    read -r _ _ _ psteps psec pparse < "$work/plain.time"
    fmt_row "plain Python memo loop (scoring only)" "$psec" "$psteps"
    fmt_row "plain Python memo loop (json.loads + scoring)" "$(echo "$psec + $pparse" | bc -l)" "$psteps"
    read -r _ _ _ ysteps ysec yparse < <(grep "^PEER" "$work/pycrm.time")
    fmt_row "pyrewardmachines (first $pycrm_n, scoring only)" "$ysec" "$ysteps"
    read -r _ lsteps lsec < "$work/limit.time"
    fmt_row "bare C table loop (limit)" "$lsec" "$lsteps"
    # ratios of steps/s
    awk -v st="$steps" -v ji1="${sec[interp.1]}" -v jj1="${sec[jit.1]}" -v jin="${sec[interp.$cores]}" -v jjn="${sec[jit.$cores]}" \
        -v so="${sec[so]:-}" -v pst="$psteps" -v ps="$psec" -v pp="$pparse" -v yst="$ysteps" -v ys="$ysec" -v lst="$lsteps" -v ls="$lsec" -v c="$cores" 'BEGIN {
        plain = pst / ps; pycrm = yst / ys; lim = lst / ls
        printf "  jit / interp: %.2fx (1 thread), %.2fx (%d threads)\n", ji1 / jj1, jin / jjn, c
        printf "  jit 1 thread / plain Python: %.3gx; / pyrewardmachines: %.3gx; %d threads: %.3gx, %.3gx\n", st / jj1 / plain, st / jj1 / pycrm, c, st / jjn / plain, st / jjn / pycrm
        printf "  jit 1 thread / plain Python with its json.loads: %.3gx (both end to end from the JSON text)\n", st / jj1 / (pst / (ps + pp))
        printf "  interp 1 thread / plain Python: %.3gx; / pyrewardmachines: %.3gx\n", st / ji1 / plain, st / ji1 / pycrm
        if (so != "") printf "  .so batch / plain Python: %.3gx; / pyrewardmachines: %.3gx; limit / .so: %.3gx\n", st / so / plain, st / so / pycrm, lim / (st / so)
        printf "  limit / jit 1 thread: %.3gx (bare loop %.2f ns/step vs jit %.1f ns/step end to end)\n", lim / (st / jj1), 1e9 / lim, jj1 / st * 1e9
    }'
    unset sec
done
