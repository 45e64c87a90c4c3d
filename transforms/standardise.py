"""Landing rows -> one clear, standardised person frame and the SOURCE_EVENT frame.

Pure pandas, no I/O. Clear identifiers exist here and in landing only; the person frame
goes straight to :func:`transforms.pseudonymise.pseudonymise_persons` and is dropped.
Free-text functions run once per *distinct* value (``pd.factorize``), not per row.

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

Events follow ``contracts.SOURCE_EVENT``; every landing event row gives exactly one output
row (row accounting depends on it). Mappings are in :mod:`transforms.vocabulary`.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from transforms import vocabulary
from transforms.codes import is_valid_nhs_numbers
from transforms.contracts import SOURCE_EVENT

log = logging.getLogger(__name__)

REFERENCE = Path(__file__).parent / "reference"

STD_PERSON = [
    "source", "source_record_id", "record_status", "merged_into_record_id", "nhs_number",
    "nhs_number_valid", "given_name", "family_name", "date_of_birth", "sex",
    "ethnicity_group", "postcode", "postcode_sector", "postcode_district", "district",
    "street_number", "street", "address_norm", "date_of_death", "communication_need",
    "interpreter_language", "unpaid_carer", "client_type", "_source_file", "_source_row",
]  # fmt: skip

MIN_BIRTH_DATE = pd.Timestamp("1880-01-01")
DATE_DTYPE = "datetime64[ns]"


# ----------------------------------------------------------------------------- helpers
def _objects(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=object, na_value=None)


def _apply(series: pd.Series, func) -> pd.Series:
    """``func`` (pure) once per distinct non-null value, as an object Series with None
    (pandas 3's ``map`` would infer a string dtype and turn None into NaN)."""
    return map_unique(series, func)


def _lookup(series: pd.Series, table: dict, default=None) -> pd.Series:
    return _apply(series, lambda v: table.get(v, default))


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _str(series: pd.Series) -> pd.Series:
    """As object strings with None for missing/blank (whatever the input dtype).

    Text columns (the landing zone's) are trimmed in Arrow, not value by value in
    Python: a night's 9 M care contacts pass through here several times."""
    if isinstance(series.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(pa.array(series, from_pandas=True))
        blank = pc.equal(pc.utf8_length(trimmed), 0)
        trimmed = pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed)
        return pd.Series(trimmed.to_numpy(zero_copy_only=False), index=series.index, dtype=object)
    return pd.Series([_clean(v) for v in _objects(series)], index=series.index, dtype=object)


def map_unique(series: pd.Series, func, dtype="object") -> pd.Series:
    """``func`` applied once per distinct non-null value; None stays None."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = None
    out = pd.Series(mapped[codes], index=series.index, dtype=object)
    return out if dtype == "object" else out.astype(dtype)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype=object)


# ------------------------------------------------------------------------ NHS number
_NHS_SEPARATORS = re.compile(r"[\s\-.]")


def normalise_nhs(value: str | None) -> str | None:
    """Spaces, dashes and dots removed; anything else kept (so it stays invalid)."""
    if value is None:
        return None
    return _NHS_SEPARATORS.sub("", str(value)) or None


# ------------------------------------------------------------------------------- names
_SPECIAL = str.maketrans({
    "ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Ø": "O", "ø": "O", "Ł": "L", "ł": "L",
    "Đ": "D", "đ": "D", "Þ": "TH", "þ": "TH", "Œ": "OE", "œ": "OE", "ı": "I", "Ð": "D",
    "ð": "D", "’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "‐": "-", "‑": "-",
    "–": "-", "—": "-",
})  # fmt: skip
_SPACES = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([-'])\s*")
_REPEAT = re.compile(r"([-'])[-']+")


def _latin(ch: str) -> bool:
    o = ord(ch)
    return o < 0x250 or 0x1E00 <= o <= 0x1EFF


def fold(text: str) -> str:
    """Upper case with Latin accents folded (É -> E, ß -> SS). Marks on non-Latin letters
    are kept (Cyrillic Й is a letter of its own, not an accented И)."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    kept = []
    base_latin = True
    for ch in text:
        if unicodedata.combining(ch):
            if not base_latin:
                kept.append(ch)
            continue
        base_latin = _latin(ch)
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).upper()


