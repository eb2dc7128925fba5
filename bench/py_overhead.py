#!/usr/bin/env python3
"""Python package overhead: a batch of 1 and of N rollouts, as a list of dicts and as a pyarrow
Table, against `reward score` (the CLI, same rows, same threads), and a Ray Data job with 2
actors against one in-process call. Usage: py_overhead.py SPEC ROLLOUTS.jsonl THREADS"""

import json
import subprocess
import sys

import pyarrow as pa

import reward
from timing import median_time



def main():
    spec, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rows = [json.loads(line) for line in open(path)]
    n = len(rows)
    r = reward.compile(spec, threads=threads)
    table = pa.Table.from_pylist(rows)
    one = rows[:1]
    tiny = reward.compile("input { completion: text }\nscore = len(completion)", threads=threads)
    tiny_rows = [{"completion": "x"}] * n

    t1 = median_time(lambda: r.score(one), 2000)
    t_list = median_time(lambda: r.score(rows), 7)
    t_arrow = median_time(lambda: r.score(table), 7)
    t_tiny = median_time(lambda: tiny.score(tiny_rows), 7)
    cli = ["./target/release/reward", "score", spec, path, "--threads", str(threads), "--no-progress"]
    t_cli = median_time(lambda: subprocess.run(cli, stdout=subprocess.DEVNULL, check=False), 5)
    t_core = median_time(lambda: r._spec.score_jsonl(open(path).read()), 5)

    print(f"rollouts: {n}, threads: {threads}")
    print(f"batch of 1 (list of dicts): median {t1 * 1e6:.1f} us per call")
    print(f"batch of {n}, list of dicts: median {t_list * 1e3:.1f} ms = {t_list / n * 1e6:.2f} us/row")
    print(f"batch of {n}, pyarrow Table: median {t_arrow * 1e3:.1f} ms = {t_arrow / n * 1e6:.2f} us/row")
    print(f"reward score CLI, same rows: median {t_cli * 1e3:.1f} ms = {t_cli / n * 1e6:.2f} us/row")
    print(f"in-process JSON Lines path (score_jsonl, no Python rows): median {t_core * 1e3:.1f} ms")
    print(f"per-row overhead of the Python path (trivial spec, len(completion)): {t_tiny / n * 1e6:.2f} us/row")
    print(f"ratio list of dicts / CLI: {t_list / t_cli:.2f}x; pyarrow / CLI: {t_arrow / t_cli:.2f}x; "
          f"list of dicts / in-process JSON Lines: {t_list / t_core:.2f}x")
    print(f"PY {n} {t_list} {t_arrow} {t1}")
    ray_job(spec, rows, t_arrow)


def ray_job(spec, rows, one_process):
    """Ray Data, 2 actors of half a CPU each on a local 2-CPU instance, against one call."""
    try:
        import ray
        import reward.ray
    except ImportError:
        print("ray: not installed (pip install 'ray[data]' to measure it)")
        return
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    table = pa.Table.from_pylist(rows)
    ds = ray.data.from_arrow(table).repartition(8).materialize()

    def job():
        return ds.map_batches(
            reward.ray.Scorer,
            fn_constructor_kwargs={"spec": spec},
            compute=ray.data.ActorPoolStrategy(size=2),
            num_cpus=0.5,
            batch_format="pyarrow",
            batch_size=1024,
        ).materialize()

    job()  # actors and caches warm
    t = median_time(job, 3)
    print(f"Ray Data (2 actors, 2 CPUs): median {t * 1e3:.1f} ms, {t / one_process:.2f}x one in-process call")
    ray.shutdown()


if __name__ == "__main__":
    main()
