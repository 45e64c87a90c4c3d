"""Communication needs (BSL, interpreter, other) and the interpreter's language."""

from __future__ import annotations

import re
from functools import cache

from transforms import vocabulary
from transforms.standardise.text import SPACES, fold


@cache
def _language_lookup() -> dict[str, str]:
    table = {lang.upper(): lang for lang in vocabulary.LANGUAGES}
    table.update(vocabulary.LANGUAGE_ALIASES)
    return table


def normalise_language(value: str | None) -> str | None:
    if value is None:
        return None
    key = SPACES.sub(" ", fold(str(value))).strip(" .:-")
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