def normalise_name(value: str | None) -> str | None:
    """Upper case, accents folded, only letters / hyphen / apostrophe / single spaces."""
    if value is None:
        return None
    text = fold(str(value))
    text = "".join(
        ch if (unicodedata.category(ch).startswith("L") or ch in "-'") else " " for ch in text
    )
    text = _SPACES.sub(" ", text).strip()
    text = _AROUND.sub(r"\1", text)
    text = _REPEAT.sub(r"\1", text).strip("-' ")
    return text or None


# ---------------------------------------------------------------------------- postcode
_FULL_PC = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$")


def parse_postcode(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(full 'DE4 3AG' or None, sector 'DE4 3' or None, district 'DE4' or None)."""
    if value is None:
        return None, None, None
    text = _SPACES.sub(" ", str(value).upper()).strip()
    compact = text.replace(" ", "")
    m = _FULL_PC.match(compact)
    if m:
        out, inw = m.groups()
        return f"{out} {inw}", f"{out} {inw[0]}", out
    m = _SECTOR.match(text)  # 'DE4 3' (needs the space: 'DE43' is a district)
    if m:
        return None, f"{m.group(1)} {m.group(2)}", m.group(1)
    if _OUTWARD.match(compact) and " " not in text:
        return None, None, compact
    return None, None, None


def parse_postcode_kept_whole(value: str | None) -> tuple[str | None, str | None, str | None]:
    """:func:`parse_postcode`, but a value that is no UK postcode (``2612``, ``75 008``)
    is kept as its letters and digits (``75008``), with no sector or district, rather
    than dropped: for two files of people from elsewhere (the two-file command), where
    it is tokenised and encoded like a UK one and agrees only when equal. The nightly
    sources keep :func:`parse_postcode` (there a postcode that is not one is a
    data-quality finding)."""
    parts = parse_postcode(value)
    if value is None or parts != (None, None, None):
        return parts
    return (normalise_address(value) or "").replace(" ", "") or None, None, None


@cache
def la_districts() -> dict[str, str]:
    path = REFERENCE / "postcode_districts.csv"
    if not path.exists():  # pragma: no cover - the reference file ships with the code
        log.warning("reference %s missing: district left empty", path)
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {
            r["postcode_district"].strip().upper(): r["la_district"].strip()
            for r in csv.DictReader(fh)
        }


# ----------------------------------------------------------------------------- address
_HOUSE = re.compile(r"^(?:FLAT \w+ )?(\d+[A-Z]?)(?:-\d+[A-Z]?)? (.+)$")


def parse_address_line(value: str | None) -> tuple[str | None, str | None]:
    """(house number, street) from an address line like ``12a Oak St.``."""
    text = normalise_address(value)
    if text is None:
        return None, None
    m = _HOUSE.match(text)
    number, street = (m.group(1), m.group(2)) if m else (None, text)
    words = street.split(" ")
    if len(words) > 1 and words[-1] in vocabulary.STREET_TYPES:
        words[-1] = vocabulary.STREET_TYPES[words[-1]]
    return number, " ".join(words) or None


def normalise_address(value: str | None) -> str | None:
    """Upper case, accents folded, letters/digits/hyphen/apostrophe, single spaces."""
    if value is None:
        return None
    text = fold(str(value))
    text = "".join(
        ch if (unicodedata.category(ch)[0] in "LN" or ch in "-'") else " " for ch in text
    )
    text = _SPACES.sub(" ", text).strip()
    text = _AROUND.sub(r"\1", text).strip("-' ")
    return text or None


# ------------------------------------------------------------------ communication needs
@cache
def _language_lookup() -> dict[str, str]:
    table = {lang.upper(): lang for lang in vocabulary.LANGUAGES}
    table.update(vocabulary.LANGUAGE_ALIASES)
    return table


def normalise_language(value: str | None) -> str | None:
    if value is None:
        return None
    key = _SPACES.sub(" ", fold(str(value))).strip(" .:-")
    if not key:
        return None
    return _language_lookup().get(key, "Other")


def dcc_communication(text: str | None) -> tuple[str | None, str | None]:
    """(communication_need, interpreter_language) from DCC free text."""
    if text is None:
        return None, None
    up = fold(str(text))
    if re.search(r"\bBSL\b|SIGN LANGUAGE", up):
        return "BSL", vocabulary.BSL
    if "INTERPRET" in up:
        before, _, after = up.partition("INTERPRET")
        after = re.sub(r"^\w*", "", after)  # ...ER / ...ERS / ...ING
        words = [w for w in (after, before) if w.strip(" :;,.()-/")]
        langs = [normalise_language(w.strip(" :;,.()-/")) for w in words]
        lang = next((x for x in langs if x not in (None, "Other")), langs[0] if langs else None)
        if lang == vocabulary.BSL:
            return "BSL", vocabulary.BSL
        return "Interpreter", lang
    return "Other", None


def dchs_communication(required: str | None, language: str | None):
    """(communication_need, interpreter_language) from interpreter_required + language."""
    lang = normalise_language(language)
    if lang == vocabulary.BSL and required != "N":
        return "BSL", vocabulary.BSL
    if required == "Y":
        return "Interpreter", (None if lang in (None, "English") else lang)
    return None, None


# ------------------------------------------------------------------------------- dates
def parse_dates(series: pd.Series, *, birth: bool = False) -> pd.Series:
    """ISO dates (a time part is ignored) -> datetime64; anything impossible -> NaT."""
    text = _apply(_str(series), lambda v: v[:10])
    text = _apply(text, lambda v: v if "1800" <= v[:4] <= "2200" else None)  # ns bounds
    out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").astype(DATE_DTYPE)
    if birth:
        today = pd.Timestamp.today().normalize()
        out = out.where((out >= MIN_BIRTH_DATE) & (out <= today))
    return out


# ------------------------------------------------------------------------------ person
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
    out["source_record_id"] = _str(df[id_col])
    nhs = _apply(_str(_col(df, "nhs_number")), normalise_nhs)
    out["nhs_number"] = nhs
    out["nhs_number_valid"] = is_valid_nhs_numbers(nhs.tolist())
    out["given_name"] = map_unique(_str(df["given_name"]), normalise_name)
    out["family_name"] = map_unique(_str(df["family_name"]), normalise_name)
    out["date_of_birth"] = parse_dates(df[dob_col], birth=True)
    parse = parse_postcode_kept_whole if other_postcodes else parse_postcode
    parts = map_unique(_str(_col(df, "postcode")), parse)
    parts = [t if t is not None else (None, None, None) for t in parts]
    out["postcode"] = [p[0] for p in parts]
    out["postcode_sector"] = [p[1] for p in parts]
    out["postcode_district"] = [p[2] for p in parts]
    out["district"] = _lookup(out["postcode_district"], la_districts())
    addr = map_unique(_str(_col(df, "address_line_1")), parse_address_line)
    addr = [t if t is not None else (None, None) for t in addr]
    out["street_number"] = [a[0] for a in addr]
    out["street"] = [a[1] for a in addr]
    out["address_norm"] = [
        " ".join(p for p in (n, s, pc or sec or dist) if p) or None
        for n, s, pc, sec, dist in zip(
            *(
                _objects(out[c])
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
    out["date_of_death"] = parse_dates(_col(df, death_col))
    for c in ("_source_file", "_source_row"):
        out[c] = _str(_col(df, c))
    return out


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    out = out[STD_PERSON].reset_index(drop=True)
    out["nhs_number_valid"] = out["nhs_number_valid"].astype(bool)
    out["unpaid_carer"] = out["unpaid_carer"].astype("boolean")
    for c in ("date_of_birth", "date_of_death"):
        out[c] = out[c].astype(DATE_DTYPE)
    return out


def _sex(series: pd.Series) -> pd.Series:
    return map_unique(_str(series), lambda v: vocabulary.SEX.get(v.upper(), "U")).fillna("U")


def standardise_dcc_person(df: pd.DataFrame) -> pd.DataFrame:
    """DCC ``person`` landing rows -> ``STD_PERSON``."""
    out = _common_person(
        df, source="dcc", id_col="la_person_id", dob_col="date_of_birth", death_col="date_of_death"
    )
    status = _objects(_str(_col(df, "record_status")))
    out["record_status"] = [
        "Merged" if v is not None and v.upper() == "MERGED" else "Active" for v in status
    ]
    out["merged_into_record_id"] = _str(_col(df, "merged_into_id"))
    out["sex"] = _sex(df["gender"])
    out["ethnicity_group"] = map_unique(_str(df["ethnicity"]), _dcc_ethnicity).fillna(
        vocabulary.NOT_STATED
    )
    comm = map_unique(_str(_col(df, "communication_needs")), dcc_communication)
    comm = [t if t is not None else (None, None) for t in comm]
    out["communication_need"] = [c[0] for c in comm]
    out["interpreter_language"] = [c[1] for c in comm]
    carer = _apply(
        _str(_col(df, "has_unpaid_carer")), lambda v: vocabulary.UNPAID_CARER.get(v.upper())
    )
    out["unpaid_carer"] = pd.array(carer.tolist(), dtype="boolean")
    out["client_type"] = _apply(
        _str(_col(df, "client_type")), lambda v: vocabulary.CLIENT_TYPE.get(v.upper())
    )
    log.info("standardised %d DCC person rows", len(out))
    return _finish(out)


def _dcc_ethnicity(label: str) -> str:
    up = _SPACES.sub(" ", label.upper()).strip()
    if up in vocabulary.ETHNICITY_NOT_STATED_TEXT:
        return vocabulary.NOT_STATED
    prefix = up.split(":", 1)[0].strip()
    return vocabulary.ETHNICITY_PREFIX.get(prefix, vocabulary.NOT_STATED)


def standardise_dchs_patient(df: pd.DataFrame, *, other_postcodes: bool = False) -> pd.DataFrame:
    """DCHS ``patient`` landing rows -> ``STD_PERSON`` (``other_postcodes``: a postcode
    that is no UK one kept whole, :func:`parse_postcode_kept_whole`)."""
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
        _str(df["ethnic_category"]),
        lambda v: vocabulary.ETHNIC_CATEGORY.get(v.upper(), vocabulary.NOT_STATED),
    ).fillna(vocabulary.NOT_STATED)
    required = _apply(_str(_col(df, "interpreter_required")), lambda v: v.upper()[:1])
    comm = [
        dchs_communication(r, lang)
        for r, lang in zip(required, _str(_col(df, "preferred_language")), strict=True)
    ]
    out["communication_need"] = [c[0] for c in comm]
    out["interpreter_language"] = [c[1] for c in comm]
    out["unpaid_carer"] = pd.array([pd.NA] * len(out), dtype="boolean")
    out["client_type"] = None  # a CLD field: DCHS has none
    log.info("standardised %d DCHS patient rows", len(out))
    return _finish(out)


# ------------------------------------------------------------------------------ events
def age_at(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years from ``dob`` to ``on`` (Int64, NA when either is unknown or negative)."""
    dob = pd.to_datetime(dob, errors="coerce")
    on = pd.to_datetime(on, errors="coerce")
    years = on.dt.year - dob.dt.year
    before = (on.dt.month < dob.dt.month) | (
        (on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day)
    )
    age = (years - before.astype(int)).astype("Int64")
    age = age.where(dob.notna().to_numpy() & on.notna().to_numpy())
    return age.where(age >= 0).astype("Int64")


def _ages(source: str, record_ids: pd.Series, start: pd.Series, std_person: pd.DataFrame):
    people = std_person.loc[std_person["source"] == source, ["source_record_id", "date_of_birth"]]
    people = people.drop_duplicates("source_record_id", keep="last")
    pos = pd.Index(_objects(people["source_record_id"])).get_indexer(_objects(record_ids))
    dates = np.append(people["date_of_birth"].to_numpy(dtype=DATE_DTYPE), np.datetime64("NaT"))
    dob = pd.Series(dates[pos], dtype=DATE_DTYPE)  # pos -1 picks the NaT at the end
    return age_at(dob, pd.Series(pd.to_datetime(start).to_numpy())).to_numpy()


def _client_types(record_ids: pd.Series, std_person: pd.DataFrame) -> np.ndarray:
    """The CLD client type of each DCC event's person record (None when unknown)."""
    people = std_person.loc[std_person["source"] == "dcc", ["source_record_id", "client_type"]]
    people = people.drop_duplicates("source_record_id", keep="last")
    pos = pd.Index(_objects(people["source_record_id"])).get_indexer(_objects(record_ids))
    types = np.append(_objects(people["client_type"]), None)
    return types[pos]  # pos -1 picks the None at the end


def _events_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(index=pd.RangeIndex(n))


def _finish_events(out: pd.DataFrame) -> pd.DataFrame:
    for c in ("start_date", "end_date"):
        out[c] = out[c].astype(DATE_DTYPE)
    out["pathway"] = pd.array(out["pathway"].tolist(), dtype="Int64")
    out["age_at_event"] = pd.array(out["age_at_event"].tolist(), dtype="Int64")
    for c in SOURCE_EVENT:
        if c not in ("start_date", "end_date", "pathway", "age_at_event"):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out[SOURCE_EVENT].reset_index(drop=True)


def _dcc_service_category(stype: str | None, component: str | None) -> str | None:
    if stype is None:
        return "other"
    return vocabulary.DCC_SERVICE_CATEGORY.get(
        (stype, component), vocabulary.DCC_SERVICE_CATEGORY.get((stype, None), "other")
    )


def standardise_dcc_events(event_df: pd.DataFrame, std_person_df: pd.DataFrame) -> pd.DataFrame:
    """DCC ``event`` landing rows -> ``SOURCE_EVENT`` (one row per input row)."""
    df = event_df.reset_index(drop=True)
    out = _events_frame(len(df))
    out["source"] = "dcc"
    out["source_event_id"] = _str(df["event_reference"]).to_numpy()
    out["source_record_id"] = _str(df["la_person_id"]).to_numpy()
    out["organisation"] = "DCC"
    etype = _str(df["event_type"])
    out["event_type"] = _apply(etype, lambda v: vocabulary.EVENT_TYPE.get(v, v.lower()))
    team = pd.Series([v or "" for v in _objects(_str(_col(df, "team")))], dtype=object)
    stype, comp = _str(_col(df, "service_type")), _str(_col(df, "service_component"))
    is_service = out["event_type"] == "service"
    category = pd.Series(
        [_dcc_service_category(s, c) for s, c in zip(stype, comp, strict=True)], dtype=object
    )
    category = category.mask(
        is_service & team.str.startswith("CSB-") & (category == "other"), "st_max_bed"
    )
    out["service_category"] = category.where(is_service, None)
    setting = _lookup(category, vocabulary.DCC_SERVICE_SETTING, "community")
    setting = setting.mask(
        (category == "long_term_community") & comp.isin(vocabulary.HOME_COMPONENTS), "home"
    )
    non_service = np.where(team == "HOSPITAL-SW", "hospital", "community")
    out["setting"] = np.where(is_service, setting, non_service)
    out["pathway"] = None
    out["start_date"] = parse_dates(df["event_start_date"]).to_numpy()
    out["end_date"] = parse_dates(_col(df, "event_end_date")).to_numpy()
    out["outcome"] = _lookup(_str(_col(df, "event_outcome")), vocabulary.DCC_OUTCOME, "other")
    out["route_of_access"] = _lookup(
        _str(_col(df, "request_route_of_access")), vocabulary.ROUTE_OF_ACCESS, "other"
    )
    out["discharge_destination_code"] = None
    out["age_at_event"] = _ages("dcc", out["source_record_id"], out["start_date"], std_person_df)
    out["client_type"] = _client_types(out["source_record_id"], std_person_df)
    log.info("standardised %d DCC events", len(out))
    return _finish_events(out)


def standardise_dchs_events(
    referral_df: pd.DataFrame,
    contact_df: pd.DataFrame,
    spell_df: pd.DataFrame,
    std_person_df: pd.DataFrame,
    previous_events: pd.DataFrame | None = None,
    referrals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """DCHS referral, care contact and inpatient spell rows -> ``SOURCE_EVENT``.

    A contact takes its service category (and its setting, when the location code is
    missing) from its referral: tonight's, else ``previous_events`` (the tokens-zone
    ``source_event`` state), since a contact can arrive in a later drop than its referral.
    ``referrals``: that lookup, when the caller already built it (:func:`dchs_referral_table`).
    """
    if referrals is None:
        referrals = dchs_referral_table(referral_df, previous_events)
    frames = [
        _dchs_referrals(referral_df.reset_index(drop=True)),
        _dchs_contacts(contact_df.reset_index(drop=True), referrals),
        _dchs_spells(spell_df.reset_index(drop=True)),
    ]
    return _finish_dchs(frames, std_person_df)


def standardise_dchs_contacts(
    contact_df: pd.DataFrame, referrals: pd.DataFrame, std_person_df: pd.DataFrame
) -> pd.DataFrame:
    """DCHS care contacts alone -> ``SOURCE_EVENT``, with ``referrals`` from
    :func:`dchs_referral_table` (so a night's contacts can be standardised in batches)."""
    return _finish_dchs(
        [_dchs_contacts(contact_df.reset_index(drop=True), referrals)], std_person_df
    )


def _finish_dchs(frames: list[pd.DataFrame], std_person_df: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "dchs"
    out["organisation"] = "DCHS"
    out["age_at_event"] = _ages("dchs", out["source_record_id"], out["start_date"], std_person_df)
    out["client_type"] = None
    log.info("standardised %d DCHS events", len(out))
    return _finish_events(out)


def _dchs_referrals(df: pd.DataFrame) -> pd.DataFrame:
    out = _events_frame(len(df))
    team = _apply(_str(df["team_type_code"]), str.upper)
    out["source_event_id"] = ("ref:" + _str(df["service_request_id"]).astype(str)).to_numpy()
    out["source_record_id"] = _str(df["local_patient_id"]).to_numpy()
    out["event_type"] = "referral"
    out["setting"] = _lookup(team, vocabulary.TEAM_SETTING, "other").fillna("other").to_numpy()
    out["pathway"] = None
    out["service_category"] = (
        _lookup(team, vocabulary.TEAM_SERVICE_CATEGORY, "other").fillna("other").to_numpy()
    )
    out["start_date"] = parse_dates(df["referral_received_date"]).to_numpy()
    out["end_date"] = parse_dates(_col(df, "service_discharge_date")).to_numpy()
    out["outcome"] = np.where(pd.notna(out["end_date"]), "discharged", None)
    out["route_of_access"] = _apply(
        _str(_col(df, "source_of_referral")),
        lambda v: vocabulary.SOURCE_OF_REFERRAL_ROUTE.get(v.upper(), "other"),
    ).to_numpy()
    out["discharge_destination_code"] = None
    return out


def dchs_referral_table(referral_df: pd.DataFrame, previous_events: pd.DataFrame | None):
    """service_request_id -> service_category, setting, from earlier nights and tonight
    (tonight wins)."""
    parts = []
    if previous_events is not None and len(previous_events):
        prev = previous_events[
            (previous_events["source"] == "dchs")
            & previous_events["source_event_id"].astype(str).str.startswith("ref:")
        ]
        parts.append(
            pd.DataFrame(
                {
                    "sid": _objects(prev["source_event_id"].astype(str).str.removeprefix("ref:")),
                    "service_category": _objects(prev["service_category"]),
                    "setting": _objects(prev["setting"]),
                }
            )
        )
    team = _apply(_str(referral_df["team_type_code"]), str.upper)
    parts.append(
        pd.DataFrame(
            {
                "sid": _objects(_str(referral_df["service_request_id"])),
                "service_category": _lookup(team, vocabulary.TEAM_SERVICE_CATEGORY, "other")
                .fillna("other")
                .to_numpy(dtype=object),
                "setting": _lookup(team, vocabulary.TEAM_SETTING, "other")
                .fillna("other")
                .to_numpy(dtype=object),
            }
        )
    )
    table = pd.concat(parts, ignore_index=True)
    return table[table["sid"].notna()].drop_duplicates("sid", keep="last")


def _dchs_contacts(df: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    from transforms.frames import index_of

    out = _events_frame(len(df))
    sid = _str(df["service_request_id"])
    cid = _str(df["care_contact_id"])
    out["source_event_id"] = ("con:" + sid.astype(str) + ":" + cid.astype(str)).to_numpy()
    out["source_record_id"] = _str(df["local_patient_id"]).to_numpy()
    out["event_type"] = "contact"
    pos = index_of(sid, table["sid"])  # -1: no referral known

    def from_referral(col: str) -> np.ndarray:
        return np.append(table[col].to_numpy(dtype=object), "other")[pos]

    location = _apply(
        _str(_col(df, "activity_location_type_code")),
        lambda v: vocabulary.ACTIVITY_LOCATION_SETTING.get(v.upper(), "other"),
    ).to_numpy(dtype=object)
    out["setting"] = np.where(pd.notna(location), location, from_referral("setting"))
    out["pathway"] = None
    out["service_category"] = from_referral("service_category")
    date = parse_dates(df["care_contact_date"]).to_numpy()
    out["start_date"] = date
    out["end_date"] = date
    out["outcome"] = _lookup(
        _str(_col(df, "attended_or_did_not_attend")), vocabulary.ATTENDANCE_OUTCOME, "other"
    ).to_numpy()
    out["route_of_access"] = None
    out["discharge_destination_code"] = None
    return out


def _dchs_spells(df: pd.DataFrame) -> pd.DataFrame:
    out = _events_frame(len(df))
    out["source_event_id"] = (
        "spell:" + _str(df["hospital_provider_spell_number"]).astype(str)
    ).to_numpy()
    out["source_record_id"] = _str(df["local_patient_id"]).to_numpy()
    out["event_type"] = "inpatient_spell"
    out["setting"] = "community_hospital"
    pathway = _str(_col(df, "discharge_pathway"))
    out["pathway"] = (
        pd.to_numeric(pathway, errors="coerce").where(lambda p: p.isin([0, 1, 2, 3])).to_numpy()
    )
    out["service_category"] = "bed_intermediate_care"
    out["start_date"] = parse_dates(df["admission_date"]).to_numpy()
    out["end_date"] = parse_dates(_col(df, "discharge_date")).to_numpy()
    dest = _str(_col(df, "discharge_destination_code"))
    method = _str(_col(df, "discharge_method_code"))
    outcome = _lookup(dest, vocabulary.DISCHARGE_DESTINATION_OUTCOME, "other")
    outcome = outcome.mask((method == "4").to_numpy(), "died")
    out["outcome"] = outcome.to_numpy()
    out["route_of_access"] = _lookup(
        _str(_col(df, "admission_source_code")), vocabulary.ADMISSION_SOURCE_ROUTE, "other"
    ).to_numpy()
    out["discharge_destination_code"] = dest.to_numpy()
    return out
