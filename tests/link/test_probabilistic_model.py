"""The probabilistic model: real Splink on DuckDB over real tokens (no mocks).

One small labelled synthetic sample trains the model once per module; hand-made
people (typos, nicknames, swaps, look-alikes) are scored with it, inside that sample so
term frequencies and the prior are realistic.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from transforms.bloom import dice as py_dice
from transforms.config import LinkSettings
from transforms.keys import key_from_material
from transforms.link.accuracy import clusters_from_pairs, evaluate_against_truth
from transforms.link.backend import duckdb_api, duckdb_limits, for_backend, link_backend, new_linker
from transforms.link.blocking import BLOCKING_RULES
from transforms.link.comparisons import (
    GIVEN_ONLY_DICE,
    MATCH_THRESHOLD,
    REVIEW_BAND,
    base_settings,
    comparisons,
)
from transforms.link.dice import add_clk_word_columns, dice_numpy, dice_sql
from transforms.link.lookalike_guard import _gamma, lookalike_guard, rare_given_spelling_sql
from transforms.link.predict import predict_new_against_existing, predict_pairs, prediction_settings
from transforms.link.records import prepare_records
from transforms.link.training import (
    apply_u_floor,
    estimate_u,
    load_model,
    remove_matches_from_u,
    save_model,
    train_model,
)
from transforms.pseudonymise import pseudonymise_persons
from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient
from transforms.synthetic import GenConfig, generate_chunk
from transforms.two_file.command import person_records

KEY = key_from_material("5f0c2a9e7d31b4c86e2f1a0d9c8b7a6f1e2d3c4b5a69788796a5b4c3d2e1f0a9")
LINK = LinkSettings.from_env()


@pytest.fixture(scope="module")
def sample():
    """(records, truth) for ~4,700 synthetic person records of 5,000 people."""
    tables = generate_chunk(GenConfig(people=5000, days=1, seed=11), 0)
    dcc = tables["person"].to_pandas()
    dchs = tables["patient.csv"].to_pandas().drop(columns=["_night"])
    dchs = dchs.drop_duplicates("local_patient_id", keep="last")
    std = pd.concat(
        [standardise_dcc_person(dcc), standardise_dchs_patient(dchs)], ignore_index=True
    )
    records = pseudonymise_persons(std, KEY)
    records = records[records["record_status"] != "Merged"].reset_index(drop=True)
    truth = (
        tables["truth"]
        .to_pandas()
        .merge(records[["source", "source_record_id"]], on=["source", "source_record_id"])
    )
    return records, truth


@pytest.fixture(scope="module")
def model(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model.json"
    trained = train_model(sample[0], link_settings=LINK, model_out=out, seed=7)
    assert out.exists()
    return trained


def people(rows: list[dict], source: str) -> pd.DataFrame:
    cols = ["record_id", "nhs_number", "given_name", "family_name", "date_of_birth", "sex",
            "postcode", "address"]  # fmt: skip
    df = pd.DataFrame(rows)
    for c in cols:
        if c not in df:
            df[c] = None
    return person_records(df[cols].astype(object).where(df[cols].notna(), None), KEY, source)


def score(sample, model, left_rows, right_rows, **kw) -> pd.DataFrame:
    """Score hand-made records inside the synthetic sample; pairs among them only."""
    extra = pd.concat([people(left_rows, "dcc"), people(right_rows, "dchs")], ignore_index=True)
    records = pd.concat([sample[0], extra], ignore_index=True)
    pairs = predict_pairs(records, model=model, link_settings=LINK, threshold=0.001, **kw)
    ids = set(extra["source_record_id"])
    mine = pairs["source_record_id_l"].isin(ids) & pairs["source_record_id_r"].isin(ids)
    return pairs[mine]


def prob(pairs: pd.DataFrame, a: str, b: str) -> float:
    hit = pairs[
        ((pairs["source_record_id_l"] == a) & (pairs["source_record_id_r"] == b))
        | ((pairs["source_record_id_l"] == b) & (pairs["source_record_id_r"] == a))
    ]
    return float(hit["match_probability"].max()) if len(hit) else 0.0


BASE = {"sex": "F", "postcode": "DE4 3AG", "address": "12 Oak Street"}


def test_model_is_trained_and_saved(model, tmp_path):
    assert model["probability_two_random_records_match"] < 0.01
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1, (comp["output_column_name"], level)
                assert level["u_probability"] is not None
    weights = {
        (c["output_column_name"], lv["label_for_charts"]): np.log2(
            lv["m_probability"] / lv["u_probability"]
        )
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if not lv.get("is_null_level")
    }
    assert weights[("nhs_number", "equal")] > 8
    assert weights[("dob", "exact")] > 8
    assert weights[("given_name", "else")] < -3
    path = save_model(model, tmp_path / "m.json")
    assert load_model(path) == json.loads(path.read_text())


def test_true_matches_with_errors_link(sample, model):
    left = [
        {"record_id": "L1", "given_name": "William", "family_name": "Ashworth",
         "date_of_birth": "1941-03-17", **BASE, "sex": "M"},
        {"record_id": "L2", "given_name": "Katherine", "family_name": "Pemberton",
         "date_of_birth": "1938-05-09", **BASE, "address": "4 Mill Lane", "postcode": "DE56 1QS"},
        {"record_id": "L3", "given_name": "Harold", "family_name": "Greatorex",
         "date_of_birth": "1950-04-08", "sex": "M", "postcode": "S40 2TN",
         "address": "77 Chatsworth Road"},
        {"record_id": "L4", "given_name": "Doreen", "family_name": "Featherstone",
         "date_of_birth": "1933-11-23", **BASE, "address": "9 Bank Road", "postcode": "DE4 3NN"},
    ]  # fmt: skip
    right = [
        # nickname
        {"record_id": "R1", "given_name": "Bill", "family_name": "Ashworth",
         "date_of_birth": "1941-03-17", **BASE, "sex": "M"},
        # typo in the family name
        {"record_id": "R2", "given_name": "Katherine", "family_name": "Pembreton",
         "date_of_birth": "1938-05-09", **BASE, "address": "4 Mill Lane", "postcode": "DE56 1QS"},
        # day/month swap
        {"record_id": "R3", "given_name": "Harold", "family_name": "Greatorex",
         "date_of_birth": "1950-08-04", "sex": "M", "postcode": "S40 2TN",
         "address": "77 Chatsworth Road"},
        # given and family names swapped
        {"record_id": "R4", "given_name": "Featherstone", "family_name": "Doreen",
         "date_of_birth": "1933-11-23", **BASE, "address": "9 Bank Road", "postcode": "DE4 3NN"},
    ]  # fmt: skip
    pairs = score(sample, model, left, right)
    for a, b in [("L1", "R1"), ("L2", "R2"), ("L3", "R3"), ("L4", "R4")]:
        assert prob(pairs, a, b) >= MATCH_THRESHOLD, (a, b, pairs)


def test_same_house_without_date_of_birth_or_postcode_is_a_candidate(sample, model):
    """No date of birth and no postcode on one side, the same house and street: the
    street-number rules with the family name (phonetic) or the canonical given name make
    the pair a candidate (no other rule can: each needs a date or a postcode)."""
    home = {"sex": "F", "address": "91 Ridge Drive"}
    left = [
        {"record_id": "H1", "given_name": "Beatrice", "family_name": "Ollerenshaw",
         "date_of_birth": "1950-02-11", "postcode": "DE4 7BM", **home},
        {"record_id": "H3", "given_name": "Philippa", "family_name": "Hadfield",
         "date_of_birth": "1961-06-30", "postcode": "DE4 7BM", **home},
    ]  # fmt: skip
    right = [
        {"record_id": "H2", "given_name": "Beatrice", "family_name": "Ollerenshaw", **home},
        # family name changed as well
        {"record_id": "H4", "given_name": "Philippa", "family_name": "Brocklehurst", **home},
    ]  # fmt: skip
    sides = pd.concat([people(left, "dcc"), people(right, "dchs")], ignore_index=True)
    frame, _ = prepare_records(sides)
    con = duckdb.connect()
    con.register("f", frame)
    for a, b in [("H1", "H2"), ("H3", "H4")]:
        met = [
            con.execute(
                f"SELECT count(*) FROM f l, f r WHERE l.source_record_id = '{a}' "
                f"AND r.source_record_id = '{b}' AND ({rule})"
            ).fetchone()[0]
            for rule in BLOCKING_RULES
        ]
        assert not any(met[:-3]) and any(met[-3:-1]), (a, b, met)  # the street rules alone
    pairs = score(sample, model, left, right)
    assert prob(pairs, "H1", "H2") > 0 and prob(pairs, "H3", "H4") > 0, pairs


def test_double_barrelled_family_name_links_after_a_move(sample, model):
    """A family name with a second part added (Hall / Hall-Greatorex) and a
    new home in another district: the "shared part" level carries the family name's
    evidence (one-to-one; the nightly namesake guard sends a family name changed across
    districts to review)."""
    left = [{"record_id": "B1", "given_name": "Amy", "family_name": "Hall",
             "date_of_birth": "1944-02-02", **BASE}]  # fmt: skip
    right = [{"record_id": "B2", "given_name": "Amy", "family_name": "Hall-Greatorex",
              "date_of_birth": "1944-02-02", "sex": "F", "postcode": "SK17 6AB",
              "address": "7 Mill Lane"}]  # fmt: skip
    pairs = score(sample, model, left, right, one_to_one=True)
    assert prob(pairs, "B1", "B2") >= MATCH_THRESHOLD, pairs
    shared = _gamma(model, "family_name", "shared part")
    assert (pairs["gamma_family_name"] == shared).all()


def test_twin_with_a_double_barrelled_family_name_is_guarded():
    model = {"comparisons": comparisons()}
    pairs = pd.DataFrame(
        {
            "gamma_given_name": [_gamma(model, "given_name", "else")],
            "gamma_family_name": [_gamma(model, "family_name", "shared part")],
            "gamma_dob": [_gamma(model, "dob", "exact")],
            "gamma_address": [_gamma(model, "address", "exact address")],
            "gamma_nhs_number": [-1],
            "gamma_sex": [_gamma(model, "sex", "equal")],
            "given_dice": [0.3],
        }
    )
    assert lookalike_guard(pairs, model, one_to_one=True).all()
    # a model saved before the level existed is still read
    old = {"comparisons": [c for c in comparisons() if c["output_column_name"] != "family_name"]}
    old["comparisons"].append(
        {
            "output_column_name": "family_name",
            "comparison_levels": [
                lv
                for lv in comparisons()[1]["comparison_levels"]
                if lv["label_for_charts"] != "shared part"
            ],
        }
    )
    assert lookalike_guard(pairs.assign(gamma_family_name=4), old).all()


def test_swapped_names_at_the_same_house_without_date_of_birth_link(sample, model):
    """Given and family names swapped, no date of birth on one side, the same house and
    street in the same district (a mistyped postcode): only the whole-name filter rule
    makes the pair a candidate, and it links."""
    left = [{"record_id": "W1", "given_name": "Ruth", "family_name": "Wallace",
             "date_of_birth": "1951-02-04", "sex": "F", "postcode": "DE21 2WX",
             "address": "179 Victoria Lane"}]  # fmt: skip
    right = [{"record_id": "W2", "given_name": "Wallace", "family_name": "Ruth", "sex": "F",
              "postcode": "DE21 2WZ", "address": "179 Victoria Ln"}]  # fmt: skip
    sides = pd.concat([people(left, "dcc"), people(right, "dchs")], ignore_index=True)
    frame, _ = prepare_records(sides)
    con = duckdb.connect()
    con.register("f", frame)
    met = [
        con.execute(
            "SELECT count(*) FROM f l, f r WHERE l.source_record_id = 'W1' "
            f"AND r.source_record_id = 'W2' AND ({rule})"
        ).fetchone()[0]
        for rule in BLOCKING_RULES
    ]
    assert met == [0] * (len(met) - 1) + [1], met  # the last rule alone
    pairs = score(sample, model, left, right)
    assert prob(pairs, "W1", "W2") >= MATCH_THRESHOLD, pairs


def test_fuzzy_given_name_in_one_family_goes_to_review_not_link(sample, model):
    """A short given name recorded two ways (Amy / Amie: phonetically equal, whole-name
    Dice under 0.9) with the same family name and date of birth and no NHS number
    looks exactly like twins with similar names: clerical review, not a link."""
    left = [{"record_id": "L5", "given_name": "Amy", "family_name": "Pemberton",
             "date_of_birth": "1938-05-09", **BASE}]  # fmt: skip
    right = [{"record_id": "R5", "given_name": "Amie", "family_name": "Pemberton",
              "date_of_birth": "1938-05-09", **BASE}]  # fmt: skip
    p = prob(score(sample, model, left, right), "L5", "R5")
    assert REVIEW_BAND[0] <= p < MATCH_THRESHOLD


def test_typed_given_name_links_one_to_one_unless_the_recorded_sex_differs(sample, model):
    """One transposed letter in a given name (Mark / Makr), same family name, date of
    birth and home, no NHS number. In one-to-one linkage the given-name filter reads it
    as a typo and it links (not with different recorded sexes); in the nightly
    clustering, where no competing record would catch a twin, it goes to review."""
    home = {"postcode": "DE45 1AB", "address": "3 Church Street"}
    left = [
        {"record_id": "M1", "given_name": "Mark", "family_name": "Brocklehurst",
         "date_of_birth": "1961-10-02", "sex": "M", **home},
        {"record_id": "M3", "given_name": "Paul", "family_name": "Wainwright",
         "date_of_birth": "1947-01-19", "sex": "M", **home},
    ]  # fmt: skip
    right = [
        {"record_id": "M2", "given_name": "Makr", "family_name": "Brocklehurst",
         "date_of_birth": "1961-10-02", "sex": "M", **home},
        {"record_id": "M4", "given_name": "Pual", "family_name": "Wainwright",
         "date_of_birth": "1947-01-19", "sex": "F", **home},
    ]  # fmt: skip
    tolerant = score(sample, model, left, right, one_to_one=True)
    assert prob(tolerant, "M1", "M2") >= MATCH_THRESHOLD, tolerant
    assert REVIEW_BAND[0] <= prob(tolerant, "M3", "M4") < MATCH_THRESHOLD, tolerant
    strict = score(sample, model, left, right)
    for a, b in [("M1", "M2"), ("M3", "M4")]:
        assert REVIEW_BAND[0] <= prob(strict, a, b) < MATCH_THRESHOLD, strict


def test_rare_given_spelling_reads_as_a_typo_one_to_one(sample, model):
    """Same family name, date of birth and home, no NHS number, given names with a
    given-name Dice between 0.6 and 0.75 (where different names such as John / Joan
    are too). One-to-one, a spelling no other record holds (Mzry beside Mary) is a
    slip and links; two spellings that are both in use (John, Joan) stay in review, and
    so does the slip in the nightly clustering."""
    home = {"postcode": "DE45 1AB", "address": "3 Church Street", "sex": "F"}
    left = [
        {"record_id": "Y1", "given_name": "Mary", "family_name": "Hall",
         "date_of_birth": "1952-03-14", **home},
        {"record_id": "Y3", "given_name": "John", "family_name": "Rose",
         "date_of_birth": "1949-08-27", **home, "sex": "U"},
    ]  # fmt: skip
    right = [
        {"record_id": "Y2", "given_name": "Mzry", "family_name": "Hall",
         "date_of_birth": "1952-03-14", **home},
        {"record_id": "Y4", "given_name": "Joan", "family_name": "Rose",
         "date_of_birth": "1949-08-27", **home},
    ]  # fmt: skip
    tolerant = score(sample, model, left, right, one_to_one=True)
    assert prob(tolerant, "Y1", "Y2") >= MATCH_THRESHOLD, tolerant
    assert REVIEW_BAND[0] <= prob(tolerant, "Y3", "Y4") < MATCH_THRESHOLD, tolerant
    # one-to-one, each pair carries its cap (which also bounds it as a link): John / Joan
    # is a look-alike, Mary / Mzry is not
    cap = tolerant.set_index(["source_record_id_l", "source_record_id_r"])["probability_cap"]
    cap.index = cap.index.map(frozenset)
    assert cap[frozenset(("Y3", "Y4"))] == prob(tolerant, "Y3", "Y4") < MATCH_THRESHOLD
    assert np.isnan(cap[frozenset(("Y1", "Y2"))])
    assert "probability_cap" not in score(sample, model, left, right).columns
    strict = score(sample, model, left, right)
    assert REVIEW_BAND[0] <= prob(strict, "Y1", "Y2") < MATCH_THRESHOLD, strict


def test_slip_of_a_nickname_reads_as_the_same_name_one_to_one(sample, model):
    """Jim / Jzmes with the same family name, date of birth and home: the two spellings
    are far apart, but Jzmes (no other record's) is one slip from James, a spelling in
    use whose canonical name is Jim's. One-to-one that is one name and links; a slip of
    James against John is not, and in the nightly clustering Jim / Jzmes goes to
    review."""
    home = {"postcode": "DE45 1AB", "address": "3 Church Street", "sex": "M"}
    left = [
        {"record_id": "Z1", "given_name": "Jim", "family_name": "Hall",
         "date_of_birth": "1956-02-06", **home},
        {"record_id": "Z3", "given_name": "John", "family_name": "Rose",
         "date_of_birth": "1951-04-17", **home},
    ]  # fmt: skip
    right = [
        {"record_id": "Z2", "given_name": "Jzmes", "family_name": "Hall",
         "date_of_birth": "1956-02-06", **home},
        {"record_id": "Z4", "given_name": "Jaems", "family_name": "Rose",
         "date_of_birth": "1951-04-17", **home},
    ]  # fmt: skip
    tolerant = score(sample, model, left, right, one_to_one=True)
    assert prob(tolerant, "Z1", "Z2") >= MATCH_THRESHOLD, tolerant
    assert REVIEW_BAND[0] <= prob(tolerant, "Z3", "Z4") < MATCH_THRESHOLD, tolerant
    strict = score(sample, model, left, right)
    assert REVIEW_BAND[0] <= prob(strict, "Z1", "Z2") < MATCH_THRESHOLD, strict


def test_rare_given_spelling_counts_tokens():
    import duckdb

    tokens = pd.DataFrame(
        {"tok_given_name": ["A"] * 200 + ["B"] + ["C"] * 2 + ["D"] * 5 + ["E"] * 150}
    )
    pairs = pd.DataFrame(
        {
            "given_l": ["A", "A", "A", "A", "B", "A"],
            "given_r": ["B", "C", "D", "E", "B", None],
        }
    )
    con = duckdb.connect()
    con.register("records", tokens)
    con.register("pairs", pairs)
    got = con.sql(
        f"""
        with counts as (select tok_given_name, count(*) as n from records group by 1)
        select coalesce({rare_given_spelling_sql()}, false) as rare
        from (select row_number() over () as i, * from pairs) p
        cross join lateral (select p.given_l as tok_given_name) l
        cross join lateral (select p.given_r as tok_given_name) r
        left join counts cl on l.tok_given_name = cl.tok_given_name
        left join counts cr on r.tok_given_name = cr.tok_given_name
        order by p.i
        """
    ).df()["rare"]
    # held by one record; by at most 1% as many as the other (2 of 200); not: 5 of 200,
    # two names in use, one spelling, no name
    assert got.tolist() == [True, True, False, False, False, False]


def test_a_level_the_u_sample_never_saw_gets_the_rule_of_three():
    def comp(name, us):
        levels = [{"is_null_level": True, "label_for_charts": "null"}]
        levels += [{"label_for_charts": f"l{i}", "u_probability": u} for i, u in enumerate(us)]
        return {"output_column_name": name, "comparison_levels": levels}

    model = {"comparisons": [comp("family_name", [0.02, None, 0.98]), comp("nhs", [None, None])]}
    got = apply_u_floor(model, 2e6)["comparisons"]
    assert [lv.get("u_probability") for lv in got[0]["comparison_levels"]] == [
        None, 0.02, 3 / 2e6, 0.98,
    ]  # fmt: skip
    # a comparison never seen at all (no NHS numbers) is left without evidence
    assert all(lv.get("u_probability") is None for lv in got[1]["comparison_levels"])


def test_matches_are_taken_out_of_the_sampled_u():
    """A sampled u is (1 - lambda) u + lambda m; solved back for u, floored."""
    lam, max_pairs = 1e-4, 2e6
    model = {
        "comparisons": [
            {
                "output_column_name": "dob",
                "comparison_levels": [
                    {"is_null_level": True, "label_for_charts": "null"},
                    {"label_for_charts": "exact", "m_probability": 0.97,
                     "u_probability": (1 - lam) * 3e-5 + lam * 0.97},
                    {"label_for_charts": "near", "m_probability": 0.02,
                     "u_probability": lam * 0.02},  # every sampled pair a match
                    {"label_for_charts": "else", "m_probability": 0.01,
                     "u_probability": 1 - 3e-5 - 2 * lam},
                ],
            }
        ]
    }  # fmt: skip
    levels = remove_matches_from_u(model, lam, max_pairs)["comparisons"][0]
    u = [lv.get("u_probability") for lv in levels["comparison_levels"]]
    assert u[0] is None
    assert u[1] == pytest.approx(3e-5)
    assert u[2] == 3 / max_pairs  # floored, never zero or negative
    assert u[3] == pytest.approx(1 - 3e-5, abs=2 * lam)


def test_guard_reads_given_dice_and_sex():
    model = {"comparisons": comparisons()}

    def gamma(comparison, label):
        return _gamma(model, comparison, label)

    same, differ = gamma("sex", "equal"), gamma("sex", "else")
    pairs = pd.DataFrame(
        {
            "gamma_given_name": gamma("given_name", "else"),
            "gamma_family_name": gamma("family_name", "exact"),
            "gamma_dob": gamma("dob", "exact"),
            "gamma_address": gamma("address", "exact address"),
            "gamma_nhs_number": -1,
            "gamma_sex": [same, same, differ, -1, same],
            "given_dice": [0.9, 0.5, 0.9, 0.8, np.nan],
        }
    )
    # a typo with equal or unknown sex is not a twin; a different name, a typo with
    # different recorded sexes, or no given-name filter at all (older records) is
    tolerant = lookalike_guard(pairs, model, one_to_one=True)
    assert tolerant.tolist() == [False, True, True, False, True]
    assert lookalike_guard(pairs, model).all()  # nightly clustering: strict


def test_twin_with_a_mistyped_date_of_birth_at_home_is_guarded():
    """Different given names, one family name and home, dates of birth agreeing in two
    of their three parts: a twin whose date has one digit mistyped. Away from the home
    that date is not twin evidence."""
    model = {"comparisons": comparisons()}
    pairs = pd.DataFrame(
        {
            "gamma_given_name": _gamma(model, "given_name", "else"),
            "gamma_family_name": _gamma(model, "family_name", "exact"),
            "gamma_dob": _gamma(model, "dob", "two of three parts"),
            "gamma_address": [
                _gamma(model, "address", "exact address"),
                _gamma(model, "address", "same sector"),
            ],
            "gamma_nhs_number": -1,
            "gamma_sex": _gamma(model, "sex", "equal"),
            "given_dice": 0.3,
        }
    )
    for one_to_one in (False, True):
        assert lookalike_guard(pairs, model, one_to_one=one_to_one).tolist() == [True, False]


def test_couple_at_one_home_is_guarded():
    """One family name and home, close given names (Mark / Mary), recorded sexes that
    differ: a couple, not one person, whatever the dates of birth."""
    model = {"comparisons": comparisons()}
    pairs = pd.DataFrame(
        {
            "gamma_given_name": _gamma(model, "given_name", "name Dice >= 0.8"),
            "gamma_family_name": _gamma(model, "family_name", "exact"),
            "gamma_dob": _gamma(model, "dob", "else"),
            "gamma_address": _gamma(model, "address", "exact address"),
            "gamma_nhs_number": -1,
            "gamma_sex": [_gamma(model, "sex", "else"), _gamma(model, "sex", "equal")],
            "given_dice": 0.8,
        }
    )
    for one_to_one in (False, True):
        assert lookalike_guard(pairs, model, one_to_one=one_to_one).tolist() == [True, False]


def test_lookalikes_stay_apart(sample, model):
    home = {"postcode": "DE45 1AB", "address": "3 Church Street"}
    left = [
        # twins: same family name, date of birth and address
        {"record_id": "T1", "given_name": "Oliver", "family_name": "Brocklehurst",
         "date_of_birth": "1990-06-14", "sex": "M", **home, "nhs_number": "9434765919"},
        # parent and child: same names, same address, 28 years apart
        {"record_id": "P1", "given_name": "Margaret", "family_name": "Wainwright",
         "date_of_birth": "1952-02-11", "sex": "F", **home},
    ]  # fmt: skip
    right = [
        {"record_id": "T2", "given_name": "Thomas", "family_name": "Brocklehurst",
         "date_of_birth": "1990-06-14", "sex": "M", **home},
        {"record_id": "T3", "given_name": "Olivia", "family_name": "Brocklehurst",
         "date_of_birth": "1990-06-14", "sex": "M", **home},
        {"record_id": "P2", "given_name": "Margaret", "family_name": "Wainwright",
         "date_of_birth": "1980-09-30", "sex": "F", **home},
    ]  # fmt: skip
    pairs = score(sample, model, left, right)
    for a, b in [("T1", "T2"), ("T1", "T3"), ("T2", "T3"), ("P1", "P2")]:
        assert prob(pairs, a, b) < MATCH_THRESHOLD, (a, b, pairs)


def test_recall_and_precision_on_labelled_sample(sample, model):
    records, truth = sample
    pairs = predict_pairs(records, model=model, link_settings=LINK, threshold=REVIEW_BAND[0])
    assert {"source_l", "source_record_id_l", "source_r", "source_record_id_r",
            "match_probability", "match_weight"} <= set(pairs.columns)  # fmt: skip
    assert any(c.startswith("gamma_") for c in pairs.columns)
    assert not any(c.endswith(("_l", "_r")) and c.startswith("tok_") for c in pairs.columns)
    linked = pairs[pairs["match_probability"] >= MATCH_THRESHOLD]
    clusters = clusters_from_pairs(linked, records)
    m = evaluate_against_truth(clusters, truth)
    assert m["recall"] >= 0.95, m
    assert m["precision"] >= 0.98, m
    assert m["cross_recall"] >= 0.95, m


def test_incremental_matches_new_to_existing(sample, model):
    records, truth = sample
    rng = np.random.default_rng(3)
    is_new = rng.random(len(records)) < 0.1
    new, old = records[is_new].reset_index(drop=True), records[~is_new].reset_index(drop=True)
    pairs = predict_new_against_existing(
        new, old, model=model, link_settings=LINK, threshold=MATCH_THRESHOLD
    )
    assert {"source_l", "source_record_id_l", "match_probability"} <= set(pairs.columns)
    new_ids = set(new["source"] + ":" + new["source_record_id"])
    uid_l = pairs["source_l"] + ":" + pairs["source_record_id_l"]
    uid_r = pairs["source_r"] + ":" + pairs["source_record_id_r"]
    # every pair touches a new record; none is existing x existing
    assert (uid_l.isin(new_ids) | uid_r.isin(new_ids)).all()
    # true new-existing pairs are found
    tid = truth.set_index(truth["source"] + ":" + truth["source_record_id"])["true_person_id"]
    found = set(zip(uid_l, uid_r, strict=True)) | set(zip(uid_r, uid_l, strict=True))
    uids = records["source"] + ":" + records["source_record_id"]
    by_person = pd.DataFrame({"uid": uids, "p": tid.reindex(uids).to_numpy(), "new": is_new})
    expected = [
        (a, b)
        for _, g in by_person.groupby("p")
        for a in g.loc[g["new"], "uid"]
        for b in g.loc[~g["new"], "uid"]
    ]
    assert expected, "sample has no new-existing matches"
    hit = sum((a, b) in found for a, b in expected)
    assert hit / len(expected) >= 0.95, (hit, len(expected))


def test_incremental_includes_pairs_within_new(sample, model):
    records, truth = sample
    dup_people = truth[truth.duplicated("true_person_id", keep=False)]
    pid = dup_people["true_person_id"].iloc[0]
    ids = set(truth.loc[truth["true_person_id"] == pid, "source_record_id"])
    new = records[records["source_record_id"].isin(ids)]
    old = records[~records["source_record_id"].isin(ids)]
    pairs = predict_new_against_existing(new, old, model=model, link_settings=LINK, threshold=0.5)
    inside = pairs["source_record_id_l"].isin(ids) & pairs["source_record_id_r"].isin(ids)
    assert inside.any(), pairs


def test_dice_sql_matches_python(sample):
    records = sample[0].head(400)
    frame, n_words = add_clk_word_columns(records[["clk_name"]].reset_index(drop=True), "clk_name")
    con = duckdb.connect()
    con.register("f", frame.assign(i=np.arange(len(frame))))
    sql_expr = dice_sql("clk_name", n_words)
    cols = [c for c in frame.columns]
    sel = ", ".join(f"a.{c} AS {c}_l, b.{c} AS {c}_r" for c in cols)
    got = con.sql(
        f"SELECT a.i AS i, b.i AS j, {sql_expr} AS d FROM (SELECT {sel}, a.i AS ai, b.i AS bi "
        "FROM f a, f b WHERE a.i < b.i AND b.i < a.i + 5) t, f a, f b "
        "WHERE a.i = t.ai AND b.i = t.bi"
    ).df()
    clks = records["clk_name"].to_numpy()
    expected = [py_dice(clks[i], clks[j]) for i, j in zip(got["i"], got["j"], strict=True)]
    assert len(got) > 100
    np.testing.assert_allclose(got["d"].fillna(0.0).to_numpy(), expected, atol=1e-9)
    words = frame[[c for c in frame.columns if "_w" in c]].to_numpy()
    np.testing.assert_allclose(
        np.nan_to_num(dice_numpy(words[:-1], words[1:])),
        [py_dice(clks[i], clks[i + 1]) for i in range(len(clks) - 1)],
        atol=1e-9,
    )


def test_clk_words_of_no_records_are_an_empty_matrix():
    from transforms.link.dice import add_clk_word_columns

    out, n_words = add_clk_word_columns(
        pd.DataFrame({"clk_name": pd.Series([], dtype=object)}), "clk_name"
    )
    assert len(out) == 0 and n_words == 16


def test_guard_caps_different_nhs_numbers_and_namesakes_far_apart():
    model = {"comparisons": comparisons()}

    def gamma(comparison, label):
        return _gamma(model, comparison, label)

    pairs = pd.DataFrame(
        {
            "gamma_given_name": gamma("given_name", "exact"),
            "gamma_family_name": [
                gamma("family_name", "exact"),  # valid NHS numbers differ
                gamma("family_name", "name Dice >= 0.8"),  # namesake, other district
                gamma("family_name", "name Dice >= 0.8"),  # the same, same postcode
                gamma("family_name", "exact"),  # exact names, moved away: a mover
            ],
            "gamma_dob": gamma("dob", "exact"),
            "gamma_address": [
                gamma("address", "exact address"),
                gamma("address", "else"),
                gamma("address", "same postcode"),
                gamma("address", "else"),
            ],
            "gamma_nhs_number": [gamma("nhs_number", "else"), -1, -1, -1],
            "gamma_sex": gamma("sex", "equal"),
        }
    )
    assert lookalike_guard(pairs, model).tolist() == [True, True, False, False]
    assert lookalike_guard(pairs, model, one_to_one=True).tolist() == [True, False, False, False]


def test_a_typed_given_name_beside_a_changed_family_name_scores_on_the_given_filter(sample, model):
    """Jennifer / Jennider (phonetic codes JNFR / JNTR) with the family name changed
    (Hall / Mellor): the whole-name filter falls below 0.8 (0.62 under this key), the
    given name's own filter (``clk_given``, bigrams and letters) stays above 0.7 (0.86),
    so the pair reaches the "given Dice" level, not "else"."""
    base = {"date_of_birth": "1961-07-19", "sex": "F", "postcode": "DE4 3AG",
            "address": "12 Oak Street"}  # fmt: skip
    left = [{"record_id": "G1", "given_name": "Jennifer", "family_name": "Hall", **base}]
    right = [{"record_id": "G2", "given_name": "Jennider", "family_name": "Mellor", **base}]
    pairs = score(sample, model, left, right)
    assert len(pairs) == 1, pairs
    level = _gamma(model, "given_name", f"given Dice >= {GIVEN_ONLY_DICE}")
    assert pairs["gamma_given_name"].iloc[0] == level
    assert level != _gamma(model, "given_name", "else")


def test_linkage_connection_makes_its_spill_folder(tmp_path):
    """DuckDB creates only the last level of its spill folder: a checkout without
    data/tmp failed the first prediction that spilled."""
    where = tmp_path / "data" / "tmp" / "duckdb"
    duckdb_api(LinkSettings.from_env({"CARE_LINK_TEMP_DIR": str(where)}))
    assert where.is_dir()


def test_u_is_the_share_of_random_pairs_at_each_level():
    """Six records, every one of the 15 pairs sampled; the shares worked out by hand."""
    people = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d", "e", "f"],
            "nhs_number": None,
            "given_name": ["Ann", "Bob", "Cy", "Di", "Eve", "Flo"],
            "family_name": ["Lee", "Ray", "Fox", "Orr", "Day", "Poe"],
            "date_of_birth": ["1950-01-0" + str(i) for i in range(1, 7)],
            "sex": ["M", "M", "F", "F", "F", None],
            "postcode": None,
            "address": None,
        }
    )
    records = person_records(
        people,
        key_from_material("3f9a1c7e5b2d4f608a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e1f"),
        "left",
    )
    frame, n_words = prepare_records(records)
    db_api = duckdb_api(LINK)
    linker, sdf = new_linker(db_api, frame, base_settings(n_words))
    estimate_u(db_api, sdf, linker, max_pairs=1e6, seed=1)
    sex = next(c for c in linker._settings_obj.comparisons if c.output_column_name == "sex")
    u = {
        lv.label_for_charts: lv.u_probability
        for lv in sex.comparison_levels
        if not lv.is_null_level
    }
    # five records with a sex: 10 pairs, of which M-M 1 and F-F 3 agree
    assert u["equal"] == pytest.approx(4 / 10) and u["else"] == pytest.approx(6 / 10)
    dob = next(c for c in linker._settings_obj.comparisons if c.output_column_name == "dob")
    levels = {lv.label_for_charts: lv for lv in dob.comparison_levels if not lv.is_null_level}
    # every date differs in its day alone (two of three parts); none is the same
    assert levels["two of three parts"].u_probability == pytest.approx(1.0)
    assert levels["exact"]._u_probability == "level not observed in training dataset"


def test_link_backend_from_the_environment():
    assert link_backend(LinkSettings.from_env({})) == "duckdb"
    assert link_backend(LinkSettings.from_env({"CARE_LINK_BACKEND": " Spark "})) == "spark"
    with pytest.raises(ValueError, match="CARE_LINK_BACKEND"):
        link_backend(LinkSettings.from_env({"CARE_LINK_BACKEND": "polars"}))


def test_link_settings_from_the_environment(tmp_path):
    defaults = LinkSettings.from_env({"CARE_DATA_DIR": str(tmp_path)})
    assert defaults == LinkSettings(temp_dir=tmp_path.resolve() / "tmp" / "duckdb")
    assert duckdb_limits(defaults) == {
        "memory_limit": "6GB",
        "temp_directory": str(tmp_path.resolve() / "tmp" / "duckdb"),
    }
    named = LinkSettings.from_env(
        {
            "CARE_LINK_TEMP_DIR": str(tmp_path / "spill"),
            "CARE_LINK_MEMORY_LIMIT": "2GB",
            "CARE_SPARK_MASTER": "spark://head:7077",
            "CARE_SPARK_CONF": "spark.executor.memory = 8g;bad;spark.a=b=c",
            "CARE_SPARK_CHECKPOINT_DIR": "hdfs:///care/checkpoints",
        }
    )
    assert named.temp_dir == tmp_path / "spill" and named.memory_limit == "2GB"
    assert named.spark_master == "spark://head:7077"
    assert named.spark_conf == (("spark.executor.memory", "8g"), ("spark.a", "b=c"))
    assert named.spark_checkpoint_dir == "hdfs:///care/checkpoints"


def test_settings_for_spark_mark_the_sql_as_duckdb_s():
    settings = prediction_settings(base_settings())
    assert for_backend(settings, "duckdb") is settings
    spark = for_backend(settings, "spark")
    levels = [lv for c in spark["comparisons"] for lv in c["comparison_levels"]]
    assert all(
        lv.get("base_dialect_str") == ("duckdb" if lv["sql_condition"] != "ELSE" else None)
        for lv in levels
    )
    rules = spark["blocking_rules_to_generate_predictions"]
    assert [r["blocking_rule"] for r in rules] == BLOCKING_RULES
    assert {r["sql_dialect"] for r in rules} == {"duckdb"}
    assert "base_dialect_str" not in settings["comparisons"][0]["comparison_levels"][1]
