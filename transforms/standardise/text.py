"""Free text to one canonical form: names, address text and NHS numbers."""

from __future__ import annotations

import re
import unicodedata

_NHS_SEPARATORS = re.compile(r"[\s\-.]")

_SPECIAL = str.maketrans({
    "ß": "SS", "ẞ": "SS", "Æ": "AE", "æ": "AE", "Ø": "O", "ø": "O", "Ł": "L", "ł": "L",
    "Đ": "D", "đ": "D", "Þ": "TH", "þ": "TH", "Œ": "OE", "œ": "OE", "ı": "I", "Ð": "D",
    "ð": "D", "’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "‐": "-", "‑": "-",
    "–": "-", "—": "-",
})  # fmt: skip
SPACES = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([-'])\s*")
_REPEAT = re.compile(r"([-'])[-']+")


def normalise_nhs(value: str | None) -> str | None:
    """Spaces, dashes and dots removed; anything else kept (so it stays invalid)."""
    if value is None:
        return None
    return _NHS_SEPARATORS.sub("", str(value)) or None


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
    text = SPACES.sub(" ", text).strip()
    text = _AROUND.sub(r"\1", text)
    text = _REPEAT.sub(r"\1", text).strip("-' ")
    return text or None


def normalise_address(value: str | None) -> str | None:
    """Upper case, accents folded, letters/digits/hyphen/apostrophe, single spaces."""
    if value is None:
        return None
    text = fold(str(value))
    text = "".join(
        ch if (unicodedata.category(ch)[0] in "LN" or ch in "-'") else " " for ch in text
    )
    text = SPACES.sub(" ", text).strip()
    text = _AROUND.sub(r"\1", text).strip("-' ")
    return text or None
