"""Pseudonymisation: keyed, domain-separated tokens and CLKs; nothing clear leaves."""

from __future__ import annotations

import hmac

import pandas as pd
import pytest
from test_standardise import dcc_person, dchs_patient, landing

from transforms.bloom import dice
from transforms.contracts import DCC_PERSON, DCHS_PATIENT, PERSON_RECORD
from transforms.keys import PseudonymKey
from transforms.pseudonymise import Tokeniser, canonical_given, phonetic, pseudonymise_persons
from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

KEY = PseudonymKey("v1", bytes((b * 37 + 11) % 251 for b in range(32)))
KEY2 = PseudonymKey("v2", bytes((b * 53 + 3) % 241 for b in range(32)))


def std(*rows: dict, source: str = "dcc") -> pd.DataFrame:
    if source == "dcc":
        return standardise_dcc_person(landing(DCC_PERSON, list(rows)))
    return standardise_dchs_patient(landing(DCHS_PATIENT, list(rows)))


def tokens(*rows: dict, key: PseudonymKey = KEY, source: str = "dcc") -> pd.DataFrame:
    return pseudonymise_persons(std(*rows, source=source), key)


def test_columns_are_exactly_the_contract():
    out = tokens(dcc_person())
    assert list(out.columns) == PERSON_RECORD
    assert out["key_version"].tolist() == ["v1"]


def test_token_is_hmac_sha256_of_domain_and_value():
    expected = hmac.digest(KEY.secret, b"nhs_number\x1f9434765919", "sha256").hex()[:32]
    assert tokens(dcc_person())["tok_nhs_number"].iloc[0] == expected
    assert (
        Tokeniser(KEY.secret).token("dob", "1940-03-07")
        == (hmac.digest(KEY.secret, b"dob\x1f1940-03-07", "sha256").hex()[:32])
    )
    long_key = bytes(range(100))  # longer than the SHA-256 block: hashed first, like hmac
    assert (
        Tokeniser(long_key).token("d", "x")
        == hmac.new(long_key, b"d\x1fx", "sha256").hexdigest()[:32]
    )


def test_same_input_same_token_and_across_sources():
    a = tokens(dcc_person(), dcc_person(la_person_id="MOS2"))
    b = tokens(dchs_patient(), source="dchs")
    for col in (
        "tok_nhs_number",
        "tok_family_name",
        "tok_postcode",
        "tok_street_number",
        "clk_address",
    ):
        assert a[col].iloc[0] == a[col].iloc[1] == b[col].iloc[0], col
    for col in ("tok_given_name", "clk_name", "clk_given"):
        assert a[col].iloc[0] == a[col].iloc[1], col


def test_different_key_gives_different_tokens():
    a, b = tokens(dcc_person()), tokens(dcc_person(), key=KEY2)
    for col in PERSON_RECORD:
        if col.startswith(("tok_", "clk_")):
            assert a[col].iloc[0] != b[col].iloc[0], col
    assert b["key_version"].iloc[0] == "v2"


def test_domain_separation_same_value_in_two_domains():
    tk = Tokeniser(KEY.secret)
    assert tk.token("given_name", "SMITH") != tk.token("family_name", "SMITH")
    out = tokens(dcc_person(given_name="Smith", family_name="Smith"))
    assert out["tok_given_name"].iloc[0] != out["tok_family_name"].iloc[0]
    assert out["tok_postcode_district"].iloc[0] != out["tok_postcode_sector"].iloc[0]


def test_swapped_dob_token_equals_other_records_dob():
    out = tokens(
        dcc_person(date_of_birth="1940-03-07"),
        dcc_person(date_of_birth="1940-07-03"),
        dcc_person(date_of_birth="1940-03-25"),  # 25 cannot be a month
        dcc_person(date_of_birth="1940-05-05"),
    )
    assert out["tok_dob_swapped"].iloc[0] == out["tok_dob"].iloc[1]
    assert out["tok_dob_swapped"].iloc[1] == out["tok_dob"].iloc[0]
    assert out["tok_dob"].iloc[0] != out["tok_dob"].iloc[1]
    assert pd.isna(out["tok_dob_swapped"].iloc[2])
    assert out["tok_dob_swapped"].iloc[3] == out["tok_dob"].iloc[3]
    # two of three parts
    assert out["tok_dob_ym"].iloc[0] == out["tok_dob_ym"].iloc[2]
    assert out["tok_dob_yd"].iloc[0] != out["tok_dob_yd"].iloc[2]
    assert len(set(out["tok_dob_year"])) == 1
    assert out["birth_year"].tolist() == [1940] * 4
    assert out["birth_month"].tolist() == [3, 7, 3, 5]


