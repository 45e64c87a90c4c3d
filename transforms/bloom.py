"""Keyed Bloom-filter encodings (cryptographic long-term keys, CLKs) of character bigrams.

The scheme is Schnell, Bachteler & Reiher (2009), "Privacy-preserving record linkage
using Bloom filters", BMC Medical Informatics and Decision Making 9:41:

* each value is padded with one space at each end and split into character bigrams
  (``" JO", "JO", "OH", "HN", "N "`` for ``JOHN``), as a *set*;
* each bigram sets ``k`` bits of an ``n_bits`` filter, at positions from double hashing
  ``(h1 + i*h2) mod n_bits`` for ``i = 0..k-1`` (Kirsch & Mitzenmacher). ``h1``/``h2``
  are the first two 64-bit words of ``HMAC-SHA256(secret, domain + '\\x1f' + bigram)``,
  so the positions are keyed (no dictionary attack without the key) and
  domain-separated (a name bigram and an address bigram land in different places);
  ``h2`` is forced odd so the ``k`` positions never cycle early;
* filters of several values for one record are OR-ed (a composite CLK).

Defaults: ``n_bits = 1024``, ``k = 20`` (the parameters commonly used with anonlink /
clkhash and close to Schnell's l=1000). A name of ~12 bigrams sets ~21% of the bits and
an address of ~30 bigrams ~44%, near the 50% fill that balances accuracy and resistance
to frequency attacks. Values longer than ``MAX_CHARS`` characters are truncated.

Output bytes: the filter as ``n_bits // 64`` little-endian uint64 words, i.e. bit ``p``
is bit ``p % 8`` of byte ``p // 8``. Similarity is the Dice coefficient
``2|A∩B| / (|A|+|B|)`` (see :func:`dice`).

Performance: a run hashes each distinct bigram once (a few thousand HMACs), turns every
distinct value into a matrix of bigram ids with numpy (no per-character Python), and ORs
the per-bigram bit masks column by column. Only distinct values are encoded.
"""

from __future__ import annotations

import hmac

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

DEFAULT_BITS = 1024
DEFAULT_K = 20
MAX_CHARS = 80
#: values encoded per block (bounds memory: block * MAX_CHARS * 8 bytes of bigram ids)
BLOCK = 65_536
PAD = " "


