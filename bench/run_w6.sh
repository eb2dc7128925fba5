#!/usr/bin/env bash
# W6: LTLf truth and robustness on long robot trajectories (bench/gen_w6.py: N × T steps of
# {x, y, collided}). Formulas: safe = always(not collided) and eventually(at_goal)
# (bench/w6_safe.reward) and dwell_w = eventually(always[0, w](at_goal)) for w in 10, 100, 1000
# (bench/w6_window.reward with its width rewritten). Each spec's score is the robustness and its
# ltl term the truth, so our runs compute both. In one run: our interpreter and JIT (CLI end to
# end, 1 thread and all cores) beside flloat (truth of safe) and rtamt's offline discrete-time
# monitor (robustness of every formula), the peers timed on the first K trajectories (scoring
# only, data in memory; bench/peer_w6.py). Before timing, flloat's truth and rtamt's robustness
# must equal ours exactly on those K trajectories, and the interpreter's output the JIT's on all.
# Steps/s count every input step; medians of 3 runs. The last table is the cost growth with w.
# A spec that only decodes the steps (score = len(steps)) shows the JSON floor of our figures.
#
# Usage: bench/run_w6.sh [N] [T]   (default 100 × 10000; the design's size is 1000 10000, a
#   450 MB input)
# Environment: REWARD_BIN=path uses that binary and skips the cargo build; PEER_N=K peers on the
#   first K trajectories (default min(N, 20)); W6_WINDOWS="10 100 1000" the widths.
# Uses bench/.venv-flloat and bench/.venv-rtamt (created on first use, as the oracles do).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}; t=${2:-10000}
peer_n=${PEER_N:-$(( n < 20 ? n : 20 ))}
windows=(${W6_WINDOWS:-10 100 1000})
cores=$(nproc)
source bench/lib.sh
bin=$(reward_bin)
# agree OURS.jsonl PEER.txt truth|robustness TERM LABEL: the peer's values (first lines) equal ours.
agree() {
    python3 - "$@" <<'EOF' || exit 1
import json, sys
ours_path, peer_path, kind, term, label = sys.argv[1:]
peer = [l.strip() for l in open(peer_path)]
ours = []
with open(ours_path) as fh:
    for line in fh:
        if len(ours) == len(peer):
            break
        rec = json.loads(line)
        ours.append(rec["terms"][term] if kind == "truth" else float(rec["score"]))
if kind == "truth":
    peer = [v == "true" for v in peer]
else:
    peer = [float(v) for v in peer]
bad = [i for i, (a, b) in enumerate(zip(ours, peer)) if a != b]
if not peer or bad:
    print(f"W6: {label} DIFFERS from ours on {len(bad)} of {len(peer)} trajectories, e.g. #{bad[:1]}: "
          f"ours {[ours[i] for i in bad[:1]]} vs {[peer[i] for i in bad[:1]]}")
    sys.exit(1)
held = sum(1 for v in ours if (v if kind == "truth" else v > 0))
print(f"  {label}: identical to ours on the first {len(peer)} trajectories ({held} hold)")
EOF
}
fmt_row() { # name seconds steps
    awk -v name="$1" -v s="$2" -v st="$3" 'BEGIN { printf "  %-44s %10.3f %10.3f %10.1f\n", name, s, st / s / 1e6, s / st * 1e9 }'
}
python3 bench/gen_w6.py "$n" "$t" > "$work/w6.jsonl"
steps=$(( n * t ))
echo "W6 LTLf: $n trajectories x $t steps ($(du -h "$work/w6.jsonl" | cut -f1) of JSON Lines); $cores cores; binary $bin"
cp bench/w6_safe.reward "$work/safe.reward"
specs=(safe); terms=(safe)
for w in "${windows[@]}"; do
    sed "s/always\[0, 100\]/always[0, $w]/" bench/w6_window.reward > "$work/w$w.reward"
    grep -q "always\[0, $w\]" "$work/w$w.reward" || { echo "W6: cannot set the window of bench/w6_window.reward"; exit 1; }
    specs+=("w$w"); terms+=(dwell)
done
# --- agreement first
echo "agreement:"
for i in "${!specs[@]}"; do
    s=${specs[$i]}
    "$bin" score "$work/$s.reward" "$work/w6.jsonl" --engine jit --no-progress > "$work/$s.jit"
    "$bin" score "$work/$s.reward" "$work/w6.jsonl" --engine interp --no-progress > "$work/$s.interp"
    cmp -s "$work/$s.jit" "$work/$s.interp" || { echo "W6: $s: the interpreter's output DIFFERS from the JIT's"; exit 1; }
    if [ "$s" = safe ]; then
        python3 bench/peer_w6.py flloat "$work/w6.jsonl" --limit "$peer_n" > "$work/safe.flloat" 2> "$work/safe.flloat.time"
        agree "$work/safe.jit" "$work/safe.flloat" truth safe "flloat truth of safe"
        python3 bench/peer_w6.py rtamt "$work/w6.jsonl" --limit "$peer_n" > "$work/safe.rtamt" 2> "$work/safe.rtamt.time"
    else
        python3 bench/peer_w6.py rtamt "$work/w6.jsonl" --window "${s#w}" --limit "$peer_n" > "$work/$s.rtamt" 2> "$work/$s.rtamt.time"
    fi
    agree "$work/$s.jit" "$work/$s.rtamt" robustness "${terms[$i]}" "rtamt robustness of $s"
