"""Dice similarity of Bloom-filter encodings (CLKs) inside the SQL engine, per pair.

A CLK is ``n_bits // 8`` bytes (1024 bits by default, see :mod:`transforms.bloom`).
Casting a blob or a ``'0101…'`` string to bits for every candidate pair makes the
comparison step many times slower than clear-text matching, so the split is done once
per *record*, at registration:

* ``<clk>_w00 … <clk>_wNN``: the filter as signed 64-bit words (``BIGINT``; the bit
  pattern is what matters, and signed keeps it portable to engines without unsigned
  types, e.g. Spark);
* ``<clk>_pc``: the filter's popcount, null when the record has no filter.

Per pair the Dice coefficient is then plain integer SQL::

    2 * (bit_count(w00_l & w00_r) + … + bit_count(w15_l & w15_r)) / (pc_l + pc_r)

Integer words are the cheapest encoding to compare in the engine: a ``BIT`` column made
once per record, or a string similarity on a token, costs several times more per pair
(``bench/README.md``). A Splink comparison re-evaluates the expression for each band
of its ``CASE``; with two or three bands per CLK that is still cheaper than one
string-similarity call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_WORDS = 16  # 1024-bit filters


def _arrow_binary(values: pd.Series):
    """The Arrow binary array behind ``values``, or None (an object column)."""
    import pyarrow as pa

    if not isinstance(values.dtype, pd.ArrowDtype):
        return None
    arr = values.array._pa_array
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_binary(arr.type):
        arr = arr.cast(pa.large_binary())
    return arr if pa.types.is_large_binary(arr.type) else None


def clk_matrix_from_bytes(
    values: pd.Series, n_words: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(n, n_words) int64 words and a presence mask for a Series of CLK ``bytes``/None.

    Arrow-backed binary columns (the tokens state's) are read from their buffers with
    one gather, not one Python ``bytes`` per record."""
    arr = _arrow_binary(values)
    if arr is not None:
        return _words_from_arrow(arr, n_words)
    arr = values.to_numpy(dtype=object)
    present = np.array(
        [isinstance(v, bytes | bytearray | memoryview) and len(v) > 0 for v in arr], dtype=bool
    )
    if n_words is None:
        first = next((arr[i] for i in np.flatnonzero(present[:1_000_000])), None)
        n_words = DEFAULT_WORDS if first is None else len(first) // 8
    words = np.zeros((len(arr), n_words), dtype=np.int64)
    if present.any():
        blob = b"".join(bytes(arr[i]) for i in np.flatnonzero(present))
        mat = np.frombuffer(blob, dtype="<i8")
        if mat.size != present.sum() * n_words:
            raise ValueError("CLKs differ in length; every filter must have the same size")
        words[present] = mat.reshape(-1, n_words)
    return words, present


def _words_from_arrow(arr, n_words: int | None) -> tuple[np.ndarray, np.ndarray]:
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    valid = (
        np.ones(n, dtype=bool)
        if arr.null_count == 0
        else arr.is_valid().to_numpy(zero_copy_only=False)
    )
    present = valid & (lengths > 0)
    if n_words is None:
        n_words = int(lengths[present][0]) // 8 if present.any() else DEFAULT_WORDS
    words = np.zeros((n, n_words), dtype=np.int64)
    if present.any():
        if (lengths[present] != n_words * 8).any():
            raise ValueError("CLKs differ in length; every filter must have the same size")
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
        if lengths[~present].sum() == 0:  # the usual layout: the filters back to back
            block = data[offsets[0] : offsets[-1]]
        else:  # a null slot with bytes behind it: gather the present rows
            starts = offsets[:-1][present]
            block = data[(starts[:, None] + np.arange(n_words * 8)).ravel()]
        words[present] = block.view("<i8").reshape(-1, n_words)
    return words, present


def popcounts(words: np.ndarray) -> np.ndarray:
    """Bits set per row of an (n, w) int64 word matrix."""
    if words.size == 0:
        return np.zeros(len(words), dtype=np.int64)
    # unsigned: numpy counts the bits of a signed integer's absolute value
    return np.bitwise_count(np.ascontiguousarray(words).view(np.uint64)).sum(axis=1, dtype=np.int64)


def word_columns(column: str, n_words: int) -> list[str]:
    return [f"{column}_w{i:02d}" for i in range(n_words)]


def add_clk_word_columns(
    frame: pd.DataFrame, column: str, *, n_words: int | None = None, drop: bool = True
) -> tuple[pd.DataFrame, int]:
    """``frame`` with ``column`` split into word columns and a popcount column.

    Returns the new frame and the number of words. Records without a filter (or with
    an all-zero one) get a null popcount, which the SQL below treats as missing.
    """
    words, present = clk_matrix_from_bytes(frame[column], n_words)
    n_words = words.shape[1]
    pc = popcounts(words)
    present &= pc > 0
    new = {name: words[:, i] for i, name in enumerate(word_columns(column, n_words))}
    new[f"{column}_pc"] = pd.arrays.IntegerArray(np.where(present, pc, 0), ~present)
    out = frame.drop(columns=[column]) if drop else frame.copy()
    out = pd.concat([out.reset_index(drop=True), pd.DataFrame(new)], axis=1)
    return out, n_words


def dice_sql(column: str, n_words: int = DEFAULT_WORDS, *, prefixes: bool = False) -> str:
    """SQL for the Dice coefficient of ``column`` between the left and right records of
    a Splink comparison (columns ``<name>_l`` / ``<name>_r``; with ``prefixes``, those of
    a blocking rule, ``l.<name>`` / ``r.<name>``); null when either has no filter."""

    def side(name: str, s: str) -> str:
        return f"{s}.{name}" if prefixes else f"{name}_{s}"

    terms = " + ".join(
        f"bit_count({side(w, 'l')} & {side(w, 'r')})" for w in word_columns(column, n_words)
    )
    pcs = f"{side(column + '_pc', 'l')} + {side(column + '_pc', 'r')}"
    return f"(2.0 * (CAST(0 AS INTEGER) + {terms}) / ({pcs}))"


def dice_at_least_sql(column: str, threshold: float, n_words: int = DEFAULT_WORDS) -> str:
    return f"{dice_sql(column, n_words)} >= {threshold}"


def null_sql(column: str) -> str:
    return f"{column}_pc_l IS NULL OR {column}_pc_r IS NULL"


def dice_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Dice of two aligned (n, w) word matrices (for checks and tests)."""
    inter = popcounts(a & b)
    total = popcounts(a) + popcounts(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2.0 * inter / total, np.nan)
