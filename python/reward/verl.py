"""verl: a ``compute_score`` for ``reward.custom_reward_function``.

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kw)``
for each sample and takes a float, or a dict with ``"score"`` and extra keys that must be the
same for every sample (they are logged per key). Point verl at this module::

    reward:
      custom_reward_function:
        path: <site-packages>/reward/verl.py     # or a file of yours that imports it
        name: compute_score
        reward_kwargs: {spec: /path/to/my.reward}

or write ``compute_score = reward.verl.make_compute_score("my.reward")`` in your own file.

The spec's columns are filled from the call: ``completion`` ← ``solution_str``; ``answer``,
``ground_truth`` or ``solution`` ← ``ground_truth``; ``data_source``; and any field of
``extra_info`` with a column's name. The result is ``{"score": …, <each term>: …,
"reward_error": 0.0 or 1.0}``: terms as floats (bools as 0/1), a row that cannot be scored
gives ``error_score`` (0.0 by default) with ``reward_error`` 1.0. Scoring releases the GIL,
so verl's thread pool scores samples in parallel.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from . import Reward, compile as _compile

__all__ = ["compute_score", "compute_score_batch", "make_compute_score"]

_GOLD_COLUMNS = ("answer", "ground_truth", "solution", "gold", "label")
_COMPLETION_COLUMNS = ("completion", "response", "solution_str")


@functools.lru_cache(maxsize=32)
def _cached(path: str, params_key: Optional[str]) -> Reward:
    import json

    return _compile(path, params=json.loads(params_key) if params_key else None)


def _spec_for(spec: Any, params: Optional[Mapping[str, Any]]) -> Reward:
    import json

    if isinstance(spec, Reward):
        return spec
    spec = spec or os.environ.get("REWARD_SPEC")
    if not spec:
        raise ValueError(
            "no spec: pass reward_kwargs={spec: PATH} in verl's custom_reward_function, or set REWARD_SPEC"
        )
    return _cached(os.fspath(spec), json.dumps(params, sort_keys=True) if params else None)


def _row(
    r: Reward,
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Optional[Mapping[str, Any]],
    columns: Mapping[str, str],
) -> Dict[str, Any]:
    available: Dict[str, Any] = dict(extra_info or {})
    available.update(
        {"data_source": data_source, "solution_str": solution_str, "ground_truth": ground_truth}
    )
    row: Dict[str, Any] = {}
    for column in r.input_schema:
        if column in columns:
            row[column] = available.get(columns[column])
        elif column in available:
            row[column] = available[column]
        elif column in _COMPLETION_COLUMNS:
            row[column] = solution_str
        elif column in _GOLD_COLUMNS:
            row[column] = ground_truth
    return row


def _as_float(v: Any) -> float:
    if v is None:
        return math.nan
    return float(v)


def _results(r: Reward, rows: List[Dict[str, Any]], error_score: float) -> List[Dict[str, float]]:
    cols = r.breakdown(rows)
    out = []
    for i in range(len(rows)):
        failed = cols[r.error_column][i] is not None
        d = {"score": error_score if failed else float(cols["score"][i])}
        for term in r.terms:
            d[term] = math.nan if failed else _as_float(cols[term][i])
        d["reward_error"] = 1.0 if failed else 0.0
        out.append(d)
    return out


def compute_score(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Optional[Mapping[str, Any]] = None,
    spec: "str | Reward | None" = None,
    params: Optional[Mapping[str, Any]] = None,
    columns: Optional[Mapping[str, str]] = None,
    error_score: float = 0.0,
    **_: Any,
) -> Dict[str, float]:
    """verl's per-sample ``compute_score``; the spec comes from ``spec`` (verl's
    ``reward_kwargs``) or the ``REWARD_SPEC`` environment variable."""
    r = _spec_for(spec, params)
    row = _row(r, data_source, solution_str, ground_truth, extra_info, columns or {})
    return _results(r, [row], error_score)[0]


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[Any],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Optional[Mapping[str, Any]]]] = None,
    spec: "str | Reward | None" = None,
    params: Optional[Mapping[str, Any]] = None,
    columns: Optional[Mapping[str, str]] = None,
    error_score: float = 0.0,
    **_: Any,
) -> List[Dict[str, float]]:
    """The batch form (verl's ``BatchRewardManager``): lists in, one dict per sample out."""
    r = _spec_for(spec, params)
    infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
    rows = [
        _row(r, d, s, g, e, columns or {})
        for d, s, g, e in zip(data_sources, solution_strs, ground_truths, infos)
    ]
    return _results(r, rows, error_score)


def make_compute_score(
    spec: "str | Reward",
    params: Optional[Mapping[str, Any]] = None,
    columns: Optional[Mapping[str, str]] = None,
    error_score: float = 0.0,
) -> Callable[..., Dict[str, float]]:
    """A ``compute_score`` bound to one spec."""
    r = spec if isinstance(spec, Reward) else _compile(spec, params=params)

    def bound(
        data_source: Any,
        solution_str: Any,
        ground_truth: Any,
        extra_info: Optional[Mapping[str, Any]] = None,
        **kw: Any,
    ) -> Dict[str, float]:
        return compute_score(
            data_source, solution_str, ground_truth, extra_info, spec=r, columns=columns,
            error_score=error_score,
        )

    bound.__name__ = "compute_score"
    return bound
