"""Data at scale: Hugging Face datasets' batched map, Parquet through pyarrow, and a Ray Data
job on a local 2-CPU instance — each giving the scores of one in-process call."""

import json
import random

import numpy as np
import pytest

import reward
from conftest import EXAMPLES, read_rows

R1 = EXAMPLES / "r1_zero.reward"


def test_datasets_map_batched():
    datasets = pytest.importorskip("datasets")
    r = reward.compile(R1)
    rows = read_rows(R1)
    ds = datasets.Dataset.from_list(rows)
    scored = ds.map(lambda batch: r.breakdown(batch), batched=True, batch_size=4)
    assert scored["score"] == r.score(rows).tolist()
    assert scored["correct"] == r.breakdown(rows)["correct"]
    assert scored["error"] == [None] * len(rows)


def test_parquet_round_trip(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    r = reward.compile(R1)
    rows = read_rows(R1)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    table = pq.read_table(tmp_path / "rows.parquet")
    assert r.score(table).tobytes() == r.score(rows).tobytes()


def test_ray_data_actor_pool_matches_one_process():
    ray = pytest.importorskip("ray")
    import reward.ray

    rows = [dict(r) for r in read_rows(R1) * 8]  # distinct dicts: each gets its own `n`
    for i, row in enumerate(rows):
        row["n"] = i
    expected = reward.compile(R1).score(rows)
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        ds = ray.data.from_items(rows, override_num_blocks=4)
        out = ds.map_batches(
            reward.ray.Scorer,
            fn_constructor_kwargs={"spec": str(R1)},
            compute=ray.data.ActorPoolStrategy(size=2),
            # Half a CPU per actor: on 2 CPUs, two whole-CPU actors would leave none for the
            # tasks that feed them.
            num_cpus=0.5,
            batch_format="pyarrow",
            batch_size=16,
        ).take_all()
    finally:
        ray.shutdown()
    got = sorted(out, key=lambda r: r["n"])
    assert [g["score"] for g in got] == expected.tolist()
    assert all(g["error"] is None for g in got)
    assert set(reward.compile(R1).terms) <= set(got[0])


@pytest.mark.parametrize("batch_format", ["pandas", "numpy"])
def test_ray_scorer_other_batch_formats(batch_format):
    pd = pytest.importorskip("pandas")
    import reward.ray

    rows = read_rows(R1)
    scorer = reward.ray.Scorer(str(R1))
    expected = reward.compile(R1).score(rows)
    if batch_format == "pandas":
        out = scorer(pd.DataFrame(rows))
        assert out["score"].tolist() == expected.tolist()
    else:
        batch = {k: np.asarray([r.get(k) for r in rows], dtype=object) for k in rows[0]}
        out = scorer(batch)
        assert out["score"].tolist() == expected.tolist()


def test_cli_reads_and_writes_parquet(cli, tmp_path):
    """`reward score spec rows.parquet [-o scores.parquet]`: the same records as the rows as
    JSON Lines, one output row per input row (errors included), typed output columns."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = read_rows(R1)
    # A row with a null required column: an error row in both forms.
    rows.append({"problem_id": "x", "completion": None, "solution": "4"})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "rows.parquet")
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, from_parquet, _ = cli("score", R1, tmp_path / "rows.parquet")
    status_json, from_json, _ = cli("score", R1, tmp_path / "rows.jsonl")
    assert status == status_json == 2
    assert from_parquet == from_json and len(from_json) == len(rows)

    status, _, stderr = cli("score", R1, tmp_path / "rows.parquet", "-o", tmp_path / "out.parquet")
    assert status == 2, stderr
    out = pq.read_table(tmp_path / "out.parquet").to_pydict()
    records = [json.loads(line) for line in from_json]
    r = reward.compile(R1)
    assert list(out) == ["score", *r.terms, "error", "error_field"]
    for i, rec in enumerate(records):
        if "error" in rec:
            assert out["score"][i] is None and out["error"][i] == rec["error"]["message"]
            assert out["error_field"][i] == rec["error"].get("field")
        else:
            assert out["score"][i] == float(rec["score"]) and out["error"][i] is None
            for term in r.terms:
                assert out[term][i] == rec["terms"][term]


TRACE_SPEC = """input {
    steps: list[{x: float, n: int, ok: bool}]
    labels: list[text]
    name: text?
}
score = sum(for s in steps if s.ok: s.x * float(s.n)) + float(len(labels))
"""


def test_cli_parquet_rows_match_json_lines_value_for_value(cli, tmp_path):
    """Parquet rows are made from the Arrow arrays (no JSON in between): every row, awkward or
    wrong, scores or fails exactly as the same row does from JSON Lines, with the same error
    and field, in the same order."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    spec = tmp_path / "trace.reward"
    spec.write_text(TRACE_SPEC)
    step = pa.struct([("x", pa.float64()), ("n", pa.int64()), ("ok", pa.bool_())])
    good = {"steps": [{"x": 0.5, "n": 2, "ok": True}, {"x": -1e300, "n": -3, "ok": False}],
            "labels": ["a", "", "é"], "name": "g"}
    rows = [
        good,
        {"steps": [], "labels": [], "name": None},                      # empty lists, null optional
        {"steps": [{"x": None, "n": 1, "ok": True}], "labels": ["a"], "name": "x"},  # null float
        {"steps": [{"x": 1.0, "n": None, "ok": True}], "labels": [], "name": "x"},   # null int
        {"steps": None, "labels": ["b"], "name": "x"},                   # null required list
        {"steps": [None], "labels": ["b"], "name": "x"},                 # null record
        {"steps": [{"x": 2.0, "n": 4, "ok": True}], "labels": [None], "name": "x"},  # null text
        {"steps": [{"x": -0.0, "n": 1, "ok": True}], "labels": ["c"], "name": None},  # -0.0
    ] * 300 + [good]
    table = pa.table({
        "steps": pa.array([r["steps"] for r in rows], type=pa.list_(step)),
        "labels": pa.array([r["labels"] for r in rows], type=pa.list_(pa.string())),
        "name": pa.array([r["name"] for r in rows], type=pa.string()),
        "unread": pa.array(list(range(len(rows)))),
    })
    pq.write_table(table, tmp_path / "rows.parquet", row_group_size=700)
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, from_parquet, err = cli("score", spec, tmp_path / "rows.parquet")
    status_json, from_json, _ = cli("score", spec, tmp_path / "rows.jsonl")
    assert status == status_json == 2, err
    assert len(from_parquet) == len(rows)
    assert from_parquet == from_json
    records = [json.loads(line) for line in from_parquet]
    assert sum("error" in r for r in records) == 5 * 300
    assert records[2]["error"]["field"] == "steps[0].x"
    # Without the parallel chunks of the driver: one thread, the same records.
    _, one_thread, _ = cli("score", spec, tmp_path / "rows.parquet", "--threads", "1")
    assert one_thread == from_parquet
    # Wrong Arrow types: the same records as the same values in JSON.
    bad = pa.table({"steps": pa.array([[{"x": "1", "n": 1, "ok": True}]],
                                      type=pa.list_(pa.struct([("x", pa.string()), ("n", pa.int64()),
                                                               ("ok", pa.bool_())]))),
                    "labels": pa.array([[1]])})
    pq.write_table(bad, tmp_path / "bad.parquet")
    status, out, _ = cli("score", spec, tmp_path / "bad.parquet")
    assert status == 2 and json.loads(out[0])["error"]["field"] == "steps[0].x"


LABELS_SPEC = """input {
    labels: list[text]
}
prop a = "a" in step
prop b = "b" in step
machine m over labels (order: first, otherwise: end) {
    start u0
    u0 -> u1 when a reward 1
    u0 -> u0 when not a
    u1 -> u2 when b reward 2
    u1 -> u1 when not b
    terminal u2
}
score = m + float(len(labels)) + float(count(for l in labels if l == "ab"))
"""


def test_cli_parquet_label_traces_match_json_lines(cli, tmp_path):
    """Lists of labels from Parquet (dictionary-encoded, as writers store few distinct texts,
    and read as such): traces of few short labels, with one long label, with more distinct
    labels than a byte numbers, and empty ones score exactly as from JSON Lines."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    spec = tmp_path / "labels.reward"
    spec.write_text(LABELS_SPEC)
    rng = random.Random(7)
    alphabet = ["", "", "a", "b", "ab", "c", "é"]
    rows = []
    for r in range(400):
        n = rng.randrange(0, 300)
        if r % 5 == 3:
            labels = [f"l{rng.randrange(500)}" for _ in range(n)]  # many distinct
        else:
            labels = [rng.choice(alphabet) for _ in range(n)]
            if r % 5 == 4 and n:
                labels[n // 2] = "a label longer than sixteen bytes"
        rows.append({"labels": labels})
    pq.write_table(pa.table({"labels": pa.array([r["labels"] for r in rows], type=pa.list_(pa.string()))}),
                   tmp_path / "labels.parquet", row_group_size=128)
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    status, from_parquet, err = cli("score", spec, tmp_path / "labels.parquet", "--threads", "1")
    status_json, from_json, _ = cli("score", spec, tmp_path / "labels.jsonl", "--threads", "1")
    assert status == status_json == 0, err
    assert len(from_parquet) == len(rows) and from_parquet == from_json
    totals = {json.loads(line)["score"] for line in from_json}
    assert len(totals) > 50  # the traces differ, so a mix-up of rows would show
