"""Error kinds shared by the generators: typing slips, date-of-birth slips, moves."""

from __future__ import annotations

import numpy as np

KEYBOARD = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]
_POS = {c: (r, i) for r, row in enumerate(KEYBOARD) for i, c in enumerate(row)}
NEAR = {
    c: "".join(
        d for d, (r2, i2) in _POS.items() if d != c and abs(r2 - r) <= 1 and abs(i2 - i) <= 1
    )
    for c, (r, i) in _POS.items()
}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMNS = [
    "record_id", "nhs_number", "given_name", "family_name", "date_of_birth", "sex",
    "postcode", "address",
]  # fmt: skip


def slip(rng, s: str, kinds: str = "sdit") -> str:
    """One typing slip: (s)ubstitute a neighbouring key, (d)rop, (i)nsert a double,
    (t)ranspose two neighbours; position anywhere but the first letter."""
    if not isinstance(s, str) or len(s) < 3:
        return s
    i = int(rng.integers(1, len(s)))
    kind = kinds[int(rng.integers(len(kinds)))]
    c = s[i]
    if kind == "s" and NEAR.get(c):
        return s[:i] + NEAR[c][int(rng.integers(len(NEAR[c])))] + s[i + 1 :]
    if kind == "d":
        return s[:i] + s[i + 1 :]
    if kind == "t" and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + c + s[i:]


def dob_slip(rng, dob: str) -> str:
    """One digit of the day, month or the year's last two typed wrong (a real date)."""
    import datetime as dt

    for _ in range(10):
        s = list(dob)
        p = [2, 3, 5, 6, 8, 9][int(rng.integers(6))]
        s[p] = str((int(s[p]) + 1 + int(rng.integers(9))) % 10)
        cand = "".join(s)
        try:
            dt.date.fromisoformat(cand)
            return cand
        except ValueError:
            continue
    return dob


def dob_swap(dob: str) -> str:
    y, m, d = dob.split("-")
    return f"{y}-{d}-{m}" if int(d) <= 12 else dob


def nhs_number(rng) -> str:
    """A random valid (Modulus 11) NHS number."""
    while True:
        digits = [int(x) for x in rng.integers(0, 10, 9)]
        digits[0] = int(rng.integers(4, 10))
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def zipf_weights(n: int, a: float) -> np.ndarray:
    w = 1 / np.arange(1, n + 1) ** a
    return w / w.sum()


def split_population(rng, n: int, p_left: float, p_right: float) -> tuple[np.ndarray, np.ndarray]:
    """Each person is in LEFT with ``p_left`` and in RIGHT with ``p_right``,
    independently (some in neither)."""
    in_l = rng.random(n) < p_left
    in_r = rng.random(n) < p_right
    return np.flatnonzero(in_l), np.flatnonzero(in_r)


def finish(rng, people, corrupt, left_idx, right_idx, left_scale, right_scale):
    """(left, right, truth): each file's records corrupted, shuffled, with fresh ids."""
    out = []
    for side, idx, scale in (("A", left_idx, left_scale), ("B", right_idx, right_scale)):
        df = corrupt(rng, people.iloc[idx].reset_index(drop=True), scale)
        df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
        df["record_id"] = [f"{side}{x:07d}" for x in rng.permutation(10**7)[: len(df)]]
        out.append(df)
    left, right = out
    truth = left[["record_id", "person_id"]].merge(
        right[["record_id", "person_id"]], on="person_id", suffixes=("_l", "_r")
    )[["record_id_l", "record_id_r"]]
    return left[COLUMNS], right[COLUMNS], truth
