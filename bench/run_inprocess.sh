#!/usr/bin/env bash
# W5 and W6 scored IN PROCESS by the Python package from columnar data (issue 12, "columnar
# input in process"), beside the CLI from JSON Lines, the Python peers and the bare C loops, in
# one run. The trajectories are a pyarrow Table already in memory (W5 `labels: list<string>`,
# W6 `steps: list<struct<x: double, y: double, collided: bool>>`) passed to `Reward.score`
# (the package reads it through the Arrow C stream interface), compiled with threads=1; the
# list -> Table conversion is timed apart and not in the figure (bench/inprocess.py). Two more
# in-process rows say where the time goes: the same rows as JSON Lines text
# (`Reward.score_jsonl`, no process start), and both inputs again with a spec that only reads
# them (`score = len(labels)` / `len(steps)`): the decoding floor under each figure.
#   W5: reward machines office/t3, office/t4, craft/t10 (`reward import-rm` of
#       tests/fixtures/reward_machines) on N × T labels of bench/gen_w5.py. Beside: `reward
#       score --threads 1` (CLI end to end from JSON Lines, and from a Parquet file of the same
#       Table), the plain-Python memo loop (bench/peer_w5.py plain, scoring only, and with its
#       json.loads), the bare C table loop (bench/w5_loop.c on `peer_w5.py table`, the limit).
#   W6: bench/w6_safe.reward on N × T robot steps of bench/gen_w6.py (and, after its table,
#       bench/w6_window.reward, bench/w6_past.reward, bench/w6_until.reward,
#       bench/w6_rewarded.reward and bench/w6_machine.reward in process). Beside: the CLI as for
#       W5, flloat (truth) and rtamt (robustness) on the first PEER_N trajectories
#       (bench/peer_w6.py, scoring only), the bare C loops (bench/w6_loop.c, on its own
#       pseudo-random data of the same N × T shape: it takes no input, so its results are not
#       compared): the truth alone over precomputed booleans, and the same work as the spec
#       (truth and robustness from x, y and collided), which the 5× target is measured against.
# Both parts also time the reference interpreter in process (one run), for JIT / interpreter.
# Before anything is timed, the in-process scores must equal, exactly, the CLI's (JSON Lines
# and Parquet), the plain-Python loop's and the bare C loop's (W5), rtamt's robustness and
# flloat's truth (W6, first PEER_N). Medians of 3 runs; ns/step and M steps/s count every
# input step (N × T), also the steps after a W5 machine has ended.
#
# Usage: bench/run_inprocess.sh [N] [T]
#   default 512 × 1000 for W5 and 64 × 10000 for W6; N and T, when given, set both.
# Environment: REWARD_BIN=path times that CLI binary and skips its cargo build (the package is
#   always built from this tree into bench/.venv-python, as bench/run_python.sh does);
#   W5_MACHINES="office/t3 office/t4 craft/t10"; PEER_N=K (default min(N, 20)); W6_PEERS=0 skips
#   flloat and rtamt (their venvs bench/.venv-flloat and bench/.venv-rtamt are created on first
#   use); ONLY=w5 or ONLY=w6 runs one part.
set -euo pipefail
cd "$(dirname "$0")/.."
# numpy's OpenBLAS threads (pyarrow imports numpy) spin after use; on a 2-core machine they
# took the second core from the worker and doubled some medians. Our figures use one thread.
export OPENBLAS_NUM_THREADS=1
n5=${1:-512}; t5=${2:-1000}
n6=${1:-64}; t6=${2:-10000}
machines=(${W5_MACHINES:-office/t3 office/t4 craft/t10})
peer_n=${PEER_N:-$(( n6 < 20 ? n6 : 20 ))}
only=${ONLY:-}
source bench/lib.sh
bin=$(reward_bin)
# The package, built from this tree into its venv (the venv and install of bench/run_python.sh).
venv=bench/.venv-python
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q ./python pyarrow
py="$venv/bin/python"
fmt_row() { # name seconds steps
    awk -v name="$1" -v s="$2" -v st="$3" 'BEGIN { printf "  %-52s %10.4g %10.2f %10.2f\n", name, s, st / s / 1e6, s / st * 1e9 }'
}
header() { printf '  %-52s %10s %10s %10s\n' engine "median s" "M steps/s" "ns/step"; }
# cli SPEC INPUT: the CLI's scores, one per line
cli() { "$bin" score "$1" "$2" --engine jit --threads 1 --no-progress | scores; }
# parquet_agrees LABEL SPEC PARQUET ROWS: the CLI's scores from the Parquet file equal its
# scores from JSON Lines ($work/cli.txt), or the run stops.
parquet_agrees() {
    cli "$2" "$3" > "$work/pq.txt"
    cmp -s "$work/cli.txt" "$work/pq.txt" || { echo "$1: the CLI's scores from Parquet DIFFER from JSON Lines"; exit 1; }
    echo "  the CLI from Parquet = the CLI from JSON Lines on all $4 rows"
}
cli_time() { for _ in 1 2 3; do time_cmd "$bin" score "$1" "$2" --engine jit --threads 1 --no-progress; done | median; }
echo "in process from Arrow vs CLI, peers and bare loops: 1 thread; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); binary $bin, package $("$py" -c 'import reward, os; print(os.path.dirname(reward.__file__))')"

