"""Two-file linking beyond the nightly sources' shape: files without UK postcodes, whole
addresses, wide blocking within a budget, look-alike caps and the share of records with
a match estimated from the files themselves (real Splink on DuckDB, real tokens)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transforms.config import LinkSettings
from transforms.keys import key_from_material
from transforms.link.blocking import (
    BLOCKING_RULES,
    WIDE_BLOCKING_PAIRS_PER_RECORD,
    WIDE_BLOCKING_RULES,
    WITHIN_FILE_RULES,
    _cross_file_pairs_of_rule,
    blocking_counts,
    cross_file,
    two_file_blocking_rules,
)
from transforms.link.comparisons import comparisons
from transforms.link.lookalike_guard import GUARD_CAP, _gamma, family_kind, lookalike_caps
from transforms.link.predict import predict_pairs
from transforms.link.training import train_model
from transforms.standardise.person import standardise_dchs_patient
from transforms.two_file.command import (
    MAX_SHARE_MATCHED,
    estimate_shares_matched,
    link_caps,
    link_files,
    localities,
    one_to_one_probabilities,
    person_records,
)

KEY = key_from_material("9b1d3f5a7c9e0b2d4f6a8c0e1f3b5d7a9c1e3f5b7d9a0c2e4f6b8d0a2c4e6f81")
LINK = LinkSettings.from_env()

GIVEN = ("olivia amelia isla ava mia ivy lily rosie grace freya noah oliver george leo "
         "arthur harry oscar jack henry charlie theo finley archie alfie").split()  # fmt: skip
FAMILY = ("smith jones taylor brown williams wilson johnson davies patel wright walker "
          "robinson thompson white hughes edwards green hall wood harris lewis martin "
          "jackson clarke clark turner hill scott cooper morris ward moore king watson "
          "baker harrison morgan young allen mitchell").split()  # fmt: skip
STREETS = "wattle banksia acacia jacaranda bottlebrush waratah grevillea boronia".split()


def australians(n: int, seed: int) -> pd.DataFrame:
    """People with four-digit postcodes and whole addresses, no NHS number, no sex."""
    rng = np.random.default_rng(seed)
    dob = pd.to_datetime("1930-01-01") + pd.to_timedelta(rng.integers(0, 30_000, n), unit="D")
    return (
        pd.DataFrame(
            {
                "record_id": [f"A{i:05d}" for i in range(n)],
                "nhs_number": None,
                "given_name": rng.choice(GIVEN, n),
                "family_name": rng.choice(FAMILY, n),
                "date_of_birth": dob.strftime("%Y-%m-%d"),
                "sex": None,
                "postcode": [str(x) for x in rng.integers(2000, 2400, n)],
                "address": [
                    f"{rng.integers(1, 200)} {rng.choice(STREETS)} street, suburb {rng.integers(1, 60)}"
                    for _ in range(n)
                ],
            }
        )
        .astype(object)
        .pipe(lambda df: df.where(df.notna(), None))
    )


def corrupted(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A copy with one field per record typed wrong, dropped or replaced."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    out["record_id"] = [f"B{i:05d}" for i in range(len(df))]
    for i in range(len(df)):
        col = rng.choice(["given_name", "family_name", "date_of_birth", "postcode", "none"])
        if col == "none":
            continue
        value = str(out.loc[i, col])
        if col == "date_of_birth":
            out.loc[i, col] = None
        elif col == "postcode":
            out.loc[i, col] = value[:2] + value[3] + value[2]  # two digits swapped
        else:
            j = int(rng.integers(1, len(value)))
            out.loc[i, col] = value[:j] + value[j + 1 :]  # a letter dropped
    return out


def test_a_postcode_from_elsewhere_is_kept_whole():
    people = pd.DataFrame(
        {"record_id": ["1", "2", "3", "4"], "nhs_number": None, "given_name": "ann",
         "family_name": "lee", "date_of_birth": "1950-01-01", "sex": None,
         "postcode": ["2612", "de4 3ag", None, "75 008"],
         "address": ["12 Oak Street", "12 Oak Street", None, "4 Rue Cler, Paris"]}
    ).astype(object)  # fmt: skip
    people = people.where(people.notna(), None)
    from transforms.two_file.command import to_patient_shape

    std = standardise_dchs_patient(to_patient_shape(people), other_postcodes=True)
    nightly = standardise_dchs_patient(to_patient_shape(people))  # UK postcodes only
    assert nightly["postcode"].isna().tolist() == [True, False, True, True]

    def values(col):
        return [v if isinstance(v, str) else None for v in std[col]]

    assert values("postcode") == ["2612", "DE4 3AG", None, "75008"]
    assert values("postcode_sector") == [None, "DE4 3", None, None]  # a UK one as before
    assert std["address_norm"].tolist()[0] == "12 OAK STREET 2612"
    records = person_records(people, KEY, "left")
    assert records["tok_postcode"].notna().tolist() == [True, True, False, True]
    assert records["tok_postcode_district"].notna().tolist() == [False, True, False, False]


def test_the_address_after_its_first_line_is_its_locality():
    got = localities(pd.Series(["12 Oak Road, Darley Dale, Matlock", "12 Oak Road", None]))
    assert got.tolist() == ["DARLEY DALE MATLOCK", None, None]
    # and it is in the address filter: two records alike but for the town differ there
    a = australians(2, seed=1)
    a.loc[1] = a.loc[0]
    a.loc[1, ["record_id", "address"]] = ["A1", a.loc[0, "address"].split(",")[0] + ", elsewhere"]
    clk = person_records(a, KEY, "left")["clk_address"]
    assert clk.iloc[0] != clk.iloc[1]


def test_a_failed_em_session_leaves_every_comparison_in_the_model():
    """Splink takes a session's comparisons out of the model while it runs and puts them
    back only when it succeeds: with no UK postcode, the postcode session finds no pairs,
    and the model once came out without its given-name and address comparisons (every
    pair then scored on family name and date of birth alone)."""
    left = australians(1500, seed=2)
    left["postcode"] = None  # no session on the postcode can find a pair
    records = person_records(left, KEY, "left")
    model = train_model(records, link_settings=LINK, seed=3)
    names = [c["output_column_name"] for c in model["comparisons"]]
    assert names == [c["output_column_name"] for c in comparisons()]
    given = next(c for c in model["comparisons"] if c["output_column_name"] == "given_name")
    assert all(
        lv.get("m_probability") is not None
        for lv in given["comparison_levels"]
        if not lv.get("is_null_level")
    )


def test_wide_blocking_rules_are_added_within_the_budget():
    left = australians(600, seed=4)
    records = pd.concat(
        [person_records(left, KEY, "left"), person_records(corrupted(left, 5), KEY, "right")],
        ignore_index=True,
    )
    base = [r if r in WITHIN_FILE_RULES else cross_file(r) for r in BLOCKING_RULES]
    wide = [cross_file(r) for r in WIDE_BLOCKING_RULES]
    counts = blocking_counts(records, link_settings=LINK, rules=[*base, *wide])
    narrow = int(counts["cumulative_pairs"].iloc[len(base) - 1])
    assert two_file_blocking_rules(records, budget=10**7, link_settings=LINK) == [*base, *wide]
    # a budget the narrow rules already fill: none of the wide ones
    assert two_file_blocking_rules(records, budget=narrow, link_settings=LINK) == base
    # a budget with room for the postcode rule's pairs only
    postcode_pairs = int(counts["marginal_pairs"].iloc[len(base)])
    assert postcode_pairs > 0
    got = two_file_blocking_rules(records, budget=narrow + postcode_pairs, link_settings=LINK)
    assert got == [*base, wide[0]]


def test_two_file_rules_pair_records_of_one_file_only_for_the_family_counts():
    """Within one file only the rules that find families (one date of birth; one family
    name and home) pair records: a given name and postcode sector shared by two records
    of LEFT is no candidate, the same pair across the files is."""
    people = pd.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "nhs_number": None,
            "given_name": ["Ada", "Ada", "Ada"],
            "family_name": ["Lovelace", "Byron", "Byron"],
            "date_of_birth": ["1915-12-10", "1952-01-02", "1952-01-02"],
            "sex": "F",
            "postcode": ["DE4 3AA", "DE4 3BB", "DE4 3BB"],
            "address": ["1 Oak Road", "9 Elm Road", "9 Elm Road"],
        }
    )
    records = pd.concat(
        [
            person_records(people.iloc[[0, 1]].reset_index(drop=True), KEY, "left"),
            person_records(people.iloc[[2]].reset_index(drop=True), KEY, "right"),
        ],
        ignore_index=True,
    )
    model = train_model(pd.concat([records] * 1, ignore_index=True), link_settings=LINK, seed=1)
    rules = two_file_blocking_rules(records, budget=0, link_settings=LINK)
    pairs = predict_pairs(
        records, model=model, link_settings=LINK, threshold=0.0, blocking_rules=rules
    )
    got = set(zip(pairs["source_record_id_l"], pairs["source_record_id_r"], strict=True))
    # a-b (LEFT, given name + sector only): not scored; b-c (one date of birth): scored;
    # a-c (across, given name + sector): scored
    assert {frozenset(p) for p in got} == {frozenset({"b", "c"}), frozenset({"a", "c"})}


def test_cross_file_pairs_of_a_rule_by_hand():
    records = pd.DataFrame(
        {
            "source": ["left", "left", "left", "right", "right", "right", "right"],
            "tok_postcode": ["x", "x", "y", "x", "y", "y", None],
        }
    )
    # x: 2 LEFT x 1 RIGHT, y: 1 x 2; the null key pairs nothing
    assert _cross_file_pairs_of_rule(records, "l.tok_postcode = r.tok_postcode") == 4


def test_default_budget_grows_with_the_records():
    left = australians(200, seed=6)
    records = pd.concat(
        [person_records(left, KEY, "left"), person_records(corrupted(left, 7), KEY, "right")],
        ignore_index=True,
    )
    expected = two_file_blocking_rules(
        records, budget=WIDE_BLOCKING_PAIRS_PER_RECORD * len(records), link_settings=LINK
    )
    assert two_file_blocking_rules(records, link_settings=LINK) == expected
    # 400 records: ~100 pairs per one-field name rule key, all four fit at 50 per record
    assert len(expected) > len(BLOCKING_RULES)


def _family_pairs(model: dict, n_within: int, n_cross: int) -> pd.DataFrame:
    """Twin-like pairs (one family name, date of birth and home; given names apart)."""
    n = n_within + n_cross
    return pd.DataFrame(
        {
            "source_l": ["left"] * n,
            "source_r": ["left"] * n_within + ["right"] * n_cross,
            "gamma_given_name": _gamma(model, "given_name", "else"),
            "gamma_family_name": _gamma(model, "family_name", "exact"),
            "gamma_dob": _gamma(model, "dob", "exact"),
            "gamma_address": _gamma(model, "address", "exact address"),
            "gamma_nhs_number": -1,
            "gamma_sex": -1,
            "given_dice": 0.2,
        }
    )


def test_lookalike_caps_follow_the_families_the_files_hold():
    model = {"comparisons": comparisons()}
    # files holding twins (pairs of two people, as each file is de-duplicated): strict
    caps = lookalike_caps(_family_pairs(model, n_within=30, n_cross=40), model)
    assert caps == pytest.approx(np.full(70, GUARD_CAP))
    # files holding none: the kind's cap is one look-alike in its cross-file pairs
    caps = lookalike_caps(_family_pairs(model, n_within=0, n_cross=400), model)
    assert caps == pytest.approx(np.full(400, 1 - 1 / 400))
    # not a look-alike: no cap; two valid NHS numbers that differ: always GUARD_CAP
    pairs = _family_pairs(model, 0, 3).assign(
        gamma_given_name=[_gamma(model, "given_name", "exact")] * 3,
        gamma_nhs_number=[-1, _gamma(model, "nhs_number", "else"), -1],
    )
    caps = lookalike_caps(pairs, model)
    assert np.isnan(caps[0]) and caps[1] == GUARD_CAP and np.isnan(caps[2])


def test_share_matched_is_estimated_from_the_pairs():
    """800 of 1,000 LEFT records have one convincing candidate and 200 a poor one; the
    prior says 30% have a match. The estimate finds 80%."""
    n, prior = 1000, 0.3 / 1000
    strong = 0.999  # a pair's own probability under the prior
    pairs = pd.DataFrame(
        {
            "record_id_l": [f"l{i}" for i in range(n)],
            "record_id_r": [f"r{i}" for i in range(n)],
            "match_probability": [strong] * 800 + [1e-6] * 200,
        }
    )
    shares = estimate_shares_matched(pairs, prior, n, n)
    assert shares == pytest.approx((0.8, 0.8), abs=0.005)
    # no pairs: the prior's share
    assert estimate_shares_matched(pairs.iloc[:0], prior, n, n) == pytest.approx((0.3, 0.3))


@pytest.mark.slow
def test_two_files_without_uk_postcodes_link():
    """Two files from elsewhere (four-digit postcodes, whole addresses, no NHS number,
    no sex), one field corrupted in most records: nearly all link, none wrongly."""
    left = australians(1500, seed=6)
    right = corrupted(left, seed=7)
    links, _, model = link_files(left, right, KEY, link_settings=LINK)
    assert [c["output_column_name"] for c in model["comparisons"]][:4] == [
        "given_name", "family_name", "dob", "address",
    ]  # fmt: skip
    right_pair = links["record_id_l"].str[1:] == links["record_id_r"].str[1:]
    assert right_pair.all()
    assert len(links) >= 0.99 * len(left)


def test_family_kind_names_the_kind_a_link_cap_may_be_lifted_for():
    kinds = pd.DataFrame(
        {
            "twin_like": [True, False, True, False, True],
            "parent_child_like": [False, True, True, False, False],
            "spouse_like": [False, False, False, False, False],
            "namesake": [False, False, False, False, False],
            "nhs_differs": [False, False, False, False, True],
        }
    )
    got = family_kind(kinds).tolist()
    # the first family kind; none for no kind, or beside a kind whose cap is fixed
    assert got == ["twin_like", "parent_child_like", "twin_like", None, None]


def test_a_look_alike_link_cap_follows_the_records_left_without_a_partner():
    """Ten twin-like links. With every record of two ten-record files linked, a family
    pair of two people could hardly be a link (each would have to lack its own record
    in the other file): the cap lifts to nearly 1. With ten of a hundred linked, 81% of
    such pairs would be links, and the cap stays near GUARD_CAP."""
    n = 10
    cross = pd.DataFrame(
        {
            "probability_cap": [GUARD_CAP] * n + [GUARD_CAP, np.nan],
            "lookalike_kind": ["twin_like"] * n + [None, None],
        }
    )
    matched = np.array([True] * n + [False, True])
    full = link_caps(cross, matched, 11, 11, {"twin_like": 4})
    unlinked = (1 - min(11 / 11, MAX_SHARE_MATCHED)) ** 2
    assert full[:n] == pytest.approx(1 - 5 * unlinked / n) and full[0] > 0.9999
    assert full[n] == GUARD_CAP and np.isnan(full[n + 1])  # a fixed cap; none
    sparse = link_caps(cross, matched, 100, 100, {})
    assert sparse[:n] == pytest.approx(1 - 1 * (1 - 11 / 100) ** 2 / n)  # 0.92
    # three such pairs within the files: (3 + 1) x 0.79 of the ten are two people, and
    # the cap is that share's complement (not the review band's GUARD_CAP)
    assert link_caps(cross, matched, 100, 100, {"twin_like": 3})[0] == pytest.approx(
        1 - 4 * (1 - 11 / 100) ** 2 / n
    )
    assert link_caps(cross, matched, 100, 100, {"twin_like": 30})[0] == 0.0
    # and one_to_one_probabilities applies them: a look-alike's link between two files
    # of the same people is not held at the pair's cap
    pairs = pd.DataFrame(
        {
            "record_id_l": ["a", "b"], "record_id_r": ["x", "y"],
            "match_probability": [0.9, 0.99], "probability_cap": [0.9, np.nan],
            "lookalike_kind": ["twin_like", None],
        }
    )  # fmt: skip
    got = one_to_one_probabilities(pairs, 1e-3, 2, 2, {"twin_like": 0})
    assert got[0] > 0.99 and got[1] > 0.99
    # two links in files of twenty: 81% of a family's pairs would lack their own record
    assert one_to_one_probabilities(pairs, 1e-3, 20, 20)[0] == pytest.approx(1 - 0.9**2)
