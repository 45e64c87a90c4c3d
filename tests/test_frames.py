"""transforms.frames.isin agrees with pandas' own isin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from transforms.frames import isin


def test_isin_matches_pandas_for_every_kind_of_input():
    values = pd.Series(["a", "b", None, "c", "a"], dtype="str")
    want = values.isin(["a", "c"]).to_numpy()
    for candidates in (["a", "c"], {"a", "c"}, pd.Index(["c", "a"]), pa.array(["a", "c"])):
        assert isin(values, candidates).tolist() == want.tolist()
    assert isin(values, []).tolist() == [False] * 5
    assert isin(pd.Index(["x", "a"]), np.array(["a"], dtype=object)).tolist() == [False, True]


def test_nulls_are_never_in():
    assert isin(pd.Series([None, "a"], dtype="str"), [None, "a"]).tolist() == [False, True]


def test_key_strings_tell_composite_keys_apart():
    from transforms.frames import key_strings

    frame = pd.DataFrame({"a": ["x", "x", "xy", None], "b": ["yz", "y", "z", "q"]})
    keys = key_strings(frame, ["a", "b"]).to_pylist()
    assert len(set(keys)) == 4  # x|yz and xy|z differ


def test_index_of_gives_positions_and_minus_one_for_the_missing():
    from transforms.frames import index_of

    got = index_of(pd.Series(["b", None, "z", "a"], dtype="str"), ["a", "b", "b"])
    assert got.tolist() == [1, -1, -1, 0]
