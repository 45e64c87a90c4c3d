"""Scanning for clear identifiers: every column of every table the pipeline publishes."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pandas as pd

from transforms.vocabulary import ETHNIC_CATEGORY
from transforms.warehouse.db import make_engine
from transforms.warehouse.publish import read_frame

SCHEMAS = ("shared_care", "identity", "audit")


def clear_identifiers(sources: Path) -> dict[str, set[str]]:
    """Every name, NHS number, date of birth, address and full postcode in the sources."""
    values: dict[str, set[str]] = {
        k: set() for k in ("name", "nhs_number", "dob", "address", "postcode")
    }
    with sqlite3.connect(sources / "dcc.sqlite") as con:
        dcc = pd.read_sql(
            "select given_name, family_name, nhs_number, date_of_birth, postcode, address_line_1 from person",
            con,
        )
    dchs = pd.concat(
        [
            pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted((sources / "dchs").glob("*/patient.csv"))
        ]
    )
    values["full_name"] = set()
    for frame, dob in ((dcc, "date_of_birth"), (dchs, "person_birth_date")):
        values["name"] |= set(frame["given_name"].dropna()) | set(frame["family_name"].dropna())
        full = frame["given_name"].fillna("") + " " + frame["family_name"].fillna("")
        values["full_name"] |= set(full.str.strip())
        values["nhs_number"] |= {re.sub(r"\D", "", str(v)) for v in frame["nhs_number"].dropna()}
        values["dob"] |= {str(v)[:10] for v in frame[dob].dropna()}
        values["address"] |= set(frame["address_line_1"].dropna())
        values["postcode"] |= {v for v in frame["postcode"].dropna() if " " in str(v)}
    values = {
        k: {str(v).strip().upper() for v in vs if len(str(v).strip()) >= 3}
        for k, vs in values.items()
    }
    values["nhs_number"] = {v for v in values["nhs_number"] if len(v) == 10}
    values["full_name"] = {v for v in values["full_name"] if " " in v}
    return values


WORD = re.compile(r"[A-Z0-9']+")
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
UK_DATE = re.compile(r"(?<!\d)(\d{2})/(\d{2})/(\d{4})(?!\d)")
TEN_DIGITS = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")

#: Dates from here on are the synthetic sources' event period; a child born in it has a
#: date of birth that cannot be told apart from the event and run dates logs rightly hold.
EVENT_ERA = "2024-01-01"


def _phrases(values: set[str]) -> set[tuple[str, ...]]:
    return {tuple(WORD.findall(v.upper())) for v in values if WORD.findall(v.upper())}


def scan_text(text: str, identifiers: dict[str, set[str]]) -> list[str]:
    """Kinds of clear identifier found in free text (logs, HTML, JSON), with no values."""
    upper = text.upper()
    found = []
    if {re.sub(r"\D", "", m) for m in TEN_DIGITS.findall(upper)} & identifiers["nhs_number"]:
        found.append("nhs_number")
    if {m.replace(" ", "") for m in POSTCODE.findall(upper)} & {
        p.replace(" ", "") for p in identifiers["postcode"]
    }:
        found.append("postcode")
    dates = {"-".join(m) for m in ISO_DATE.findall(upper)} | {
        f"{y}-{mo}-{d}" for d, mo, y in UK_DATE.findall(upper)
    }
    if {d for d in dates if d < EVENT_ERA} & identifiers["dob"]:
        found.append("dob")
    words = WORD.findall(upper)
    for kind in ("full_name", "address"):
        phrases = _phrases(identifiers[kind])
        for n in {len(p) for p in phrases}:
            grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
            if grams & phrases:
                found.append(kind)
                break
    return found


#: Published code labels that are also surnames ("White"): a label, not a leak.
VOCABULARY = {v.upper() for v in ETHNIC_CATEGORY.values()} | {"OTHER", "UNKNOWN"}
#: A run of ten digits inside a source id ("EV0012345678") is the id, not an NHS number.
BARE_TEN_DIGITS = re.compile(r"(?<![A-Z0-9])\d{10}(?![A-Z0-9])")


def scan_cells(cells: set[str], identifiers: dict[str, set[str]]) -> list[str]:
    """Kinds of clear identifier among one column's distinct values (upper-cased)."""
    found = []
    for kind, values in identifiers.items():
        if kind == "dob":
            continue  # below: a date cell may be an event date, never a birth date
        hits = cells & values
        if kind == "name":
            hits -= VOCABULARY
        if hits:
            found.append(kind)
    embedded = {m for c in cells for m in BARE_TEN_DIGITS.findall(c)}
    if embedded & identifiers.get("nhs_number", set()) and "nhs_number" not in found:
        found.append("nhs_number (embedded)")
    if {c[:10] for c in cells if c[:10] < EVENT_ERA} & identifiers.get("dob", set()):
        found.append("dob")
    return found


def scan_warehouse(url: str, identifiers: dict[str, set[str]]) -> list[str]:
    """``schema.table.column: kind`` for every column holding a clear identifier."""
    engine = make_engine(url)
    found = []
    try:
        listing = read_frame(
            engine,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('shared_care', 'identity', 'audit') and table_type = 'BASE TABLE'",
        )
        for schema, table in listing.itertuples(index=False):
            frame = read_frame(engine, f"select * from {schema}.{table}")
            for column in frame.columns:
                cells = {str(v).strip().upper() for v in frame[column].dropna()}
                found += [f"{schema}.{table}.{column}: {k}" for k in scan_cells(cells, identifiers)]
    finally:
        engine.dispose()
    return found
