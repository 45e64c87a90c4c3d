"""The error model: how one person's record goes wrong in one source system.

Each function takes the records of one source (columnar), picks records at the
configured per-record rate, changes them and returns the indices it changed so the
ground truth (``errors.parquet``) lists every injected error.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from transforms.codes import DUMMY_NHS_NUMBERS
from transforms.synthetic.names import nicknames
from transforms.synthetic.timeline import EPOCH

KEYBOARD = {
    "a": "qswz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}  # fmt: skip
#: OCR / handwriting confusions, tried in order.
OCR = [("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("li", "h"), ("l", "1"), ("I", "l"),
       ("O", "0"), ("o", "0"), ("S", "5"), ("B", "8"), ("e", "c"), ("h", "b"), ("u", "v"), ("a", "o")]  # fmt: skip


def select(
    rng: np.random.Generator, n: int, rate: float, eligible: np.ndarray | None = None
) -> np.ndarray:
    """Indices chosen so that, over all ``n`` records, about ``rate`` of them are picked."""
    if n == 0 or rate <= 0:
        return np.zeros(0, dtype=np.int64)
    u = rng.random(n)
    if eligible is None:
        return np.flatnonzero(u < rate)
    share = eligible.mean()
    if share == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(eligible & (u < min(1.0, rate / share)))


def typo(rng: np.random.Generator, s: str) -> str:
    """One keyboard slip: substitute a neighbouring key, drop, double or transpose."""
    if len(s) < 3:
        return s + s[-1]
    i = int(rng.integers(1, len(s)))
    op = int(rng.integers(0, 4))
    ch = s[i].lower()
    if op == 0 and ch in KEYBOARD:
        near = KEYBOARD[ch]
        return s[:i] + near[int(rng.integers(0, len(near)))] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i + 1 :]
    if op == 2:
        return s[:i] + s[i] + s[i:]
    if i < len(s) - 1 and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + s[i + 1 :]


def ocr(rng: np.random.Generator, s: str) -> str:
    options = [(a, b) for a, b in OCR if a in s]
    if not options:
        return typo(rng, s)
    a, b = options[int(rng.integers(0, len(options)))]
    return s.replace(a, b, 1)


def names(rng, rec: dict, rate_of) -> list[tuple[np.ndarray, str]]:
    """Swaps, nicknames, family-name changes, typos and OCR errors in given/family names."""
    given, family = rec["given"], rec["family"]
    n = given.shape[0]
    out = []
    i = select(rng, n, rate_of("name_swap"))
    given[i], family[i] = family[i].copy(), given[i].copy()
    out.append((i, "name_swap"))
    nick = nicknames()
    eligible = np.array([g in nick for g in given], dtype=bool)
    i = select(rng, n, rate_of("nickname"), eligible)
    for j in i.tolist():
        opts = nick[given[j]]
        given[j] = opts[int(rng.integers(0, len(opts)))]
    out.append((i, "nickname"))
    i = select(rng, n, rate_of("family_name_change"))
    family[i] = rec["prev_family"][i]
    out.append((i, "family_name_change"))
    for kind, fn in (("name_typo", typo), ("name_ocr", ocr)):
        i = select(rng, n, rate_of(kind))
        which = rng.random(i.size) < 0.5
        for j, g in zip(i.tolist(), which.tolist(), strict=True):
            if g:
                given[j] = fn(rng, given[j])
            else:
                family[j] = fn(rng, family[j])
        out.append((i, kind))
    return out


def _ymd(days: np.ndarray):
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def dob_typo_one(rng: np.random.Generator, day: int) -> int:
    """One digit of a date of birth mistyped, keeping a real date that differs."""
    d = EPOCH + timedelta(days=int(day))
    for _ in range(10):
        part = int(rng.integers(0, 3))
        try:
            if part == 0:
                new_digit = (d.year % 10 + int(rng.integers(1, 10))) % 10
                cand = d.replace(year=d.year - d.year % 10 + new_digit)
            elif part == 1:
                cand = d.replace(day=(d.day // 10) * 10 + int(rng.integers(0, 10)))
            else:
                cand = d.replace(month=int(rng.integers(1, 13)))
        except ValueError:
            continue
        if cand != d and cand <= date(2026, 12, 31):
            return (cand - EPOCH).days
    return int(day) + 1


def dates_of_birth(rng, rec: dict, rate_of) -> list[tuple[np.ndarray, str]]:
    dob = rec["dob"]
    n = dob.shape[0]
    y, m, d = _ymd(dob)
    eligible = (d <= 12) & (d != m)
    i = select(rng, n, rate_of("dob_day_month_swap"), eligible)
    if i.size:
        swapped = (
            (y[i] - 1970).astype("datetime64[Y]").astype("datetime64[M]")
            + (d[i] - 1).astype("timedelta64[M]")
        ).astype("datetime64[D]") + (m[i] - 1).astype("timedelta64[D]")
        dob[i] = swapped.astype(np.int64)
    out = [(i, "dob_day_month_swap")]
    i = select(rng, n, rate_of("dob_typo"))
    for j in i.tolist():
        dob[j] = dob_typo_one(rng, int(dob[j]))
    out.append((i, "dob_typo"))
    return out


def format_nhs(rng, s: str) -> str:
    sep = " " if rng.random() < 0.7 else "-"
    return f"{s[:3]}{sep}{s[3:6]}{sep}{s[6:]}"


def mistype_nhs(rng, s: str) -> str:
    k = int(rng.integers(0, 10))
    digit = (int(s[k]) + int(rng.integers(1, 10))) % 10
    return s[:k] + str(digit) + s[k + 1 :]


def nhs_numbers(rng, rec: dict, rate_of) -> list[tuple[np.ndarray, str]]:
    """Missing, dummy, mistyped (fails Modulus 11) or formatted NHS numbers; exclusive."""
    nhs = rec["nhs"]
    n = nhs.shape[0]
    u = rng.random(n)
    edges = np.cumsum(
        [
            rate_of("nhs_missing"),
            rate_of("nhs_dummy"),
            rate_of("nhs_mistyped"),
            rate_of("nhs_formatted"),
        ]
    )
    kind = np.searchsorted(edges, u, side="right")  # 0..3 = error, 4 = clean
    out = []
    i = np.flatnonzero(kind == 0)
    nhs[i] = None
    out.append((i, "nhs_missing"))
    i = np.flatnonzero(kind == 1)
    for j in i.tolist():
        nhs[j] = DUMMY_NHS_NUMBERS[int(rng.integers(0, len(DUMMY_NHS_NUMBERS)))]
    out.append((i, "nhs_dummy"))
    i = np.flatnonzero(kind == 2)
    for j in i.tolist():
        nhs[j] = mistype_nhs(rng, nhs[j])
        if rng.random() < 0.3:
            nhs[j] = format_nhs(rng, nhs[j])
    out.append((i, "nhs_mistyped"))
    i = np.flatnonzero(kind == 3)
    for j in i.tolist():
        nhs[j] = format_nhs(rng, nhs[j])
    out.append((i, "nhs_formatted"))
    return out


def addresses(rng, rec: dict, rate_of) -> list[tuple[np.ndarray, str]]:
    """House moves (the record holds the previous address), partial and missing postcodes."""
    n = rec["postcode"].shape[0]
    out = []
    i = select(rng, n, rate_of("house_move"))
    for k in ("postcode", "line1", "town"):
        rec[k][i] = rec["prev_" + k][i]
    out.append((i, "house_move"))
    u = rng.random(n)
    missing = u < rate_of("postcode_missing")
    partial = ~missing & (u < rate_of("postcode_missing") + rate_of("postcode_partial"))
    i = np.flatnonzero(partial)
    for j in i.tolist():
        pc = rec["postcode"][j]
        rec["postcode"][j] = pc.split(" ")[0] if rng.random() < 0.5 else pc[:-2]
    out.append((i, "postcode_partial"))
    i = np.flatnonzero(missing)
    rec["postcode"][i] = None
    out.append((i, "postcode_missing"))
    return out
