"""Rows from the containers users hold: lists of dicts and dicts of columns pass through to
the native reader; pyarrow Tables and RecordBatches and pandas DataFrames become a dict of the
columns the spec reads (other columns are never converted)."""

from __future__ import annotations

from typing import Any, List


def _is_arrow(rows: Any) -> bool:
    mod = type(rows).__module__
    return mod.startswith("pyarrow") and hasattr(rows, "column_names")


def _is_pandas(rows: Any) -> bool:
    return type(rows).__module__.startswith("pandas") and hasattr(rows, "columns")


def as_rows(rows: Any, columns: List[str]) -> Any:
    """``rows`` in a form the native reader takes: a sequence of mappings or a mapping of
    sequences."""
    if _is_arrow(rows):
        present = set(rows.column_names)
        return {c: rows.column(c).to_pylist() for c in columns if c in present} or _empty(rows)
    if _is_pandas(rows):
        present = set(rows.columns)
        return {c: rows[c].tolist() for c in columns if c in present} or _empty(rows)
    return rows


def _empty(rows: Any) -> Any:
    # No column the spec reads: keep the row count so that every row gets its error.
    return [{} for _ in range(len(rows))]
