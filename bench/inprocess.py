#!/usr/bin/env python3
"""W5/W6 scored in process by the Python package from columnar data (helper of
bench/run_inprocess.sh; runs in the package's venv, bench/.venv-python).

Usage:
    inprocess.py w5|w6 SPEC.reward ROLLOUTS.jsonl [--same LABEL=FILE]... [--truth LABEL=FILE]...
                 [--parquet OUT.parquet] [--repeat R] [--threads K]

Reads the rows with the peers' own loaders (peer_w5.load: the `labels` lists; peer_w6.load: the
`steps` lists of dicts), turns them into a pyarrow Table (W5 `labels: list<string>`, W6
`steps: list<struct<x: double, y: double, collided: bool>>`; timed apart, not part of the
scoring figure), compiles SPEC with `reward.compile(SPEC, threads=K)` (default 1) and:

1. checks before timing: the scores of `Reward.breakdown(table)` must equal, exactly, the first
   lines of every --same FILE (one float per line, `inf`/`-inf` allowed; a peer may cover only
   the first K rows), and the `safe` term every --truth FILE (`true`/`false` per line); every
   row must score (no error);
2. checks that the reference interpreter (engine="interp") gives the same scores bit for bit,
   then times `Reward.score(table)`, once by the interpreter (JIT / interpreter on traces), (the pyarrow Table through the Arrow C stream interface), and,
   for comparison, `Reward.score_jsonl(text)` (the same rows as JSON Lines text, in process,
   no Python objects per row), medians of R runs (default 3);
   and both again for a spec that only reads the rows (`score = len(labels)` / `len(steps)`):
   the decoding floor under each figure;
3. writes the Table to --parquet (for the CLI's Parquet row), if given.

Prints the checks, then to stderr the line
    INPROC <rows> <steps> <median s score(table)> <median s list -> Table> <median s score_jsonl>
           <median s score(table), decode only> <median s score_jsonl, decode only>
           <s score(table) by the interpreter, one run>
"""
import sys

import numpy as np
import pyarrow as pa

import reward
from timing import median_time


FLOOR = {"w5": "input {\n    labels: list[text]\n}\nscore = len(labels)\n",
         "w6": "input {\n    steps: list[{x: float, y: float, collided: bool}]\n}\nscore = len(steps)\n"}


def to_table(kind, rows):
    if kind == "w5":
        return pa.table({"labels": pa.array(rows, type=pa.list_(pa.string()))})
    step = pa.struct([("x", pa.float64()), ("y", pa.float64()), ("collided", pa.bool_())])
    return pa.table({"steps": pa.array(rows, type=pa.list_(step))})


def main():
    args = sys.argv[1:]
    kind, spec, data = args[0], args[1], args[2]
    same, truth, parquet, repeat, threads = [], [], None, 3, 1
    i = 3
    while i < len(args):
        flag, val = args[i], args[i + 1]
        if flag == "--same":
            same.append(val.split("=", 1))
        elif flag == "--truth":
            truth.append(val.split("=", 1))
        elif flag == "--parquet":
            parquet = val
        elif flag == "--repeat":
            repeat = int(val)
        elif flag == "--threads":
            threads = int(val)
        else:
            sys.exit(f"inprocess.py: unknown option {flag}")
        i += 2
    if kind == "w5":
        from peer_w5 import load
    elif kind == "w6":
        from peer_w6 import load
    else:
        sys.exit(f"inprocess.py: unknown workload {kind!r}")
    rows, _ = load(data, None)
    steps = sum(len(r) for r in rows)
    table = to_table(kind, rows)
    t_arrow = median_time(lambda: to_table(kind, rows), repeat)
    r = reward.compile(spec, threads=threads)

    # --- agreement first
    cols = r.breakdown(table)
    ours = cols["score"]
    bad = [k for k, e in enumerate(cols[r.error_column]) if e is not None]
    if bad:
        sys.exit(f"in process: {len(bad)} rows did not score, e.g. row {bad[0]}: {cols[r.error_column][bad[0]]}")
    for label, path in same:
        theirs = np.array([float(line) for line in open(path)], dtype=np.float64)
        k = len(theirs)
        if k == 0 or k > len(ours) or not np.array_equal(ours[:k], theirs):
            diff = [j for j in range(min(k, len(ours))) if ours[j] != theirs[j]]
            sys.exit(f"in process: scores DIFFER from {label} on {len(diff)} of {k} rows, e.g. row "
                     f"{diff[:1]}: ours {[ours[j] for j in diff[:1]]} vs {[theirs[j] for j in diff[:1]]}")
        print(f"  in-process scores = {label} on {'all ' if k == len(ours) else 'the first '}{k} rows")
    for label, path in truth:
        theirs = [line.strip() == "true" for line in open(path)]
        k = len(theirs)
        if k == 0 or list(cols["safe"][:k]) != theirs:
            sys.exit(f"in process: the truth of `safe` DIFFERS from {label}")
        print(f"  in-process truth of safe = {label} on the first {k} rows ({sum(theirs)} hold)")
    if parquet:
        import pyarrow.parquet as pq

        pq.write_table(table, parquet)

    # The reference interpreter must give the same scores, bit for bit, before both are timed.
    interp = reward.compile(spec, threads=threads, engine="interp")
    if interp.score(table).tobytes() != r.score(table).tobytes():
        sys.exit("in process: the interpreter's scores DIFFER from the JIT's")
    print("  in-process scores of the JIT = the interpreter's on all rows, bit for bit")

    # --- timing
    t_score = median_time(lambda: r.score(table), repeat)
    t_interp = median_time(lambda: interp.score(table), 1)
    text = open(data, encoding="utf-8").read()
    t_jsonl = median_time(lambda: r.score_jsonl(text), repeat)
    floor = reward.compile(FLOOR[kind], threads=threads)
    if not np.array_equal(floor.score(table), np.array([len(x) for x in rows], dtype=np.float64)):
        sys.exit("in process: the decode-only spec does not count the steps")
    f_score = median_time(lambda: floor.score(table), repeat)
    f_jsonl = median_time(lambda: floor.score_jsonl(text), repeat)
    sys.stderr.write(f"INPROC {len(rows)} {steps} {t_score:.6f} {t_arrow:.6f} {t_jsonl:.6f} {f_score:.6f} {f_jsonl:.6f} "
                     f"{t_interp:.6f}\n")


if __name__ == "__main__":
    main()