def test_nickname_canonical_equality():
    out = tokens(
        dcc_person(given_name="Bill"),
        dcc_person(given_name="William"),
        dcc_person(given_name="Billy Joe"),
        dcc_person(given_name="Robert"),
    )
    assert out["tok_given_name"].iloc[0] != out["tok_given_name"].iloc[1]
    assert out["tok_given_name_canonical"].iloc[0] == out["tok_given_name_canonical"].iloc[1]
    assert out["tok_given_name_canonical"].iloc[2] == out["tok_given_name_canonical"].iloc[1]
    assert out["tok_given_name_canonical"].iloc[3] != out["tok_given_name_canonical"].iloc[1]


def test_ambiguous_nickname_resolved_by_sex():
    assert canonical_given("PAT", "F") == "PATRICIA"
    assert canonical_given("PAT", "M") == "PATRICK"
    assert canonical_given("ALEX", "F") == "ALEXANDRA"
    assert canonical_given("ZEBEDEE", "M") == "ZEBEDEE"
    out = tokens(
        dcc_person(given_name="Pat", gender="Female"),
        dcc_person(given_name="Patricia", gender="Female"),
    )
    assert len(set(out["tok_given_name_canonical"])) == 1


def test_phonetic_equality_for_a_typo():
    assert phonetic("SMITH") == phonetic("SMYTH")
    out = tokens(
        dcc_person(family_name="Smith", given_name="Catherine"),
        dcc_person(family_name="Smyth", given_name="Katherine"),
        dcc_person(family_name="Jones", given_name="Mary"),
        dcc_person(family_name="王", given_name="芳"),
    )
    assert out["tok_family_name"].iloc[0] != out["tok_family_name"].iloc[1]
    assert out["tok_family_name_phonetic"].iloc[0] == out["tok_family_name_phonetic"].iloc[1]
    assert out["tok_given_name_phonetic"].iloc[0] == out["tok_given_name_phonetic"].iloc[1]
    assert out["tok_family_name_phonetic"].iloc[0] != out["tok_family_name_phonetic"].iloc[2]
    assert pd.isna(out["tok_family_name_phonetic"].iloc[3])
    assert pd.notna(out["tok_family_name"].iloc[3])


def test_clk_name_dice_typo_high_unrelated_low_and_swap_tolerant():
    out = tokens(
        dcc_person(given_name="Catherine", family_name="Thompson"),
        dcc_person(given_name="Cathrine", family_name="Thomson"),
        dcc_person(given_name="Mohammed", family_name="Begum"),
        dcc_person(given_name="Thompson", family_name="Catherine"),  # swapped fields
    )
    clk = out["clk_name"]
    assert all(isinstance(c, bytes) and len(c) == 128 for c in clk)
    assert dice(clk[0], clk[1]) > 0.8
    assert dice(clk[0], clk[2]) < 0.4
    assert dice(clk[0], clk[3]) == 1.0
    assert out["tok_given_name"].iloc[0] != out["tok_given_name"].iloc[3]


def test_clk_given_tells_a_typed_name_from_a_different_one():
    out = tokens(
        dcc_person(given_name="Mark", family_name="Thompson"),
        dcc_person(given_name="Makr", family_name="Begum"),  # transposed, other family
        dcc_person(given_name="Jmes Arthur", family_name="Smith"),
        dcc_person(given_name="James", family_name="Smith"),
        dcc_person(given_name="John", family_name="Smith"),
        dcc_person(given_name=None, family_name="Smith"),
    )
    clk = out["clk_given"]
    assert all(isinstance(c, bytes) and len(c) == 128 for c in clk[:5])
    assert pd.isna(clk[5])
    assert dice(clk[0], clk[1]) >= 0.75  # one transposition; family names play no part
    assert dice(clk[2], clk[3]) >= 0.75  # first given name only: middle names ignored
    assert dice(clk[3], clk[4]) < 0.5
    assert clk[0] != out["clk_name"].iloc[0]


