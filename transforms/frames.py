"""Small DataFrame helpers that keep pandas 3 fast on large string columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.cast(pa.large_string())
    return pa.array(pd.Series(values, dtype="str"), from_pandas=True).cast(pa.large_string())


def isin(values, candidates) -> np.ndarray:
    """``values.isin(candidates)`` as a bool array, hashed in Arrow (either side may be
    a Series, an Index, an array, a list, a set or an Arrow array).

    pandas 3's ``str`` dtype builds one Python scalar per candidate in ``isin``; Arrow's
    ``is_in`` hashes the whole array at once.
    Nulls are never in.
    """
    if isinstance(candidates, set | frozenset):
        candidates = list(candidates)
    left = arrow_strings(values)
    right = arrow_strings(candidates)
    if len(right) == 0:
        return np.zeros(len(left), dtype=bool)
    hit = pc.is_in(left, value_set=right, skip_nulls=True).fill_null(False)
    return hit.to_numpy(zero_copy_only=False).astype(bool)


def index_of(values, candidates) -> np.ndarray:
    """For each value, its position in ``candidates`` (the first, if repeated), or -1:
    an Arrow hash lookup, for picking a column of ``candidates``' frame per row."""
    at = pc.index_in(arrow_strings(values), value_set=arrow_strings(candidates))
    return at.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def key_strings(frame: pd.DataFrame, columns: list[str], sep: str = "\x1f") -> pa.Array:
    """One string per row joining ``columns`` with ``sep`` (a unit separator unless
    given; nulls as empty), for hashing composite keys in Arrow."""
    parts = [arrow_strings(frame[c]).fill_null("") for c in columns]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, pa.scalar(sep, pa.large_string()))


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Object (Python string) columns as pandas ``str`` (Arrow): a fraction of the memory."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


def write_query(con, query: str, out, params=(), *, like=None) -> int:
    """DuckDB: ``query``'s rows to the Parquet file ``out``, written to a temporary file
    and renamed into place (so ``out`` may be one of the query's own inputs, as on a
    re-run of a night). Returns the rows written.

    ``like``: a Parquet file whose pandas metadata ``out`` takes, so pandas reads it
    back with the same dtypes (nullable integers stay ``Int64``; DuckDB's writer keeps
    no pandas metadata of its own)."""
    import pyarrow.parquet as pq

    options = "format parquet"
    if like is not None:
        meta = (pq.read_schema(like).metadata or {}).get(b"pandas")
        if meta is not None:
            options += ", kv_metadata {pandas: " + sql_text(meta.decode()) + "}"
    tmp = out.with_name(out.name + ".tmp")
    rows = con.execute(f"copy ({query}) to {sql_text(str(tmp))} ({options})", list(params))
    rows = rows.fetchone()
    tmp.replace(out)
    return int(rows[0])


def sql_text(value) -> str:
    """A value (text or a path) as a quoted SQL string literal, for statements that take
    no parameters (DuckDB views, COPY options)."""
    return "'" + str(value).replace("'", "''") + "'"


def typed_like(frame: pd.DataFrame, parquet) -> pa.Table:
    """``frame`` as an Arrow table with the columns and types of the Parquet file
    ``parquet``, every field nullable: a column pandas holds with another type (text
    for an all-missing column, say) must not change the file's type, and a file written
    without nulls in a column (DuckDB marks such columns required) must still take rows
    with them."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(parquet)
    schema = pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