if [ "$only" != w6 ]; then
    cc -O2 -o "$work/w5_loop" bench/w5_loop.c
    for m in "${machines[@]}"; do
        src=tests/fixtures/reward_machines/$m.txt
        tag=${m//\//_}
        "$bin" import-rm "$src" -o "$work/$tag.reward"
        python3 bench/gen_w5.py "$src" "$n5" "$t5" > "$work/$tag.jsonl" 2> /dev/null
        steps=$(( n5 * t5 ))
        echo
        echo "W5 $m: $n5 x $t5 = $steps steps ($(du -h "$work/$tag.jsonl" | cut -f1) of JSON Lines)"
        # --- agreement first
        cli "$work/$tag.reward" "$work/$tag.jsonl" > "$work/cli.txt"
        python3 bench/peer_w5.py plain "$src" "$work/$tag.jsonl" > "$work/plain.txt" 2> "$work/plain.time"
        python3 bench/peer_w5.py table "$src" "$work/$tag.jsonl" "$work/$tag.bin"
        "$work/w5_loop" "$work/$tag.bin" 3 > "$work/limit.txt" 2> "$work/limit.time"
        "$py" bench/inprocess.py w5 "$work/$tag.reward" "$work/$tag.jsonl" --parquet "$work/$tag.parquet" \
            --same "the CLI from JSON Lines=$work/cli.txt" --same "the plain-Python loop=$work/plain.txt" \
            --same "the bare C loop=$work/limit.txt" 2> "$work/inproc.time" || { cat "$work/inproc.time"; exit 1; }
        parquet_agrees W5 "$work/$tag.reward" "$work/$tag.parquet" "$n5"
        # --- timing
        read -r _ _ _ isec iconv ijsonl ifloor ijfloor iinterp < <(grep '^INPROC' "$work/inproc.time")
        c=$(cli_time "$work/$tag.reward" "$work/$tag.jsonl")
        q=$(cli_time "$work/$tag.reward" "$work/$tag.parquet")
        read -r _ _ _ psteps psec pparse < <(grep "^PEER" "$work/plain.time")
        read -r _ lsteps lsec < <(grep "^LIMIT" "$work/limit.time")
        header
        fmt_row "in process, pyarrow Table (Reward.score)" "$isec" "$steps"
        fmt_row "in process, JSON Lines text (Reward.score_jsonl)" "$ijsonl" "$steps"
        fmt_row "in process, pyarrow Table, decode only: len(labels)" "$ifloor" "$steps"
        fmt_row "in process, JSON Lines text, decode only: len(labels)" "$ijfloor" "$steps"
        fmt_row "in process, pyarrow Table, the interpreter (one run)" "$iinterp" "$steps"
        fmt_row "reward score CLI from JSON Lines, end to end" "$c" "$steps"
        fmt_row "reward score CLI from Parquet, end to end" "$q" "$steps"
        fmt_row "plain Python memo loop (scoring only)" "$psec" "$psteps"
        fmt_row "plain Python memo loop (json.loads + scoring)" "$(echo "$psec + $pparse" | bc -l)" "$psteps"
        fmt_row "bare C table loop (limit)" "$lsec" "$lsteps"
        fmt_row "(not above: Python lists -> pyarrow Table)" "$iconv" "$steps"
        awk -v i="$isec" -v ii="$iinterp" -v c="$c" -v q="$q" -v p="$psec" -v pp="$pparse" -v l="$lsec" -v st="$steps" -v pst="$psteps" -v lst="$lsteps" 'BEGIN {
            a = st / i; printf "  in process (Arrow) / plain Python: %.3gx (scoring only), %.3gx (with its json.loads)\n", a / (pst / p), a / (pst / (p + pp))
            printf "  bare loop / in process (Arrow): %.3gx; in process (Arrow) / CLI from JSON Lines: %.3gx, / CLI from Parquet: %.3gx\n", (lst / l) / a, a / (st / c), a / (st / q)
            printf "  CLI from JSON Lines / plain Python with its json.loads: %.3gx\n", (st / c) / (pst / (p + pp))
            printf "  JIT / interpreter in process: %.3gx (a machine runs the same runtime code in both)\n", ii / i
            printf "  target: in process >= 100 M steps/s and within 5x of the bare loop: %s (%.1f M steps/s, %.0fx)\n", (a >= 1e8 && (lst / l) / a <= 5 ? "met" : "NOT met"), a / 1e6, (lst / l) / a }'
    done
