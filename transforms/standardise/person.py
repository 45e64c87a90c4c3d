"""DCC ``person`` and DCHS ``patient`` landing rows -> one standardised person frame.

Standardised person frame (``STD_PERSON``), the same for both sources:

| column | meaning |
|---|---|
| source, source_record_id | ``dcc``/``dchs``; ``la_person_id``/``local_patient_id`` |
| record_status, merged_into_record_id | DCC ``Active``/``Merged`` and the surviving id; DCHS ``Active`` |
| nhs_number | digits only (spaces, dashes removed); None when empty |
| nhs_number_valid | bool: 10 digits, Modulus 11 passes, not a repeated-digit dummy |
| given_name, family_name | upper case, accents folded, digits and punctuation except ``-`` and ``'`` removed, whitespace collapsed; non-Latin letters kept; None when empty |
| date_of_birth | datetime64 (midnight) or NaT (unparseable, impossible like 2020-02-31, before 1880 or in the future) |
| sex | M, F, X (other / indeterminate), U (unknown) |
| ethnicity_group | White, Mixed, Asian, Black, Other, Not stated |
| postcode | full UK postcode as ``DE4 3AG``, else None |
| postcode_sector | ``DE4 3`` (also from a partial ``DE4 3`` postcode), else None |
| postcode_district | ``DE4`` (also from a partial postcode), else None |
| district | local authority district of the postcode district (reference CSV), else None |
| street_number | house number from address line 1 (``12``, ``12A``), else None |
| street | rest of address line 1, normalised like names, street-type abbreviations expanded |
| address_norm | ``street_number street postcode`` (what both sources hold; DCC's town is left out because DCHS has none) |
| date_of_death | datetime64 or NaT |
| communication_need | BSL, Interpreter, Other, or None |
| interpreter_language | a language from ``vocabulary.LANGUAGES``, ``Other``, or None |
| unpaid_carer | boolean (nullable): DCC has_unpaid_carer Y/N; U and DCHS are NA |
| _source_file, _source_row | provenance, unchanged |
"""

from __future__ import annotations

import logging

import pandas as pd

from transforms import vocabulary
from transforms.codes import is_valid_nhs_numbers
from transforms.standardise.address import (
    la_districts,
    parse_address_line,
    parse_postcode,
    parse_postcode_kept_whole,
)
from transforms.standardise.communication import dcc_communication, dchs_communication
from transforms.standardise.dates import DATE_DTYPE, parse_dates
from transforms.standardise.series import (
    as_objects,
    clean_text,
    lookup,
    map_unique,
    optional_column,
)
from transforms.standardise.text import SPACES, normalise_name, normalise_nhs

log = logging.getLogger(__name__)

STD_PERSON = [
    "source", "source_record_id", "record_status", "merged_into_record_id", "nhs_number",
    "nhs_number_valid", "given_name", "family_name", "date_of_birth", "sex",
    "ethnicity_group", "postcode", "postcode_sector", "postcode_district", "district",
    "street_number", "street", "address_norm", "date_of_death", "communication_need",
    "interpreter_language", "unpaid_carer", "client_type", "_source_file", "_source_row",
]  # fmt: skip


def _common_person(
    df: pd.DataFrame,
    *,
    source: str,
    id_col: str,
    dob_col: str,
    death_col: str,
    other_postcodes: bool = False,
) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    out["source"] = source
    out["source_record_id"] = clean_text(df[id_col])
    nhs = map_unique(clean_text(optional_column(df, "nhs_number")), normalise_nhs)
    out["nhs_number"] = nhs
    out["nhs_number_valid"] = is_valid_nhs_numbers(nhs.tolist())
    out["given_name"] = map_unique(clean_text(df["given_name"]), normalise_name)
    out["family_name"] = map_unique(clean_text(df["family_name"]), normalise_name)
    out["date_of_birth"] = parse_dates(df[dob_col], birth=True)
    _add_postcode(out, df, other_postcodes=other_postcodes)
    _add_address(out, df)
    out["date_of_death"] = parse_dates(optional_column(df, death_col))
    for c in ("_source_file", "_source_row"):
        out[c] = clean_text(optional_column(df, c))
    return out


def _add_postcode(out: pd.DataFrame, df: pd.DataFrame, *, other_postcodes: bool) -> None:
    """postcode, postcode_sector, postcode_district and district."""
    parse = parse_postcode_kept_whole if other_postcodes else parse_postcode
    parts = map_unique(clean_text(optional_column(df, "postcode")), parse)
    parts = [t if t is not None else (None, None, None) for t in parts]
    out["postcode"] = [p[0] for p in parts]
    out["postcode_sector"] = [p[1] for p in parts]
    out["postcode_district"] = [p[2] for p in parts]
    out["district"] = lookup(out["postcode_district"], la_districts())


