# Shared by the bench/run_*.sh scripts, sourced from the repository root:
#   source bench/lib.sh
# It makes `$work`, a temporary directory removed when the script exits, and defines the
# helpers below.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# reward_bin [-p PACKAGE ...]: the `reward` binary to time. REWARD_BIN=path when set (no
# build); otherwise a release build of reward-cli (and of the packages given) from this tree.
reward_bin() {
    if [ -n "${REWARD_BIN:-}" ]; then
        echo "$REWARD_BIN"
    else
        cargo build --release -q -p reward-cli "$@" >&2
        echo ./target/release/reward
    fi
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Wall-clock seconds of one run of "$@" (its stdout discarded).
time_cmd() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

# The `score` of each JSON output line on stdin, as Python's repr of the float.
scores() { python3 -c "import sys, json; [print(repr(float(json.loads(l)['score']))) for l in sys.stdin]"; }
