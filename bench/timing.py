"""Timing shared by the benchmark helpers run from bench/ (inprocess.py, py_overhead.py)."""

import statistics
import time


def median_time(f, repeat):
    """The median wall time of `repeat` calls of `f`, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
