"""Deterministic pass: NHS number token plus a compatible date of birth."""

from __future__ import annotations

import pandas as pd

from transforms.link.deterministic import deterministic_pairs


def rec(source, rid, nhs, dob, swapped=None, ym=None, yd=None, md=None):
    return {
        "source": source,
        "source_record_id": rid,
        "tok_nhs_number": nhs,
        "tok_dob": dob,
        "tok_dob_swapped": swapped,
        "tok_dob_ym": ym,
        "tok_dob_yd": yd,
        "tok_dob_md": md,
    }


def test_same_number_and_dob_links_and_pairs_are_ordered():
    df = pd.DataFrame(
        [
            rec("dchs", "2", "n1", "d1", ym="a", yd="b", md="c"),
            rec("dcc", "1", "n1", "d1", ym="a", yd="b", md="c"),
        ]
    )
    pairs = deterministic_pairs(df)
    assert pairs[["uid_l", "uid_r"]].to_numpy().tolist() == [["dcc:1", "dchs:2"]]
    assert set(pairs.route) == {"deterministic"}


def test_day_month_swap_and_two_of_three_parts_are_compatible():
    df = pd.DataFrame(
        [
            rec("dcc", "1", "n1", "d1", swapped="d1s", ym="y1m1", yd="y1d1", md="m1d1"),
            rec("dchs", "2", "n1", "d1s", swapped="d1", ym="y1m9", yd="y1d9", md="m9d9"),
            rec("dcc", "3", "n2", "d3", ym="y3m3", yd="y3d3", md="m3d3"),
            rec("dchs", "4", "n2", "d4", ym="y3m3", yd="y3d4", md="m3d4"),  # day typo
        ]
    )
    pairs = deterministic_pairs(df)
    assert sorted(map(tuple, pairs[["uid_l", "uid_r"]].to_numpy().tolist())) == [
        ("dcc:1", "dchs:2"),
        ("dcc:3", "dchs:4"),
    ]


def test_shared_number_with_an_incompatible_dob_is_not_linked_and_missing_numbers_never_are():
    df = pd.DataFrame(
        [
            rec("dcc", "1", "n1", "d1", ym="a", yd="b", md="c"),
            rec("dchs", "2", "n1", "d2", ym="x", yd="y", md="z"),
            rec("dcc", "3", None, "d1", ym="a", yd="b", md="c"),
            rec("dchs", "4", None, "d1", ym="a", yd="b", md="c"),
        ]
    )
    assert deterministic_pairs(df).empty