fi

if [ "$only" != w5 ]; then
    steps=$(( n6 * t6 ))
    python3 bench/gen_w6.py "$n6" "$t6" > "$work/w6.jsonl"
    spec=bench/w6_safe.reward
    echo
    echo "W6 always(not collided) and eventually(at_goal), score = robustness: $n6 x $t6 = $steps steps ($(du -h "$work/w6.jsonl" | cut -f1) of JSON Lines)"
    # --- agreement first
    cli "$spec" "$work/w6.jsonl" > "$work/cli.txt"
    checks=(--same "the CLI from JSON Lines=$work/cli.txt")
    peers=0
    if [ "${W6_PEERS:-1}" != 0 ]; then
        if python3 bench/peer_w6.py flloat "$work/w6.jsonl" --limit "$peer_n" > "$work/flloat.txt" 2> "$work/flloat.time" &&
            python3 bench/peer_w6.py rtamt "$work/w6.jsonl" --limit "$peer_n" > "$work/rtamt.txt" 2> "$work/rtamt.time"; then
            checks+=(--truth "flloat=$work/flloat.txt" --same "rtamt's robustness=$work/rtamt.txt")
            peers=1
        else
            echo "  W6 peers: flloat or rtamt could not run (their venvs?); no peer rows:"
            tail -n 3 "$work/flloat.time" "$work/rtamt.time" 2> /dev/null | sed 's/^/    /'
        fi
    fi
    "$py" bench/inprocess.py w6 "$spec" "$work/w6.jsonl" --parquet "$work/w6.parquet" "${checks[@]}" 2> "$work/inproc.time" ||
        { cat "$work/inproc.time"; exit 1; }
    parquet_agrees W6 "$spec" "$work/w6.parquet" "$n6"
    # --- timing
    read -r _ _ _ isec iconv ijsonl ifloor ijfloor iinterp < <(grep '^INPROC' "$work/inproc.time")
    c=$(cli_time "$spec" "$work/w6.jsonl")
    q=$(cli_time "$spec" "$work/w6.parquet")
    cc -O2 -o "$work/w6_loop" bench/w6_loop.c -lm
    for _ in 1 2 3; do "$work/w6_loop" "$n6" "$t6"; done > "$work/w6_loop.txt"
    lns=$(sed -n 's/^bare loop: .*; \([0-9.]*\) ns\/step.*/\1/p' "$work/w6_loop.txt" | median)
    wns=$(sed -n 's/^bare loop, truth and robustness.*; \([0-9.]*\) ns\/step.*/\1/p' "$work/w6_loop.txt" | median)
    mns=$(sed -n 's/^bare loop, the machine.*; \([0-9.]*\) ns\/step.*/\1/p' "$work/w6_loop.txt" | median)
    lsec=$(echo "$lns * $steps / 1000000000" | bc -l)
    wsec=$(echo "$wns * $steps / 1000000000" | bc -l)
    header
    fmt_row "in process, pyarrow Table (Reward.score)" "$isec" "$steps"
    fmt_row "in process, JSON Lines text (Reward.score_jsonl)" "$ijsonl" "$steps"
    fmt_row "in process, pyarrow Table, decode only: len(steps)" "$ifloor" "$steps"
    fmt_row "in process, JSON Lines text, decode only: len(steps)" "$ijfloor" "$steps"
    fmt_row "in process, pyarrow Table, the interpreter (one run)" "$iinterp" "$steps"
    fmt_row "reward score CLI from JSON Lines, end to end" "$c" "$steps"
    fmt_row "reward score CLI from Parquet, end to end" "$q" "$steps"
    if [ $peers = 1 ]; then
        for p in flloat rtamt; do
            read -r _ _ _ pst x xp < <(grep "^PEER" "$work/$p.time")
            eval "p_$p=$x; pst_$p=$pst; pp_$p=$xp"
            fmt_row "$p (first $peer_n, scoring only)" "$x" "$pst"
            fmt_row "$p (first $peer_n, json.loads + scoring)" "$(echo "$x + $xp" | bc -l)" "$pst"
        done
    fi
    fmt_row "bare C loop, truth only (w6_loop.c's own data)" "$lsec" "$steps"
    fmt_row "bare C loop, truth + robustness from x, y (the same work)" "$wsec" "$steps"
    fmt_row "(not above: Python lists -> pyarrow Table)" "$iconv" "$steps"
    awk -v i="$isec" -v ii="$iinterp" -v c="$c" -v q="$q" -v l="$lsec" -v w="$wsec" -v st="$steps" 'BEGIN {
        a = st / i
        printf "  bare loop (truth only) / in process (Arrow): %.3gx; bare loop (the same work) / in process: %.3gx\n", (st / l) / a, (st / w) / a
        printf "  in process (Arrow) / CLI from JSON Lines: %.3gx, / CLI from Parquet: %.3gx\n", a / (st / c), a / (st / q)
        printf "  JIT / interpreter in process: %.3gx (target >= 10x)\n", ii / i
        printf "  target: in process >= 100 M steps/s and within 5x of the bare loop doing the same work: %s (%.1f M steps/s, %.1fx)\n", (a >= 1e8 && (st / w) / a <= 5 ? "met" : "NOT met"), a / 1e6, (st / w) / a }'
    # The other W6 specs on the same trajectories: a window read at every step
    # (w6_window.reward), past operators under future ones (w6_past.reward), a bounded until
    # read at every step (w6_until.reward), a rewarded formula (w6_rewarded.reward), the safe
    # formula over an optional field (w6_optional.reward) and a reward machine over the records
    # (w6_machine.reward, last: against its own bare loop in w6_loop.c).
    echo "  other W6 specs in process from the same Table (scores = the CLI's, JIT = interpreter bit for bit):"
    for other in bench/w6_window.reward bench/w6_past.reward bench/w6_until.reward bench/w6_rewarded.reward \
        bench/w6_optional.reward bench/w6_machine.reward; do
        cli "$other" "$work/w6.jsonl" > "$work/cli_other.txt"
        "$py" bench/inprocess.py w6 "$other" "$work/w6.jsonl" --same "the CLI from JSON Lines=$work/cli_other.txt" \
            > /dev/null 2> "$work/other.time" || { cat "$work/other.time"; exit 1; }
        read -r _ _ _ osec _ _ _ _ ointerp < <(grep '^INPROC' "$work/other.time")
        awk -v f="$other" -v s="$osec" -v ii="$ointerp" -v st="$steps" 'BEGIN {
            printf "    %-25s %7.2f ns/step  %7.1f M steps/s  JIT / interpreter %.3gx\n", f, s / st * 1e9, st / s / 1e6, ii / s }'
    done
    awk -v s="$osec" -v m="$mns" -v st="$steps" 'BEGIN {
        printf "    bare C loop, the machine (on w6_loop.c data): %.2f ns/step; w6_machine.reward / bare loop: %.2fx\n", m, s / st * 1e9 / m }'
    if [ $peers = 1 ]; then
        awk -v i="$isec" -v c="$c" -v st="$steps" -v f="$p_flloat" -v fs="$pst_flloat" -v fp="$pp_flloat" -v r="$p_rtamt" -v rs="$pst_rtamt" -v rp="$pp_rtamt" 'BEGIN {
            a = st / i
            printf "  in process (Arrow) / flloat: %.3gx, / rtamt: %.3gx (scoring only)\n", a / (fs / f), a / (rs / r)
            printf "  CLI from JSON Lines / flloat with its json.loads: %.3gx, / rtamt with its json.loads: %.3gx\n", (st / c) / (fs / (f + fp)), (st / c) / (rs / (r + rp)) }'
    fi
fi
