"""Rows from the containers users hold: lists of dicts and dicts of columns pass through to
the native reader; pyarrow Tables and RecordBatches and pandas DataFrames become a dict of the
columns the spec reads (other columns are never converted)."""

from __future__ import annotations

from typing import Any, Dict, List


def _is_arrow(rows: Any) -> bool:
    mod = type(rows).__module__
    return mod.startswith("pyarrow") and hasattr(rows, "column_names")


def _is_pandas(rows: Any) -> bool:
    return type(rows).__module__.startswith("pandas") and hasattr(rows, "columns")


def as_rows(rows: Any, schema: Dict[str, str]) -> Any:
    """``rows`` in a form the native reader takes: a sequence of mappings or a mapping of
    sequences. ``schema`` maps each input column to its type (``text?``, ``float``…)."""
    if _is_arrow(rows):
        present = set(rows.column_names)
        return {c: rows.column(c).to_pylist() for c in schema if c in present} or _empty(rows)
    if _is_pandas(rows):
        present = set(rows.columns)
        return {
            c: _pandas_column(rows[c], t) for c, t in schema.items() if c in present
        } or _empty(rows)
    return rows


def _pandas_column(series: Any, ty: str) -> List[Any]:
    """pandas marks a missing value of an object column with NaN (or NA); for a column that
    is not a float, that is ``None``. In a float column NaN stays a number."""
    values = series.tolist()
    if ty.rstrip("?") == "float":
        return values
    missing = series.isna().tolist()
    return [None if m else v for v, m in zip(values, missing)]


def _empty(rows: Any) -> Any:
    # No column the spec reads: keep the row count so that every row gets its error.
    return [{} for _ in range(len(rows))]
