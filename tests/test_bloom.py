"""Keyed Bloom-filter CLKs: reference equality, keying, domain separation, Dice."""

from __future__ import annotations

import hmac

import numpy as np
import pandas as pd
import pytest

from transforms.bloom import clk_matrix, dice, dice_many, encode_clks

SECRET = bytes((b * 37 + 11) % 251 for b in range(32))
OTHER = bytes((b * 53 + 3) % 241 for b in range(32))


def reference_clk(value: str, secret: bytes, domain: str, n_bits=1024, k=20) -> bytes:
    """Slow, obviously-correct Schnell encoding to check the vectorised one against."""
    padded = f" {value} "
    bits = set()
    for bigram in {padded[i : i + 2] for i in range(len(padded) - 1)}:
        d = hmac.digest(secret, domain.encode() + b"\x1f" + bigram.encode(), "sha256")
        h1 = int.from_bytes(d[:8], "little")
        h2 = int.from_bytes(d[8:16], "little") | 1
        bits |= {((h1 + i * h2) % 2**64) % n_bits for i in range(k)}
    return sum(1 << b for b in bits).to_bytes(n_bits // 8, "little")


def test_vectorised_encoding_equals_the_reference():
    values = ["JOHN", "SMITH-JONES", "O'BRIEN", "ZOË", "ЛЕНА", "王芳", "A", "12 OAK STREET DE4 3AG"]
    got = encode_clks(pd.Series(values), SECRET, "clk_name")
    for value, clk in zip(values, got, strict=True):
        assert clk == reference_clk(value, SECRET, "clk_name"), value


def test_block_boundaries_and_many_lengths_match_reference(monkeypatch):
    import transforms.bloom as bloom

    monkeypatch.setattr(bloom, "BLOCK", 3)  # force several blocks with new bigrams in each
    values = ["AB", "ABCDEFGHIJ", "XY", "QRSTUV", "ÅÄÖ", "AB", "LONGER VALUE HERE", "Z"]
    got = encode_clks(pd.Series(values), SECRET, "d", n_bits=256, k=7)
    for value, clk in zip(values, got, strict=True):
        assert clk == reference_clk(value, SECRET, "d", 256, 7), value


def test_fixed_length_bytes_and_nulls():
    got = encode_clks(pd.Series(["JOHN", None, "", np.nan]), SECRET, "clk_name")
    assert isinstance(got.iloc[0], bytes) and len(got.iloc[0]) == 128
    assert got.iloc[1] is None and got.iloc[2] is None and got.iloc[3] is None
    assert encode_clks(pd.Series(["JOHN"]), SECRET, "x", n_bits=512).iloc[0].__len__() == 64


def test_same_value_same_filter_different_key_or_domain_differs():
    a = encode_clks(pd.Series(["JOHN SMITH", "JOHN SMITH"]), SECRET, "clk_name")
    assert a.iloc[0] == a.iloc[1]
    assert encode_clks(pd.Series(["JOHN SMITH"]), OTHER, "clk_name").iloc[0] != a.iloc[0]
    assert encode_clks(pd.Series(["JOHN SMITH"]), SECRET, "clk_address").iloc[0] != a.iloc[0]


def test_dice_high_for_a_typo_low_for_unrelated():
    clk = encode_clks(
        pd.Series(["CATHERINE", "CATHRINE", "KATHERINE", "MOHAMMED"]), SECRET, "clk_name"
    )
    assert dice(clk[0], clk[1]) > 0.85
    assert dice(clk[0], clk[2]) > 0.7
    assert dice(clk[0], clk[3]) < 0.5
    assert dice(clk[0], clk[0]) == 1.0


def test_dice_reference_and_edge_cases():
    a = (0b1011).to_bytes(2, "little")
    b = (0b0011).to_bytes(2, "little")
    assert dice(a, b) == pytest.approx(2 * 2 / (3 + 2))
    assert dice(None, a) == 0.0
    assert dice(bytes(2), bytes(2)) == 0.0
    with pytest.raises(ValueError):
        dice(a, bytes(3))
    many = dice_many(pd.Series([a, None]), pd.Series([b, b]))
    assert many[0] == pytest.approx(0.8) and np.isnan(many[1])


def test_bad_parameters_refused():
    with pytest.raises(ValueError):
        clk_matrix(["A"], SECRET, "d", n_bits=100)
    with pytest.raises(ValueError):
        clk_matrix(["A"], SECRET, "d", k=0)


def test_composite_matrix_ors_each_rows_parts():
    from transforms.bloom import composite_matrix, matrix_to_arrow

    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**63, (4, 16)).astype(np.uint64)
    b = rng.integers(0, 2**63, (3, 16)).astype(np.uint64)
    codes_a = np.array([0, 3, -1, -1, 2])
    codes_b = np.array([1, -1, 2, -1, 0])
    got = composite_matrix([(a, codes_a), (b, codes_b)])
    want = np.zeros((5, 16), dtype=np.uint64)
    for r in range(5):
        if codes_a[r] >= 0:
            want[r] |= a[codes_a[r]]
        if codes_b[r] >= 0:
            want[r] |= b[codes_b[r]]
    assert (got == want).all()
    arr = matrix_to_arrow(got)
    values = arr.to_pylist()
    assert values[3] is None  # no part: a null, not 128 zero bytes
    assert values[0] == want[0].astype("<u8").tobytes()
    assert [v is None for v in values] == [False, False, False, True, False]
