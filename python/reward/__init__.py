"""Compiled, typed, tested reward functions for reinforcement learning.

Compile a ``.reward`` spec once, then score batches of rollouts::

    import reward

    r = reward.compile("examples/r1_zero.reward")
    scores = r.score([{"completion": "...", "answer": "4"}])   # numpy float64, NaN on error
    cols = r.breakdown(rows)                                      # score, every term, error

Rows may be a list of dicts, a dict of columns, a pyarrow Table or RecordBatch, or a pandas
DataFrame. Scoring runs natively with the GIL released, on all cores; the results are those of
``reward score`` on the same rows, bit for bit. A row that cannot be scored never raises
(unless ``strict=True``): its score is NaN and its ``error`` names the row and the field.

Integrations: :mod:`reward.trl` (GRPOTrainer ``reward_funcs``), :mod:`reward.verl`
(``compute_score``), :mod:`reward.openrlhf` (``reward_func``), :mod:`reward.gym` (a Gymnasium
wrapper over the spec's reward machines and formulas) and :mod:`reward.ray` (a Ray Data scorer).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from . import _native

__all__ = [
    "compile",
    "Reward",
    "CompileError",
    "RowError",
    "Diagnostic",
    "TestReport",
]

_RowErrorBase = _native.RowError


class CompileError(_native.CompileError):
    """A spec with mistakes. ``str(err)`` is the report ``reward check`` prints;
    ``err.diagnostics`` lists every problem as a :class:`Diagnostic`."""

    def __init__(self, rendered: str, diagnostics: List["Diagnostic"]):
        super().__init__(rendered)
        self.rendered = rendered
        self.diagnostics = diagnostics

    def __str__(self) -> str:
        return self.rendered

    def __reduce__(self):
        return (CompileError, (self.rendered, self.diagnostics))


class RowError(_RowErrorBase):
    """A row that could not be scored, raised by ``strict=True`` calls.
    ``row`` is its index in the batch, ``field`` the input field at fault (or None),
    ``term`` the term being computed (or None)."""

    def __init__(self, info: Mapping[str, Any]):
        super().__init__(f"row {info['row']}: {info['text']}")
        self._info = dict(info)
        self.row: int = info["row"]
        self.message: str = info["message"]
        self.field: Optional[str] = info["field"]
        self.term: Optional[str] = info["term"]
        self.at: Optional[str] = info["at"]

    def __reduce__(self):
        return (RowError, (self._info,))


class Diagnostic:
    """One problem of a spec: a stable ``code`` (``E0002``…, None for a file that cannot be
    read), the ``message``, its place (1-based ``line`` and ``column``), the ``help`` line and
    the ``rendered`` text exactly as the CLI prints it."""

    code: Optional[str]
    message: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    label: str
    help: Optional[str]
    rendered: str

    __slots__ = (
        "code",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "label",
        "help",
        "rendered",
    )

    def __init__(self, d: Mapping[str, Any]):
        for k in self.__slots__:
            setattr(self, k, d[k])

    def __repr__(self) -> str:
        return f"Diagnostic({self.code} at {self.file}:{self.line}:{self.column}: {self.message})"

    def __reduce__(self):
        return (Diagnostic, ({k: getattr(self, k) for k in self.__slots__},))


class TestReport:
    """The outcome of a spec's ``test`` blocks."""

    __test__ = False  # not a pytest test class

    def __init__(self, passed: int, failed: int, output: str):
        self.passed = passed
        self.failed = failed
        self.output = output

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def __repr__(self) -> str:
        return f"TestReport(passed={self.passed}, failed={self.failed})"


def _looks_like_path(source: str) -> bool:
    return "\n" not in source and (source.endswith(".reward") or os.path.isfile(source))


def _param_text(value: Any) -> str:
    """A param value as ``--param`` takes it: JSON."""
    import json

    return json.dumps(value)


_MAX_SPEC_BYTES = 16 << 20  # as the compiler reads spec files