def _add_address(out: pd.DataFrame, df: pd.DataFrame) -> None:
    """street_number, street and address_norm (after the postcode columns it ends with)."""
    addr = map_unique(clean_text(optional_column(df, "address_line_1")), parse_address_line)
    addr = [t if t is not None else (None, None) for t in addr]
    out["street_number"] = [a[0] for a in addr]
    out["street"] = [a[1] for a in addr]
    out["address_norm"] = [
        " ".join(p for p in (n, s, pc or sec or dist) if p) or None
        for n, s, pc, sec, dist in zip(
            *(
                as_objects(out[c])
                for c in (
                    "street_number",
                    "street",
                    "postcode",
                    "postcode_sector",
                    "postcode_district",
                )
            ),
            strict=True,
        )
    ]


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    out = out[STD_PERSON].reset_index(drop=True)
    out["nhs_number_valid"] = out["nhs_number_valid"].astype(bool)
    out["unpaid_carer"] = out["unpaid_carer"].astype("boolean")
    for c in ("date_of_birth", "date_of_death"):
        out[c] = out[c].astype(DATE_DTYPE)
    return out


def _sex(series: pd.Series) -> pd.Series:
    return map_unique(clean_text(series), lambda v: vocabulary.SEX.get(v.upper(), "U")).fillna("U")


def standardise_dcc_person(df: pd.DataFrame) -> pd.DataFrame:
    """DCC ``person`` landing rows -> ``STD_PERSON``."""
    out = _common_person(
        df, source="dcc", id_col="la_person_id", dob_col="date_of_birth", death_col="date_of_death"
    )
    status = as_objects(clean_text(optional_column(df, "record_status")))
    out["record_status"] = [
        "Merged" if v is not None and v.upper() == "MERGED" else "Active" for v in status
    ]
    out["merged_into_record_id"] = clean_text(optional_column(df, "merged_into_id"))
    out["sex"] = _sex(df["gender"])
    out["ethnicity_group"] = map_unique(clean_text(df["ethnicity"]), _dcc_ethnicity).fillna(
        vocabulary.NOT_STATED
    )
    comm = map_unique(clean_text(optional_column(df, "communication_needs")), dcc_communication)
    comm = [t if t is not None else (None, None) for t in comm]
    out["communication_need"] = [c[0] for c in comm]
    out["interpreter_language"] = [c[1] for c in comm]
    carer = map_unique(
        clean_text(optional_column(df, "has_unpaid_carer")),
        lambda v: vocabulary.UNPAID_CARER.get(v.upper()),
    )
    out["unpaid_carer"] = pd.array(carer.tolist(), dtype="boolean")
    out["client_type"] = map_unique(
        clean_text(optional_column(df, "client_type")),
        lambda v: vocabulary.CLIENT_TYPE.get(v.upper()),
    )
    log.info("standardised %d DCC person rows", len(out))
    return _finish(out)


def _dcc_ethnicity(label: str) -> str:
    up = SPACES.sub(" ", label.upper()).strip()
    if up in vocabulary.ETHNICITY_NOT_STATED_TEXT:
        return vocabulary.NOT_STATED
    prefix = up.split(":", 1)[0].strip()
    return vocabulary.ETHNICITY_PREFIX.get(prefix, vocabulary.NOT_STATED)


def standardise_dchs_patient(df: pd.DataFrame, *, other_postcodes: bool = False) -> pd.DataFrame:
    """DCHS ``patient`` landing rows -> ``STD_PERSON`` (``other_postcodes``: a postcode
    that is no UK one kept whole, :func:`~transforms.standardise.address.parse_postcode_kept_whole`)."""
    out = _common_person(
        df,
        source="dchs",
        id_col="local_patient_id",
        dob_col="person_birth_date",
        death_col="person_death_date",
        other_postcodes=other_postcodes,
    )
    out["record_status"] = "Active"
    out["merged_into_record_id"] = None
    out["sex"] = _sex(df["person_stated_gender_code"])
    out["ethnicity_group"] = map_unique(
        clean_text(df["ethnic_category"]),
        lambda v: vocabulary.ETHNIC_CATEGORY.get(v.upper(), vocabulary.NOT_STATED),
    ).fillna(vocabulary.NOT_STATED)
    required = map_unique(
        clean_text(optional_column(df, "interpreter_required")), lambda v: v.upper()[:1]
    )
    comm = [
        dchs_communication(r, lang)
        for r, lang in zip(
            required, clean_text(optional_column(df, "preferred_language")), strict=True
        )
    ]
    out["communication_need"] = [c[0] for c in comm]
    out["interpreter_language"] = [c[1] for c in comm]
    out["unpaid_carer"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out["client_type"] = None  # a CLD field: DCHS has none
    log.info("standardised %d DCHS patient rows", len(out))
    return _finish(out)
