"""Ray Data: score a dataset on a pool of actors, each compiling the spec once::

    ds = ray.data.read_parquet("rollouts.parquet")
    scored = ds.map_batches(
        reward.ray.Scorer,
        fn_constructor_kwargs={"spec": "my.reward"},
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_format="pyarrow",
    )

Each output batch is the input batch with ``score``, every term of the breakdown and
``error`` appended (or only those columns with ``keep_input=False``). Works with
``batch_format`` ``"pyarrow"``, ``"pandas"`` and ``"numpy"``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

import numpy as np

from . import Reward, compile as _compile

__all__ = ["Scorer"]


class Scorer:
    """A callable class for ``Dataset.map_batches``."""

    def __init__(
        self,
        spec: "str | Reward",
        params: Optional[Mapping[str, Any]] = None,
        engine: str = "jit",
        keep_input: bool = True,
        prefix: str = "",
    ):
        self.reward = spec if isinstance(spec, Reward) else _compile(spec, params=params, engine=engine)
        self.keep_input = keep_input
        self.prefix = prefix

    def _columns(self, batch: Any) -> Dict[str, Any]:
        out = self.reward.breakdown(batch)
        return {self.prefix + k: v for k, v in out.items()}

    def __call__(self, batch: Any) -> Any:
        kind = type(batch).__module__
        if kind.startswith("pyarrow"):
            import pyarrow as pa

            cols = self._columns(batch)
            table = batch if self.keep_input else pa.table({})
            if not self.keep_input:
                return pa.table({k: pa.array(v) for k, v in cols.items()})
            for k, v in cols.items():
                table = table.append_column(k, pa.array(v))
            return table
        if kind.startswith("pandas"):
            cols = self._columns(batch)
            out = batch.copy() if self.keep_input else batch.iloc[:, 0:0].copy()
            for k, v in cols.items():
                out[k] = v
            return out
        # numpy batches: a dict of (read-only) arrays.
        cols = self._columns(dict(batch))
        arrays: Dict[str, Any] = dict(batch) if self.keep_input else {}
        for k, v in cols.items():
            arrays[k] = np.asarray(v, dtype=object if k.endswith("error") else None)
        return arrays