def _read_spec(source: str, path: str) -> str:
    """A spec file's text, read as `reward` reads it: a regular file of at most 16 MiB, in
    UTF-8, line endings untouched."""

    def fail(why: str) -> CompileError:
        message = f"cannot read `{source}`: {why}"
        return CompileError(
            f"error: {message}\n",
            [
                Diagnostic(
                    dict(code=None, message=message, file=source, line=0, column=0,
                         end_line=0, end_column=0, label="", help=None,
                         rendered=f"error: {message}\n")
                )
            ],
        )

    try:
        if not os.path.isfile(path):
            raise fail("not a regular file" if os.path.exists(path) else "No such file or directory")
        if os.path.getsize(path) > _MAX_SPEC_BYTES:
            raise fail("larger than 16 MiB, the most a spec file may be")
        with open(path, "rb") as f:
            data = f.read(_MAX_SPEC_BYTES + 1)
    except OSError as e:
        raise fail(e.strerror or str(e)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail(f"not valid UTF-8 (invalid byte at offset {e.start})") from None


def compile(
    source: "str | os.PathLike[str]",
    params: Optional[Mapping[str, Any]] = None,
    engine: str = "jit",
    threads: Optional[int] = None,
    name: Optional[str] = None,
    max_row_bytes: Optional[int] = None,
) -> "Reward":
    """Compiles a spec: a path to a ``.reward`` file, or the spec's text.

    ``params`` override the spec's params (values as Python objects: numbers, strings, lists,
    dicts). ``engine`` is ``"jit"`` (native code, the default) or ``"interp"`` (the reference
    interpreter); both give the same results bit for bit. ``threads``: worker threads for
    scoring (default: one per core). ``max_row_bytes``: the per-rollout memory budget (default
    512 MiB); a rollout whose evaluation holds more is a row error, never a crash of this
    process. Raises :class:`CompileError` with every diagnostic.
    """
    return Reward(
        source,
        params=params,
        engine=engine,
        threads=threads,
        name=name,
        max_row_bytes=max_row_bytes,
    )


class Reward:
    """A compiled spec. Safe to share between threads; picklable (it recompiles from its
    source text and params in the receiving process)."""

    def __init__(
        self,
        source: "str | os.PathLike[str]",
        params: Optional[Mapping[str, Any]] = None,
        engine: str = "jit",
        threads: Optional[int] = None,
        name: Optional[str] = None,
        max_row_bytes: Optional[int] = None,
    ):
        source = os.fspath(source)
        self._params: Dict[str, Any] = dict(params or {})
        self._engine = engine
        self._threads = threads
        self._max_row_bytes = max_row_bytes
        if _looks_like_path(source):
            path = os.path.abspath(source)
            self._name = name or source
            self._dir = os.path.dirname(path)
            self._text = _read_spec(source, path)
        else:
            self._name = name or "<spec>"
            self._dir = os.getcwd()
            self._text = source
        self._compile()

    def _compile(self) -> None:
        pairs = [(k, _param_text(v)) for k, v in self._params.items()]
        try:
            self._spec = _native.compile(
                self._text,
                self._name,
                self._dir,
                pairs,
                self._engine,
                self._threads,
                self._max_row_bytes,
            )
        except _native.CompileError as e:
            rendered, problems = e.args
            raise CompileError(rendered, [Diagnostic(p) for p in problems]) from None
        self._breakdown = self._spec.breakdown()

    # Pickling: recompile from the text in the receiving process.
    def __getstate__(self) -> Dict[str, Any]:
        return {
            "text": self._text,
            "name": self._name,
            "dir": self._dir,
            "params": self._params,
            "engine": self._engine,
            "threads": self._threads,
            "max_row_bytes": self._max_row_bytes,
        }

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._text = state["text"]
        self._name = state["name"]
        self._dir = state["dir"]
        self._params = state["params"]
        self._engine = state["engine"]
        self._threads = state["threads"]
        self._max_row_bytes = state.get("max_row_bytes")
        self._compile()

    def __repr__(self) -> str:
        return f"<reward.Reward {self._name} engine={self._engine} terms={self._breakdown}>"

    @property
    def name(self) -> str:
        return self._name

    @property
    def engine(self) -> str:
        return self._spec.engine

    @property
    def source(self) -> str:
        """The spec's text."""
        return self._text

    @property
    def terms(self) -> List[str]:
        """The named terms of the breakdown, in output order."""
        return list(self._breakdown)

    @property
    def all_terms(self) -> List[Dict[str, Any]]:
        """Every term: name, kind (``rule``, ``let``, ``score``…), type and whether it is in
        the breakdown."""
        return [
            {"name": n, "kind": k, "type": t, "in_breakdown": b}
            for (n, k, t, b) in self._spec.terms()
        ]

    @property
    def params(self) -> Dict[str, Any]:
        """The params with the values compiled in."""
        import json

        return {n: json.loads(v) for (n, _t, v) in self._spec.params()}

    @property
    def input_schema(self) -> Dict[str, str]:
        """Input columns and their types (optional ones end in ``?``)."""
        return {n: t + ("?" if opt else "") for (n, t, opt) in self._spec.input_schema()}

    @property
    def has_groups(self) -> bool:
        """Whether the spec has a ``group by`` block (groups are formed within each call)."""
        return self._spec.has_groups

    def test(self) -> TestReport:
        """Runs the spec's ``test`` blocks."""
        return TestReport(*self._spec.run_tests())

    def ir(self) -> str:
        """The typed IR, as ``reward ir`` prints it."""
        return self._spec.ir()

    def _rows(self, rows: Any) -> Any:
        from ._columns import as_rows

        return as_rows(rows, self.input_schema)

    def _run(self, rows: Any, strict: bool):
        if not self._spec.can_score:
            raise TypeError(f"{self._name} has no `score`: it is a library of functions")
        raw, terms, errors = self._spec.score(self._rows(rows))
        if strict:
            for e in errors:
                if e is not None:
                    raise RowError(e)
        scores = np.frombuffer(raw, dtype=np.float64)
        return scores, terms, errors

    def score(self, rows: Any, strict: bool = False) -> np.ndarray:
        """One float64 score per row, NaN for a row that could not be scored (with
        ``strict=True``: :class:`RowError` instead)."""
        return self._run(rows, strict)[0]

    def breakdown(self, rows: Any, strict: bool = False) -> Dict[str, Any]:
        """Columns: ``score`` (numpy float64), every named term (a list of bool/int/float, None
        for an error row) and ``error`` (None, or the message naming the row's field; see
        :attr:`error_column`)."""
        scores, terms, errors = self._run(rows, strict)
        out: Dict[str, Any] = {"score": scores}
        out.update(terms)
        out[self.error_column] = [None if e is None else e["text"] for e in errors]
        return out

    @property
    def error_column(self) -> str:
        """The name of the error column of :meth:`breakdown`: ``error``, or ``row_error`` when
        the spec has a term named ``error``."""
        return "row_error" if "error" in self._breakdown else "error"

    def errors(self, rows: Any) -> List[Optional[Dict[str, Any]]]:
        """Per row: None, or the error as a dict (row, message, field, term, at)."""
        return self._run(rows, False)[2]

    def score_json(self, rows: Any) -> List[str]:
        """Each row's output record as ``reward score`` prints it (JSON text)."""
        return self._spec.score_json(self._rows(rows))

    def score_jsonl(self, text: str) -> List[str]:
        """Scores JSON Lines text exactly as ``reward score`` does, one record per line."""
        return self._spec.score_jsonl(text)

    def __call__(self, rows: Any) -> np.ndarray:
        return self.score(rows)

    def monitor(self) -> "_native.Monitor":
        """An online monitor of the spec's reward machines and formulas (see
        :class:`reward.gym.RewardWrapper`)."""
        try:
            return self._spec.monitor()
        except ValueError as e:
            raise TypeError(str(e)) from None
