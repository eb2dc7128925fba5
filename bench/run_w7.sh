#!/usr/bin/env bash
# W7 (compile latency): parse + check and JIT compilation of every example, median of 10 runs,
# in a release build. Usage: bench/run_w7.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p reward-cli
./target/release/reward check --timings examples/*.reward bench/*.reward 2>/dev/null
