"""CLK bytes -> 64-bit words and popcounts, from object and from Arrow columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.link.dice import clk_matrix_from_bytes, dice_numpy, popcounts


def clks(n: int = 500, n_bytes: int = 32) -> list[bytes | None]:
    rng = np.random.default_rng(7)
    out = [
        rng.integers(0, 256, n_bytes, dtype=np.uint8).tobytes() if i % 5 else None for i in range(n)
    ]
    out[3] = b""  # empty: no filter
    return out


def test_popcounts_count_every_bit_of_negative_words_too():
    words = np.array([[-1, 0], [1, -(2**63)], [0x0F0F, 3]], dtype=np.int64)
    assert popcounts(words).tolist() == [64, 2, 10]
    reference = np.unpackbits(words.view(np.uint8), axis=1).sum(axis=1)
    assert popcounts(words).tolist() == reference.tolist()


def test_arrow_columns_give_the_same_words_as_python_bytes():
    raw = clks()
    expected, present = clk_matrix_from_bytes(pd.Series(raw, dtype=object))
    for arrow in (
        pa.array(raw, pa.large_binary()),
        pa.array(raw, pa.binary()),
        pa.chunked_array(
            [pa.array(raw[:200], pa.large_binary()), pa.array(raw[200:], pa.large_binary())]
        ),
    ):
        words, got = clk_matrix_from_bytes(pd.Series(pd.arrays.ArrowExtensionArray(arrow)))
        assert (got == present).all() and (words == expected).all()
    sliced = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(raw, pa.large_binary()))).iloc[7:300]
    words, got = clk_matrix_from_bytes(sliced.reset_index(drop=True))
    assert (words == expected[7:300]).all() and (got == present[7:300]).all()
    assert not present[3] and not present[0] and present[1]


def test_a_null_slot_with_bytes_behind_it_is_still_missing():
    full = pa.array([b"A" * 16, b"B" * 16, b"C" * 16], pa.large_binary())
    validity = pa.py_buffer(np.packbits([1, 0, 1], bitorder="little").tobytes())
    holed = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 3, [validity, full.buffers()[1], full.buffers()[2]], null_count=1
    )
    words, present = clk_matrix_from_bytes(pd.Series(pd.arrays.ArrowExtensionArray(holed)))
    assert present.tolist() == [True, False, True]
    assert words[2].view(np.uint8).tolist() == [ord("C")] * 16 and not words[1].any()


def test_dice_of_identical_filters_is_one():
    words, _ = clk_matrix_from_bytes(pd.Series(clks(10), dtype=object))
    d = dice_numpy(words, words)
    assert np.isnan(d[0]) and np.allclose(d[1:3], 1.0)
