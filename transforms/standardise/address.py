"""Postcodes (full, sector, district), the local authority district of a postcode
district, and an address line's house number and street."""

from __future__ import annotations

import csv
import logging
import re
from functools import cache
from pathlib import Path

from transforms import vocabulary
from transforms.standardise.text import SPACES, normalise_address

log = logging.getLogger(__name__)

REFERENCE = Path(__file__).parents[1] / "reference"

_FULL_PC = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])$")
_HOUSE = re.compile(r"^(?:FLAT \w+ )?(\d+[A-Z]?)(?:-\d+[A-Z]?)? (.+)$")


def parse_postcode(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(full 'DE4 3AG' or None, sector 'DE4 3' or None, district 'DE4' or None)."""
    if value is None:
        return None, None, None
    text = SPACES.sub(" ", str(value).upper()).strip()
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
