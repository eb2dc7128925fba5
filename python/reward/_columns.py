"""Rows from the containers users hold: lists of dicts, dicts of columns and pyarrow Tables and
RecordBatches pass through to the native reader (pyarrow data through the Arrow C stream
interface); pandas DataFrames become a dict of the columns the spec reads (other columns are
never converted)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping


def _is_arrow(rows: Any) -> bool:
    mod = type(rows).__module__
    return mod.startswith("pyarrow") and hasattr(rows, "column_names")


def _is_pandas(rows: Any) -> bool:
    return type(rows).__module__.startswith("pandas") and hasattr(rows, "columns")


def as_rows(rows: Any, schema: Dict[str, str]) -> Any:
    """``rows`` in a form the native reader takes: a sequence of mappings or a mapping of
    sequences. ``schema`` maps each input column to its type (``text?``, ``float``…)."""
    if _is_arrow(rows):
        # Read natively through the Arrow C stream interface (no Python object per value).
        return rows
    if _is_pandas(rows):
        present = set(rows.columns)
        return {
            c: _pandas_column(rows[c], t) for c, t in schema.items() if c in present
        } or _empty(rows)
    if isinstance(rows, Mapping):
        return {name: _column(name, col) for name, col in rows.items()}
    return rows


def _column(name: Any, col: Any) -> Any:
    """A column of a dict of columns, as a list read by position (a pandas Series would be
    read by index label)."""
    if isinstance(col, (str, bytes, Mapping)):
        raise TypeError(
            f"column {name!r} is a {type(col).__name__}, not a sequence of values: "
            "to score one row, pass a list with that row"
        )
    if _is_pandas(col) or hasattr(col, "to_pylist"):
        return _pandas_column(col, "") if _is_pandas(col) else col.to_pylist()
    if hasattr(col, "tolist"):
        return col.tolist()
    return col if isinstance(col, list) else list(col)


def _pandas_column(series: Any, ty: str) -> List[Any]:
    """pandas marks a missing value with NaN, None or NA. It is ``None`` — what
    ``DataFrame.to_json`` writes as null — except in a required float column, where NaN stays
    a number."""
    values = series.tolist()
    missing = series.isna().tolist()
    if ty == "float":
        return [float("nan") if m else v for v, m in zip(values, missing)]
    return [None if m else v for v, m in zip(values, missing)]


def _empty(rows: Any) -> Any:
    # No column the spec reads: keep the row count so that every row gets its error.
    return [{} for _ in range(len(rows))]