def test_clk_address_moves_and_partial_postcodes():
    out = tokens(
        dcc_person(address_line_1="12 Oak Street", postcode="DE4 3AG"),
        dcc_person(address_line_1="12 Oak St", postcode="DE4 3AG"),
        dcc_person(address_line_1="14 Oak Street", postcode="DE4 3AG"),
        dcc_person(address_line_1="7 Mill Lane", postcode="SK17 6AB"),
        dcc_person(address_line_1="12 Oak Street", postcode="DE4 3"),
        dcc_person(address_line_1=None, postcode=None),
    )
    clk = out["clk_address"]
    assert clk[0] == clk[1]
    assert dice(clk[0], clk[2]) > 0.85
    assert dice(clk[0], clk[4]) > 0.85
    assert dice(clk[0], clk[3]) < 0.5
    assert pd.isna(clk[5])
    assert out["tok_street_number"].iloc[0] == out["tok_street_number"].iloc[1]
    assert out["tok_street_number"].iloc[0] != out["tok_street_number"].iloc[2]
    assert pd.isna(out["tok_postcode"].iloc[4])
    assert out["tok_postcode_sector"].iloc[4] == out["tok_postcode_sector"].iloc[0]


def test_nulls_give_null_tokens_and_invalid_nhs_numbers_no_token():
    out = tokens(
        dcc_person(nhs_number="9434765918"),  # fails modulus 11
        dcc_person(nhs_number="0000000000"),
        dcc_person(nhs_number=None, given_name=None, family_name=None, date_of_birth=None,
                   postcode=None, address_line_1=None),
    )  # fmt: skip
    assert out["tok_nhs_number"].isna().all()
    assert out["nhs_number_valid"].tolist() == [False, False, False]
    row = out.iloc[2]
    for col in PERSON_RECORD:
        if col.startswith(("tok_", "clk_")):
            assert pd.isna(row[col]) or row[col] is None, col
    assert pd.isna(row["birth_year"])


def test_carried_attributes():
    out = tokens(
        dcc_person(gender="Female", ethnicity="White: Irish", communication_needs="Interpreter: Polish",
                   date_of_death="2026-01-02", has_unpaid_carer="N"),
    )  # fmt: skip
    row = out.iloc[0]
    assert row["sex"] == "F" and row["ethnicity_group"] == "White"
    assert row["district"] == "Derbyshire Dales"
    assert row["communication_need"] == "Interpreter" and row["interpreter_language"] == "Polish"
    assert row["date_of_death"] == pd.Timestamp("2026-01-02")
    assert not row["unpaid_carer"]


HOSTILE = [
    dcc_person(la_person_id="MOS1", given_name="=cmd|' /C calc'!A0", family_name="Robert'); DROP TABLE x;--"),
    dcc_person(la_person_id="MOS2", given_name="Zoë", family_name="O'Brien-Ásgeirsdóttir",
               nhs_number="401 023 2137", postcode="sk17 6ab", address_line_1="3b Church St"),
    dcc_person(la_person_id="MOS3", given_name="Дмитрий", family_name="王", date_of_birth="1999-12-31"),
]  # fmt: skip


