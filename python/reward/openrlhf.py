"""OpenRLHF: a ``reward_func`` for ``--reward.remote_url my_reward.py``.

OpenRLHF loads a Python file that defines ``reward_func(queries, prompts, labels, **kw)``
and expects ``{"rewards": tensor, "scores": tensor, "extra_logs": {name: tensor}}``. Write::

    # my_reward.py
    from reward.openrlhf import make_reward_func
    reward_func = make_reward_func("my.reward", columns={"answer": "labels"})

``queries`` are prompt + response; the response (the spec's ``completion``) is the query
after its prompt. ``labels`` fill ``answer`` (or the column ``columns`` maps to ``labels``).
``rewards`` and ``scores`` are the spec's score (a row that cannot be scored gives
``error_score``, 0.0 by default); ``extra_logs`` has every term of the breakdown and
``reward_error`` (1.0 for a row that could not be scored). Tensors are ``torch`` tensors when
torch is installed, numpy arrays otherwise.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np

from . import Reward, compile as _compile

__all__ = ["make_reward_func"]


def _tensor(values: Sequence[float]) -> Any:
    array = np.asarray(values, dtype=np.float32)
    try:
        import torch  # type: ignore

        return torch.from_numpy(array)
    except ImportError:
        return array


def _response(query: str, prompt: str) -> str:
    return query[len(prompt):] if query.startswith(prompt) else query


def make_reward_func(
    spec: "str | Reward",
    params: Optional[Mapping[str, Any]] = None,
    columns: Optional[Mapping[str, str]] = None,
    error_score: float = 0.0,
) -> Callable[..., Dict[str, Any]]:
    """OpenRLHF's ``reward_func(queries, prompts, labels, **kw)`` for one spec. ``columns``
    maps a spec column to ``queries``, ``prompts``, ``labels``, ``responses`` or a keyword
    argument's name; by default ``completion`` ← the responses, ``prompt`` ← ``prompts`` and
    ``answer`` ← ``labels``."""
    r = spec if isinstance(spec, Reward) else _compile(spec, params=params)
    mapping = {"completion": "responses", "prompt": "prompts", "answer": "labels"}
    mapping.update(columns or {})

    def reward_func(
        queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kw: Any
    ) -> Dict[str, Any]:
        n = len(queries)
        available: Dict[str, Any] = dict(kw)
        prompts = list(prompts) if prompts is not None else [""] * n
        available.update(
            {
                "queries": list(queries),
                "prompts": prompts,
                "labels": list(labels) if labels is not None else None,
                "responses": [_response(q, p) for q, p in zip(queries, prompts)],
            }
        )
        cols: Dict[str, List[Any]] = {}
        for column in r.input_schema:
            source = mapping.get(column, column)
            if source in available and available[source] is not None:
                cols[column] = list(available[source])
        if n == 0:
            empty = _tensor([])
            logs = {term: empty for term in r.terms}
            logs["reward_error"] = empty
            return {"rewards": empty, "scores": empty, "extra_logs": logs}
        res = r.breakdown(cols)
        failed = [e is not None for e in res[r.error_column]]
        scores = [error_score if f else float(s) for s, f in zip(res["score"], failed)]
        logs = {
            term: _tensor(
                [np.nan if (f or v is None) else float(v) for v, f in zip(res[term], failed)]
            )
            for term in r.terms
        }
        logs["reward_error"] = _tensor([1.0 if f else 0.0 for f in failed])
        return {"rewards": _tensor(scores), "scores": _tensor(scores), "extra_logs": logs}

    return reward_func
