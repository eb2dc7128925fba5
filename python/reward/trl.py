"""TRL: reward functions for ``GRPOTrainer(reward_funcs=..., args=GRPOConfig(reward_weights=...))``.

TRL calls each reward function as ``f(prompts=..., completions=..., completion_ids=...,
**dataset_columns, trainer_state=..., ...)`` and logs it as ``rewards/<__name__>/mean``.
:func:`reward_funcs` returns the spec's total score as one function (weight 1) and each term
of its breakdown as another (weight 0: logged, not added), all sharing one native evaluation
per batch, so TRL trains on exactly the spec's score and charts every term::

    funcs, weights = reward.trl.reward_funcs("r1.reward", columns={"answer": "solution"})
    trainer = GRPOTrainer(model=..., reward_funcs=funcs,
                          args=GRPOConfig(reward_weights=weights, ...), ...)

A row that cannot be scored gives ``None`` (TRL's "no reward from this function").

Group terms (``group by``): each process sees only its own slice of a batch, so a group whose
completions are spread over several GPUs would be split. TRL already normalises rewards
within each prompt's group; a spec with ``group by`` is refused when ``torch.distributed``
runs with more than one process, unless ``allow_partial_groups=True`` says the groups are
known to be whole on every process.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from . import Reward, compile as _compile

__all__ = ["reward_funcs", "reward_func", "completion_text"]


def completion_text(completion: Any) -> Any:
    """The text of a completion: a string as is; a conversational completion (a list of
    ``{"role", "content"}`` messages) as its last assistant message's content."""
    if isinstance(completion, list):
        for message in reversed(completion):
            if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
                return message.get("content")
        return None
    return completion


def _prompt_text(prompt: Any) -> Any:
    if isinstance(prompt, list):
        for message in reversed(prompt):
            if isinstance(message, Mapping) and message.get("role") == "user":
                return message.get("content")
        return None
    return prompt


def _world_size() -> int:
    try:
        import torch.distributed as dist  # type: ignore

        if dist.is_available() and dist.is_initialized():
            return int(dist.get_world_size())
    except ImportError:
        pass
    return 1


class _Batch:
    """One native evaluation shared by every function of a batch (TRL calls them in turn
    with the same ``completions`` list)."""

    def __init__(
        self,
        spec: Reward,
        columns: Mapping[str, str],
        allow_partial_groups: bool,
    ):
        self.spec = spec
        self.columns = dict(columns)
        self.allow_partial_groups = allow_partial_groups
        self._key: Optional[Tuple[Any, Any]] = None
        self._result: Optional[Dict[str, Any]] = None

    def evaluate(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        completions = kwargs.get("completions")
        key = (completions, kwargs.get("prompts"))
        if self._key is not None and self._key[0] is key[0] and self._key[1] is key[1]:
            return self._result  # type: ignore[return-value]
        if self.spec.has_groups and not self.allow_partial_groups and _world_size() > 1:
            raise RuntimeError(
                f"{self.spec.name} has a `group by` block, but this process sees only its slice "
                "of each batch; pass allow_partial_groups=True if every group is whole here"
            )
        n = len(completions) if completions is not None else 0
        cols: Dict[str, List[Any]] = {}
        for column in self.spec.input_schema:
            source = self.columns.get(column, column)
            if source in ("completions", "completion") and completions is not None:
                cols[column] = [completion_text(c) for c in completions]
            elif source in ("prompts", "prompt") and kwargs.get("prompts") is not None:
                cols[column] = [_prompt_text(p) for p in kwargs["prompts"]]
            elif source in kwargs and kwargs[source] is not None:
                values = kwargs[source]
                cols[column] = list(values) if len(values) == n else [values] * n
        result = self.spec.breakdown(cols) if n else {"score": [], self.spec.error_column: []}
        self._key, self._result = key, result
        return result


def _as_rewards(values: Sequence[Any], errors: Sequence[Any]) -> List[Optional[float]]:
    return [
        None if (err is not None or v is None) else float(v) for v, err in zip(values, errors)
    ]


def reward_funcs(
    spec: "str | Reward",
    terms: Optional[Sequence[str]] = None,
    weights: Optional[Mapping[str, float]] = None,
    columns: Optional[Mapping[str, str]] = None,
    params: Optional[Mapping[str, Any]] = None,
    include_total: bool = True,
    allow_partial_groups: bool = False,
) -> Tuple[List[Callable[..., List[Optional[float]]]], List[float]]:
    """``(functions, weights)`` for GRPOTrainer.

    By default the first function is the spec's ``score`` (named after the spec's file, weight
    1) and the others are the breakdown's terms (weight 0: logged only). ``terms`` chooses
    the terms; ``weights`` (term → weight) makes TRL sum the terms instead, with
    ``include_total=False``. ``columns`` maps a spec column to the TRL argument or dataset
    column that holds it (``completion`` ← ``completions`` and ``prompt`` ← ``prompts`` by
    default; other columns by their own name).
    """
    r = spec if isinstance(spec, Reward) else _compile(spec, params=params)
    batch = _Batch(r, columns or {}, allow_partial_groups)
    chosen = list(terms) if terms is not None else r.terms
    unknown = [t for t in chosen if t not in r.terms]
    if unknown:
        raise ValueError(f"unknown terms {unknown}; the spec's terms are {r.terms}")
    funcs: List[Callable[..., List[Optional[float]]]] = []
    out_weights: List[float] = []
    if include_total:
        funcs.append(_total_func(batch, r))
        out_weights.append(1.0)
    for term in chosen:
        funcs.append(_term_func(batch, term))
        out_weights.append(float((weights or {}).get(term, 0.0)))
    return funcs, out_weights


def reward_func(
    spec: "str | Reward",
    columns: Optional[Mapping[str, str]] = None,
    params: Optional[Mapping[str, Any]] = None,
    allow_partial_groups: bool = False,
) -> Callable[..., List[Optional[float]]]:
    """One function: the spec's total score."""
    r = spec if isinstance(spec, Reward) else _compile(spec, params=params)
    return _total_func(_Batch(r, columns or {}, allow_partial_groups), r)


def _total_func(batch: _Batch, r: Reward) -> Callable[..., List[Optional[float]]]:
    def total(**kwargs: Any) -> List[Optional[float]]:
        res = batch.evaluate(kwargs)
        return _as_rewards(list(res["score"]), res[r.error_column])

    name = r.name.rsplit("/", 1)[-1].removesuffix(".reward") or "score"
    total.__name__ = total.__qualname__ = name
    return total


def _term_func(batch: _Batch, term: str) -> Callable[..., List[Optional[float]]]:
    errors = batch.spec.error_column

    def f(**kwargs: Any) -> List[Optional[float]]:
        res = batch.evaluate(kwargs)
        return _as_rewards(res.get(term, [None] * len(res[errors])), res[errors])

    f.__name__ = f.__qualname__ = term
    return f