@pytest.mark.parametrize("source", ["dcc", "dchs"])
def test_no_clear_value_appears_anywhere_in_the_output(source):
    if source == "dcc":
        rows = HOSTILE
    else:
        rows = [
            dchs_patient(local_patient_id=f"S{i}", given_name=r["given_name"],
                         family_name=r["family_name"], nhs_number=r["nhs_number"],
                         person_birth_date=r["date_of_birth"], postcode=r["postcode"],
                         address_line_1=r["address_line_1"])
            for i, r in enumerate(HOSTILE)
        ]  # fmt: skip
    standardised = std(*rows, source=source)
    out = pseudonymise_persons(standardised, KEY)
    clear: set[str] = set()
    for r in rows:
        for col in ("nhs_number", "given_name", "family_name", "postcode", "address_line_1"):
            if r.get(col):
                clear.add(str(r[col]).upper())
        dob = r.get("date_of_birth") or r.get("person_birth_date")
        clear |= {dob, dob.replace("-", ""), dob[5:]}
    for col in ("nhs_number", "given_name", "family_name", "postcode", "street", "address_norm",
                "postcode_sector"):  # fmt: skip
        clear |= {str(v).upper() for v in standardised[col].dropna()}
    clear = {c for c in clear if c and len(c) >= 3}
    cells = []
    for col in out.columns:
        for v in out[col]:
            if v is None or (not isinstance(v, bytes) and pd.isna(v)):
                continue
            cells.append(v.hex().upper() if isinstance(v, bytes) else str(v).upper())
            if isinstance(v, bytes):
                cells.append(v.decode("latin-1").upper())
    for value in clear:
        hits = [c for c in cells if value in c]
        assert not hits, f"clear value leaked into output: {value!r}"
    # sanity: the scan would catch a leak
    leaky = out.assign(sex=standardised["family_name"].to_numpy())
    assert any(str(standardised["family_name"].iloc[0]) in str(v) for v in leaky["sex"])


def test_empty_frame():
    empty = std()
    out = pseudonymise_persons(empty, KEY)
    assert list(out.columns) == PERSON_RECORD and len(out) == 0


def test_wrong_key_type_refused():
    with pytest.raises(TypeError):
        pseudonymise_persons(std(dcc_person()), b"raw bytes")  # type: ignore[arg-type]


def test_a_tokens_state_from_before_clk_given_still_upserts_and_links(tmp_path):
    """Records encoded before ``clk_given`` existed keep a null filter (the guard then
    treats them strictly); tonight's records carry one."""
    from transforms.link.records import prepare_records

    tonight = tokens(dcc_person(), dcc_person(la_person_id="MOS2"))
    older = tonight.drop(columns=["clk_given"]).assign(source_record_id=["OLD1", "OLD2"])
    older.to_parquet(tmp_path / "old.parquet")
    state = pd.concat([pd.read_parquet(tmp_path / "old.parquet"), tonight], ignore_index=True)
    state.to_parquet(tmp_path / "state.parquet")
    back = pd.read_parquet(tmp_path / "state.parquet")
    assert [pd.isna(v) for v in back["clk_given"]] == [True, True, False, False]
    frame, _ = prepare_records(back)
    assert frame["clk_given_pc"].isna().tolist() == [True, True, False, False]


def test_family_name_parts_share_a_token_with_a_double_barrelled_name():
    out = tokens(
        dcc_person(family_name="Smith-Jones"),
        dcc_person(family_name="Smith"),
        dcc_person(family_name="Jones"),
        dcc_person(family_name="Smithson"),
        dcc_person(family_name=None),
    )
    first, last = out["tok_family_name_first"], out["tok_family_name_last"]
    assert first.iloc[0] == first.iloc[1] == last.iloc[1]  # SMITH-JONES, SMITH
    assert last.iloc[0] == first.iloc[2] == last.iloc[2]  # SMITH-JONES, JONES
    assert first.iloc[0] != last.iloc[0] and first.iloc[3] != first.iloc[1]
    assert first.iloc[1] != out["tok_family_name"].iloc[1]  # its own domain
    assert pd.isna(first.iloc[4]) and pd.isna(last.iloc[4])


def test_a_tokens_state_from_before_family_name_parts_still_links():
    """Records encoded before the family-name part tokens existed have none (their
    "shared part" level never applies)."""
    from transforms.link.records import LATER_TOKEN_COLUMNS, prepare_records

    tonight = tokens(dcc_person(), dcc_person(la_person_id="MOS2"))
    older = tonight.drop(columns=LATER_TOKEN_COLUMNS).assign(source_record_id=["OLD1", "OLD2"])
    frame, _ = prepare_records(pd.concat([older, tonight], ignore_index=True))
    assert frame["tok_family_name_first"].isna().tolist() == [True, True, False, False]
