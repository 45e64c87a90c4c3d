"""The batch HMAC gives exactly the one-shot standard library's tokens."""

from __future__ import annotations

import hmac

import pyarrow as pa
import pytest

from transforms.hmac_batch import hmac_hex_tokens

SECRET = bytes(range(7, 39))
PREFIX = b"nhs_number\x1f"


def expected(values, secret=SECRET, prefix=PREFIX, width=32):
    return [
        None if v is None else hmac.new(secret, prefix + v.encode(), "sha256").hexdigest()[:width]
        for v in values
    ]


# every length from empty to past two SHA-256 blocks, so the padding crosses each boundary
# (a message of 55, 56 and 64 bytes with the prefix needs one, two and two blocks)
LENGTHS = [("x" * n) for n in range(0, 140)]
ODD = ["", "0", "é", "名前", "O'BRIEN-SMITH", "a\x1fb", "🙂" * 20, None, "943 476 5919"]


@pytest.mark.parametrize("width", [2, 32, 64])
def test_tokens_equal_the_standard_library(width):
    values = LENGTHS + ODD
    got = hmac_hex_tokens(SECRET, PREFIX, pa.array(values, pa.string()), width)
    assert got.type == pa.large_string()
    assert got.to_pylist() == expected(values, width=width)


@pytest.mark.parametrize("secret", [b"", b"k", bytes(64), bytes(range(100))])
def test_keys_of_every_length(secret):
    """Keys longer than a block are hashed first, shorter ones padded (RFC 2104)."""
    values = ["1940-03-07", "SMITH", None]
    got = hmac_hex_tokens(secret, b"dob\x1f", pa.array(values), 32).to_pylist()
    assert got == expected(values, secret=secret, prefix=b"dob\x1f")


def test_slices_chunks_and_large_strings():
    values = [str(4_000_000_000 + i) for i in range(50)] + [None]
    arr = pa.array(values)
    sliced = arr.slice(7, 30)
    assert hmac_hex_tokens(SECRET, PREFIX, sliced, 32).to_pylist() == expected(values[7:37])
    chunked = pa.chunked_array([arr.slice(0, 10), arr.slice(10)])
    assert hmac_hex_tokens(SECRET, PREFIX, chunked, 32).to_pylist() == expected(values)
    large = arr.cast(pa.large_string())
    assert hmac_hex_tokens(SECRET, PREFIX, large, 32).to_pylist() == expected(values)
    assert hmac_hex_tokens(SECRET, PREFIX, pa.array([], pa.string()), 32).to_pylist() == []


def test_many_values_in_one_call():
    values = [f"{i:010d}" for i in range(20_011)]  # several work units and a ragged end
    got = hmac_hex_tokens(SECRET, PREFIX, pa.array(values), 32).to_pylist()
    assert got == expected(values)
    assert len(set(got)) == len(values)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="width"):
        hmac_hex_tokens(SECRET, PREFIX, pa.array(["a"]), 33)
    with pytest.raises(ValueError, match="width"):
        hmac_hex_tokens(SECRET, PREFIX, pa.array(["a"]), 66)
    with pytest.raises(TypeError, match="string"):
        hmac_hex_tokens(SECRET, PREFIX, pa.array([1, 2]), 32)


def test_rfc_4231_known_answer():
    """Test case 2 of RFC 4231, split into a prefix and a value: tokens made before and
    after any change of implementation are byte-identical."""
    got = hmac_hex_tokens(b"Jefe", b"what do ya want ", pa.array(["for nothing?"]), 64)
    assert got.to_pylist() == ["5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"]
