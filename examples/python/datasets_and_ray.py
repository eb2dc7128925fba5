"""Hugging Face datasets (`map(batched=True)`), Parquet and Ray Data with a reward spec."""

import json
import pathlib

import reward

ROOT = pathlib.Path(__file__).parents[1]
SPEC = ROOT / "r1_zero.reward"
rows = [json.loads(l) for l in open(ROOT / "r1_zero.jsonl")]
r = reward.compile(SPEC)

try:
    import datasets

    ds = datasets.Dataset.from_list(rows)
    scored = ds.map(lambda batch: r.breakdown(batch), batched=True)
    print(scored.select_columns(["score", "correct", "format"])[:5])
except ImportError:
    print("datasets is not installed; the same call on a dict of columns:")
    print(r.breakdown({k: [row.get(k) for row in rows] for k in r.input_schema})["score"])

try:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), "/tmp/r1.parquet")
    print(r.score(pq.read_table("/tmp/r1.parquet")))
except ImportError:
    pass

try:
    import ray
    import reward.ray

    ray.init(num_cpus=2, include_dashboard=False)
    out = ray.data.from_items(rows).map_batches(
        reward.ray.Scorer,
        fn_constructor_kwargs={"spec": str(SPEC)},
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_format="pyarrow",
    )
    print(out.take(3))
except ImportError:
    pass
