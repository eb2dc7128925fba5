"""Data at scale: Hugging Face datasets' batched map, Parquet through pyarrow, and a Ray Data
job on a local 2-CPU instance — each giving the scores of one in-process call."""

import json

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