done
echo "  interpreter output = JIT output on all $n trajectories, every formula"
# --- timing
declare -A sec=() psec=() psteps=()
echo
echo "timings (reward: all $n trajectories; peers: the first $peer_n):"
printf '  %-44s %10s %10s %10s\n' "formula / engine" "median s" "M steps/s" "ns/step"
# The decoding floor: the same input, read and counted, no formula.
printf 'input { steps: list[{x: float, y: float, collided: bool}] }\nscore = len(steps)\n' > "$work/floor.reward"
echo "decode only: score = len(steps)"
x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/floor.reward" "$work/w6.jsonl" --engine jit --threads 1 --no-progress; done | median)
fmt_row "reward jit, CLI end to end, 1 thread" "$x" "$steps"
for s in "${specs[@]}"; do
    echo "$s$( [ "$s" = safe ] && echo ': always(not collided) and eventually(at_goal)' || echo ": eventually(always[0, ${s#w}](at_goal))")"
    for engine in interp jit; do
        for th in 1 "$cores"; do
            x=$(for _ in 1 2 3; do time_cmd "$bin" score "$work/$s.reward" "$work/w6.jsonl" --engine "$engine" --threads "$th" --no-progress; done | median)
            sec[$s.$engine.$th]=$x
            fmt_row "reward $engine, CLI end to end, $th thread$( [ "$th" = 1 ] || echo s)" "$x" "$steps"
        done
    done
    peers=(rtamt); [ "$s" = safe ] && peers=(flloat rtamt)
    for p in "${peers[@]}"; do
        read -r _ _ _ st x xp < <(grep "^PEER" "$work/$s.$p.time")
        psec[$s.$p]=$x; psteps[$s.$p]=$st
        fmt_row "$p (first $peer_n, scoring only)" "$x" "$st"
        fmt_row "$p (first $peer_n, json.loads + scoring)" "$(echo "$x + $xp" | bc -l)" "$st"
    done
done
echo
echo "ratios (steps/s):"
for s in "${specs[@]}"; do
    line=$(awk -v st="$steps" -v i1="${sec[$s.interp.1]}" -v j1="${sec[$s.jit.1]}" -v iN="${sec[$s.interp.$cores]}" -v jN="${sec[$s.jit.$cores]}" -v c="$cores" \
        'BEGIN { printf "jit / interp %.2fx (1 thread), %.2fx (%d threads)", i1 / j1, iN / jN, c }')
    for p in flloat rtamt; do
        [ -n "${psec[$s.$p]:-}" ] || continue
        line+=$(awk -v st="$steps" -v j1="${sec[$s.jit.1]}" -v jN="${sec[$s.jit.$cores]}" -v i1="${sec[$s.interp.1]}" -v ps="${psec[$s.$p]}" -v pst="${psteps[$s.$p]}" -v p="$p" -v c="$cores" \
            'BEGIN { r = pst / ps; printf "; jit / %s %.3gx (1 thread), %.3gx (%d threads), interp / %s %.3gx", p, st / j1 / r, st / jN / r, c, p, st / i1 / r }')
    done
    echo "  $s: $line"
done
if [ ${#windows[@]} -ge 2 ]; then
    lo=${windows[0]}; hi=${windows[-1]}
    echo
    echo "cost growth with w (ns/step):"
    printf '  %-24s' engine; for w in "${windows[@]}"; do printf ' %10s' "w=$w"; done; printf ' %14s\n' "w=$hi / w=$lo"
    for e in interp.1 "interp.$cores" jit.1 "jit.$cores" rtamt; do
        case $e in rtamt) label="rtamt (first $peer_n)" ;; *.1) label="reward ${e%.*}, 1 thread" ;; *) label="reward ${e%.*}, $cores threads" ;; esac
        printf '  %-24s' "$label"
        for w in "${windows[@]}"; do
            if [ "$e" = rtamt ]; then x=$(echo "${psec[w$w.rtamt]} / ${psteps[w$w.rtamt]} * 1000000000" | bc -l)
            else x=$(echo "${sec[w$w.$e]} / $steps * 1000000000" | bc -l); fi
            printf ' %10.1f' "$x"
            eval "g_$w=$x"
        done
        printf ' %13.2fx\n' "$(eval echo "\$g_$hi / \$g_$lo" | bc -l)"
    done
fi
