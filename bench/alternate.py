"""Times shell commands alternated in one run: each argument is one command (split on spaces),
run N times in turn; prints each command's 25th percentile and median wall time.

Usage: python3 bench/alternate.py N "CMD A" "CMD B" ...
  e.g. python3 bench/alternate.py 11 "old/reward score examples/open_r1_grpo.reward w1.jsonl" \\
           "target/release/reward score examples/open_r1_grpo.reward w1.jsonl" "cat w1.jsonl"
Alternating keeps a VM whose speed wanders within a run fair to every command.
"""
import subprocess
import sys
import time

n = int(sys.argv[1])
commands = [c.split() for c in sys.argv[2:]]
wall = [[] for _ in commands]
for _ in range(n):
    for times, command in zip(wall, commands):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
for times, command in zip(wall, commands):
    times.sort()
    p25, median = times[len(times) // 4], times[len(times) // 2]
    print(f"p25 {p25 * 1e3:8.1f} ms  median {median * 1e3:8.1f} ms  {' '.join(command)}")
