#!/usr/bin/env bash
# Compile latency (issue 12, "every example compiles in ≤ 10 ms"): every spec in examples/ and
# bench/, each in its own process, timed by `reward check --timings FILE` (parse+check with the
# interpreter, then the whole compile with the JIT; medians of 10 compiles; "jit" is total −
# parse+check). Prints the table sorted by total with the target marked per row, how many
# specs are over it, and the medians. Then what a user waits for: `reward score` as one process
# (start, compile, one row, output) on the first row of the example's own .jsonl, for the
# three slowest examples, beside the process start alone (`reward --version`); medians of
# RUNS runs (default 10), timed around the process from Python (fork + exec included, in both).
# bench/run_w7.sh is the bare listing of the same `check --timings` lines.
#
# Usage: bench/run_compile.sh
# Environment: REWARD_BIN=path uses that binary and skips the cargo build; TARGET_MS=10 the
#   target; RUNS=10 runs of each `reward score`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${TARGET_MS:-10}
runs=${RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "${REWARD_BIN:-}" ]; then
    cargo build --release -q -p reward-cli
    bin=./target/release/reward
else
    bin=$REWARD_BIN
fi
specs=(examples/*.reward bench/*.reward)
echo "compile latency: ${#specs[@]} specs, one process each; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); binary $bin"
# spec parse+check jit total, one line per spec
for f in "${specs[@]}"; do
    if ! "$bin" check --timings "$f" > "$work/t.txt" 2> "$work/err.txt"; then
        echo "compile: $f does not check:"; cat "$work/err.txt"; exit 1
    fi
    sed -n 's/^\(.*\): parse+check \([0-9.]*\) ms, jit \([0-9.]*\) ms, total \([0-9.]*\) ms$/\1 \2 \3 \4/p' "$work/t.txt"
done > "$work/timings.txt"
[ "$(wc -l < "$work/timings.txt")" -eq ${#specs[@]} ] || { echo "compile: cannot read the --timings lines"; exit 1; }
sort -k4,4g "$work/timings.txt" > "$work/sorted.txt"
echo
printf '  %-42s %12s %9s %10s  %s\n' spec "parse+check" jit total "≤ $target ms"
awk -v tg="$target" '{ printf "  %-42s %9.2f ms %6.2f ms %7.2f ms  %s\n", $1, $2, $3, $4, ($4 <= tg ? "yes" : "OVER") }' "$work/sorted.txt"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
over=$(awk -v tg="$target" '$4 > tg {c++} END {print c + 0}' "$work/sorted.txt")
ex_over=$(awk -v tg="$target" '$1 ~ /^examples\// && $4 > tg {c++} END {print c + 0}' "$work/sorted.txt")
ex_n=$(grep -c '^examples/' "$work/sorted.txt" || true)
echo
echo "  over $target ms: $over of ${#specs[@]} specs ($ex_over of $ex_n examples); slowest $(tail -n 1 "$work/sorted.txt" | awk '{printf "%s %.2f ms", $1, $4}')"
echo "  median: parse+check $(cut -d' ' -f2 "$work/sorted.txt" | median) ms, jit $(cut -d' ' -f3 "$work/sorted.txt" | median) ms, total $(cut -d' ' -f4 "$work/sorted.txt" | median) ms"
# --- what a user waits for: one process, one row
mapfile -t slow < <(awk '$1 ~ /^examples\// {print $1}' "$work/sorted.txt" | tail -n 3 | tac)
echo
echo "reward score, one process on one row (the example's first .jsonl line), the $((${#slow[@]})) slowest examples; medians of $runs:"
args=()
for f in "${slow[@]}"; do
    head -n 1 "${f%.reward}.jsonl" > "$work/$(basename "${f%.reward}").jsonl"
    args+=("$f" "$work/$(basename "${f%.reward}").jsonl" "$(awk -v f="$f" '$1 == f {print $4}' "$work/sorted.txt")")
done
python3 - "$bin" "$runs" "${args[@]}" <<'EOF'
import statistics, subprocess, sys, time
bin, runs, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def ms(cmd):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t) * 1e3)
        if p.returncode != 0:
            sys.exit(f"compile: {' '.join(cmd)} failed: {p.stderr.decode()[:300]}")
    return statistics.median(times)

start = ms([bin, "--version"])
print(f"  {'spec':<42} {'score, 1 row':>13} {'compile':>9} {'start':>8} {'rest':>8}")
for i in range(0, len(rest), 3):
    spec, row, compile_ms = rest[i], rest[i + 1], float(rest[i + 2])
    e2e = ms([bin, "score", spec, row, "--no-progress"])
    print(f"  {spec:<42} {e2e:10.2f} ms {compile_ms:6.2f} ms {start:5.2f} ms {e2e - compile_ms - start:5.2f} ms")
print(f"  (start: `reward --version`, the process alone; compile: the total of the table above;"
      f" rest: the row, output and everything else)")
EOF