def _bigram_positions(secret: bytes, domain: str, bigrams: list[str], n_bits: int, k: int):
    """(len(bigrams), n_bits//64) uint64 masks, one per bigram."""
    words = n_bits // 64
    masks = np.zeros((len(bigrams) + 1, words), dtype=np.uint64)  # last row: no bigram
    prefix = domain.encode("utf-8") + b"\x1f"
    i = np.arange(k, dtype=np.uint64)
    for row, bg in enumerate(bigrams):
        d = hmac.digest(secret, prefix + bg.encode("utf-8"), "sha256")
        h1 = np.uint64(int.from_bytes(d[:8], "little"))
        h2 = np.uint64(int.from_bytes(d[8:16], "little") | 1)
        pos = (h1 + i * h2) % np.uint64(n_bits)  # uint64 arithmetic wraps: still uniform
        np.bitwise_or.at(
            masks[row], (pos // 64).astype(np.intp), np.uint64(1) << (pos % np.uint64(64))
        )
    return masks


def _codepoints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded values as an (n, L) uint32 code-point matrix and their lengths."""
    padded = np.char.add(np.char.add(PAD, values.astype(f"U{MAX_CHARS}")), PAD)
    width = padded.dtype.itemsize // 4
    cps = padded.view(np.uint32).reshape(len(padded), width)
    lengths = np.char.str_len(padded)
    return cps, lengths


def clk_matrix(
    values,
    secret: bytes,
    domain: str,
    n_bits: int = DEFAULT_BITS,
    k: int = DEFAULT_K,
) -> np.ndarray:
    """(n, n_bits//64) uint64 filters for a sequence of non-null strings (row per value).

    Empty strings give an all-zero row. Callers pass distinct values only.
    """
    if n_bits % 64 or n_bits <= 0:
        raise ValueError("n_bits must be a positive multiple of 64")
    if k <= 0:
        raise ValueError("k must be positive")
    values = np.asarray(values, dtype=object)
    n = len(values)
    words = n_bits // 64
    out = np.zeros((n, words), dtype=np.uint64)
    if n == 0:
        return out
    cache: dict[int, int] = {}  # bigram code -> row in masks
    mask_blocks: list[np.ndarray] = []
    masks = np.zeros((1, words), dtype=np.uint64)
    for start in range(0, n, BLOCK):
        block = values[start : start + BLOCK]
        cps, lengths = _codepoints(block)
        cps = cps.astype(np.int64)
        codes = (cps[:, :-1] << 21) | cps[:, 1:]  # code points < 2**21
        valid = np.arange(codes.shape[1])[None, :] < (lengths[:, None] - 1)
        flat = codes[valid]
        uniq = pd.unique(flat)
        new = [int(c) for c in uniq if int(c) not in cache]
        if new:
            bigrams = [chr(c >> 21) + chr(c & 0x1FFFFF) for c in new]
            fresh = _bigram_positions(secret, domain, bigrams, n_bits, k)[:-1]
            base = sum(len(b) for b in mask_blocks)
            for j, c in enumerate(new):
                cache[c] = base + j
            mask_blocks.append(fresh)
            masks = np.vstack([*mask_blocks, np.zeros((1, words), dtype=np.uint64)])
        empty_row = len(masks) - 1
        lookup_keys = np.fromiter(cache.keys(), dtype=np.int64, count=len(cache))
        lookup_rows = np.fromiter(cache.values(), dtype=np.int64, count=len(cache))
        order = np.argsort(lookup_keys)
        lookup_keys, lookup_rows = lookup_keys[order], lookup_rows[order]
        ids = np.full(codes.shape, empty_row, dtype=np.int64)
        ids[valid] = lookup_rows[np.searchsorted(lookup_keys, flat)]
        # longest first, so the rows that still have a bigram in column j are a prefix
        order = np.argsort(-lengths, kind="stable")
        ids = ids[order]
        active = np.searchsorted(-(lengths[order] - 1), -np.arange(1, ids.shape[1] + 1), "right")
        acc = np.zeros((len(block), words), dtype=np.uint64)
        for col in range(ids.shape[1]):
            rows = int(active[col])
            if rows == 0:
                break
            acc[:rows] |= masks[ids[:rows, col]]
        out[start + order] = acc
    return out


def matrix_to_bytes(matrix: np.ndarray) -> list[bytes]:
    """One ``bytes`` per row (little-endian words)."""
    if len(matrix) == 0:
        return []
    m = np.ascontiguousarray(matrix.astype("<u8", copy=False))
    raw = m.view(np.uint8).reshape(len(m), -1)
    width = raw.shape[1]
    blob = raw.tobytes()
    return [blob[i : i + width] for i in range(0, len(blob), width)]


@njit(cache=True, nogil=True)
def _or_rows(table, rows, out):
    """``out[r] = OR over p of table[rows[r, p]]`` (compiled; releases the GIL)."""
    n, parts = rows.shape
    for r in range(n):
        for w in range(table.shape[1]):
            acc = np.uint64(0)
            for p in range(parts):
                acc |= table[rows[r, p], w]
            out[r, w] = acc


def composite_matrix(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """(n, words) uint64: per row the OR of ``matrix[code]`` over the (matrix, codes)
    parts, where code -1 means the row has no value for that part."""
    sizes = [len(m) for m, _ in parts]
    table = np.vstack([m for m, _ in parts] + [np.zeros((1, parts[0][0].shape[1]), np.uint64)])
    starts = np.cumsum([0, *sizes[:-1]])
    rows = np.column_stack(
        [np.where(c < 0, len(table) - 1, c + s) for (_, c), s in zip(parts, starts, strict=True)]
    )
    out = np.empty((len(rows), table.shape[1]), dtype=np.uint64)
    _or_rows(np.ascontiguousarray(table), np.ascontiguousarray(rows), out)
    return out


def matrix_to_arrow(matrix: np.ndarray) -> pa.LargeBinaryArray:
    """One binary value per row (little-endian words), null where no bit is set.

    The matrix itself becomes the array's data buffer, with no Python object per row; a
    null row keeps its (zero) bytes, as Arrow allows a null slot a positive length.
    """
    present = matrix.any(axis=1)
    width = matrix.shape[1] * 8
    data = np.ascontiguousarray(matrix.astype("<u8", copy=False)).view(np.uint8)
    offsets = np.arange(0, (len(matrix) + 1) * width, width, dtype=np.int64)
    n_null = int(len(matrix) - present.sum())
    validity = pa.array(present, pa.bool_()).buffers()[1] if n_null else None
    return pa.LargeBinaryArray.from_buffers(
        pa.large_binary(),
        len(matrix),
        [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
        n_null,
    )


def encode_clks(
    values: pd.Series,
    secret: bytes,
    domain: str,
    n_bits: int = DEFAULT_BITS,
    k: int = DEFAULT_K,
) -> pd.Series:
    """CLK ``bytes`` per value (``None`` for null or empty), same index as ``values``.

    Values should already be normalised (see :mod:`transforms.standardise.text`).
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniq = np.asarray(uniques, dtype=object)
    matrix = clk_matrix(uniq, secret, domain, n_bits, k)
    encoded = np.empty(len(uniq) + 1, dtype=object)
    encoded[:-1] = matrix_to_bytes(matrix)
    encoded[-1] = None
    empty = np.array([u == "" for u in uniq] + [False], dtype=bool)
    encoded[empty] = None
    return pd.Series(encoded[codes], index=values.index, dtype=object, name=values.name)


def popcount(data: bytes) -> int:
    return int.from_bytes(data, "little").bit_count()


def dice(a: bytes | None, b: bytes | None) -> float:
    """Dice coefficient of two equal-length filters; 0.0 when either is missing/empty."""
    if a is None or b is None:
        return 0.0
    if len(a) != len(b):
        raise ValueError("filters differ in length")
    ia, ib = int.from_bytes(a, "little"), int.from_bytes(b, "little")
    total = ia.bit_count() + ib.bit_count()
    return 0.0 if total == 0 else 2 * (ia & ib).bit_count() / total


def dice_many(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise Dice of two aligned Series of filters (NaN where either is null)."""
    out = np.full(len(a), np.nan)
    for i, (x, y) in enumerate(zip(a.to_numpy(), b.to_numpy(), strict=True)):
        if x is not None and y is not None and not (isinstance(x, float) or isinstance(y, float)):
            out[i] = dice(x, y)
    return out
