#!/usr/bin/env bash
# Compile latency (issue 12, "every example compiles in ≤ 10 ms"): every spec in examples/ and
# bench/, each in its own process, timed by `reward check --timings FILE` (parse+check with the
# interpreter, then the whole compile with the JIT; medians of 10 compiles; "jit" is total −
# parse+check). Prints the table sorted by total with the target marked per row, how many
# specs are over it, and the medians. Then what a user waits for: `reward score` as one process
# (start, compile, one row, output) on the first row of the example's own .jsonl, for the
# three slowest examples, beside the process start alone (`reward --version`); medians of
# RUNS runs (default 10): the wall time around the process from Python (fork + exec included,
# in both) and its CPU time (user + sys, steadier than the wall time when other jobs load the
# machine). Each spec's compile figures are the median of ROUNDS (default 3) processes.
# bench/run_w7.sh is the bare listing of the same `check --timings` lines.
#
# Usage: bench/run_compile.sh
# Environment: REWARD_BIN=path uses that binary and skips the cargo build; TARGET_MS=10 the
#   target; ROUNDS=3 processes per spec for the table; RUNS=10 runs of each `reward score`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${TARGET_MS:-10}
runs=${RUNS:-10}
rounds=${ROUNDS:-3}
source bench/lib.sh
bin=$(reward_bin)
specs=(examples/*.reward bench/*.reward)
echo "compile latency: ${#specs[@]} specs, one process each, median of $rounds rounds; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); binary $bin"
# spec parse+check jit total, one line per spec: the median of ROUNDS processes' figures (each
# itself a median of 10 compiles); the rounds go over all specs in turn, so that a burst of load
# from other jobs does not fall on every run of one spec.
for r in $(seq "$rounds"); do
    for f in "${specs[@]}"; do
        if ! "$bin" check --timings "$f" > "$work/t.txt" 2> "$work/err.txt"; then
            echo "compile: $f does not check:"; cat "$work/err.txt"; exit 1
        fi
        sed -n 's/^\(.*\): parse+check \([0-9.]*\) ms, jit \([0-9.]*\) ms, total \([0-9.]*\) ms$/\1 \2 \3 \4/p' "$work/t.txt"
    done
done > "$work/rounds.txt"
[ "$(wc -l < "$work/rounds.txt")" -eq $(( ${#specs[@]} * rounds )) ] || { echo "compile: cannot read the --timings lines"; exit 1; }
awk '{ pc[$1] = pc[$1] " " $2; jt[$1] = jt[$1] " " $3; tt[$1] = tt[$1] " " $4 }
    function med(s,   a, n, i, j, x) { n = split(s, a, " "); for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x } return a[int((n + 1) / 2)] }
    END { for (f in tt) print f, med(pc[f]), med(jt[f]), med(tt[f]) }' "$work/rounds.txt" > "$work/timings.txt"
sort -k4,4g "$work/timings.txt" > "$work/sorted.txt"
echo
printf '  %-42s %12s %9s %10s  %s\n' spec "parse+check" jit total "≤ $target ms"
awk -v tg="$target" '{ printf "  %-42s %9.2f ms %6.2f ms %7.2f ms  %s\n", $1, $2, $3, $4, ($4 <= tg ? "yes" : "OVER") }' "$work/sorted.txt"
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
import os, statistics, subprocess, sys, time
bin, runs, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def ms(cmd):
    """Median wall and CPU (user + sys of the process) milliseconds of RUNS runs."""
    wall, cpu = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall.append((time.perf_counter() - t) * 1e3)
        cpu.append((ru.ru_utime + ru.ru_stime) * 1e3)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"compile: {' '.join(cmd)} failed (exit {p.returncode})")
    return statistics.median(wall), statistics.median(cpu)

start = ms([bin, "--version"])
print(f"  {'':<42} {'reward score, 1 row':>21} {'reward --version':>21} {'':>10}")
print(f"  {'spec':<42} {'wall':>10} {'CPU':>10} {'wall':>10} {'CPU':>10} {'compile':>10}")
for i in range(0, len(rest), 3):
    spec, row, compile_ms = rest[i], rest[i + 1], float(rest[i + 2])
    e2e = ms([bin, "score", spec, row, "--no-progress"])
    print(f"  {spec:<42} {e2e[0]:7.2f} ms {e2e[1]:7.2f} ms {start[0]:7.2f} ms {start[1]:7.2f} ms {compile_ms:7.2f} ms")
print("  (wall: around the process, fork + exec included; CPU: the process's user + sys time, all its"
      " threads;\n   reward --version: the process alone; compile: the total of the table above)")
EOF
