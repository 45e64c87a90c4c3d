"""Syllable-string names with Zipf frequencies; no families; two files of one population.

    python -m bench.generators.syllables --people 20000 --seed 1 --out DIR

Given and family names are strings of two to four syllables drawn from a fixed
syllable list (``KAROVI``, ``TELUMASA``), so no name list, nickname table or
phonetic habit of English names helps; their frequencies follow Zipf's law (a few
names common, a long tail held by one or two people). Each person is in LEFT with
probability ``p_left`` (0.8) and in RIGHT with ``p_right`` (0.4), independently: at
20,000 people about 16,000 and 8,000 records, a third of the population in both.
No households: nobody shares a family name and address by design, only by chance.

Errors (RIGHT at the rates below, LEFT at ``left_scale`` = 0.3 of them): given-name
slip 6%, family-name slip 5%, date of birth one digit wrong 3%, day/month swapped 1%,
missing 1.5%; moved house 10% (new street, number and postcode anywhere), house number
wrong 2%, postcode missing 8%, one postcode character wrong 2%; sex missing 3%.
NHS numbers: none by default; ``nhs_missing=(a, b)`` gives every person a valid
number, left out of a share ``a`` of LEFT and ``b`` of RIGHT records.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.generators.errors import (
    LETTERS,
    dob_slip,
    dob_swap,
    finish,
    nhs_number,
    slip,
    split_population,
    zipf_weights,
)

SYLLABLES = (
    "KA LO MI RA TE SU NO VI DA PE LU SA GO RI MA TA NE BO KU ZE HA FI JO WE YA XU "
    "KAR LEN MOS TIR VAN DUL SEM BRA KRO STI PLA ENG ORA ULI ISK AND"
).split()
STREET_TYPES = ["ROAD", "STREET", "LANE", "AVENUE", "CLOSE", "WAY", "DRIVE", "GARDENS"]


def _names(rng, n: int, lo: int, hi: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        k = int(rng.integers(lo, hi + 1))
        out.add("".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), k)))
    return sorted(out, key=lambda s: rng.random())


def _postcode(rng, district: str) -> str:
    return f"{district} {int(rng.integers(1, 10))}{LETTERS[int(rng.integers(26))]}{LETTERS[int(rng.integers(26))]}"


def make_people(rng, n: int, with_nhs: bool) -> pd.DataFrame:
    given = _names(rng, max(300, n // 8), 2, 3)
    family = _names(rng, max(1000, n // 3), 2, 4)
    streets = _names(rng, 400, 2, 3)
    districts = [
        f"{LETTERS[int(a)]}{LETTERS[int(b)]}{int(c)}"
        for a, b, c in zip(*rng.integers(0, 26, (2, 60)), rng.integers(1, 30, 60), strict=True)
    ]
    people = pd.DataFrame(
        {
            "person_id": np.arange(n),
            "given_name": rng.choice(given, n, p=zipf_weights(len(given), 1.0)),
            "family_name": rng.choice(family, n, p=zipf_weights(len(family), 0.9)),
            "date_of_birth": (
                pd.Timestamp("1925-01-01") + pd.to_timedelta(rng.integers(0, 365 * 95, n), "D")
            ).strftime("%Y-%m-%d"),
            "sex": rng.choice(["M", "F"], n),
        }
    )
    _home(rng, people, np.arange(n), streets, districts)
    people["nhs_number"] = [nhs_number(rng) for _ in range(n)] if with_nhs else None
    people.attrs.update(streets=streets, districts=districts)
    return people


def _home(rng, df: pd.DataFrame, rows: np.ndarray, streets, districts) -> None:
    k = len(rows)
    street = rng.choice(streets, k)
    stype = rng.choice(STREET_TYPES, k)
    number = rng.integers(1, 250, k)
    df.loc[rows, "address"] = [
        f"{a} {s} {t}" for a, s, t in zip(number, street, stype, strict=True)
    ]
    df.loc[rows, "postcode"] = [_postcode(rng, d) for d in rng.choice(districts, k)]


def corrupter(nhs_missing: tuple[float, float] | None):
    def corrupt(rng, df: pd.DataFrame, scale: float) -> pd.DataFrame:
        df = df.copy()
        n = len(df)

        def hit(rate: float) -> np.ndarray:
            return np.flatnonzero(rng.random(n) < rate * scale)

        g, f = df["given_name"].to_numpy(object), df["family_name"].to_numpy(object)
        for i in hit(0.06):
            g[i] = slip(rng, g[i])
        for i in hit(0.05):
            f[i] = slip(rng, f[i])
        dob = df["date_of_birth"].to_numpy(object)
        for i in hit(0.03):
            dob[i] = dob_slip(rng, dob[i])
        for i in hit(0.01):
            dob[i] = dob_swap(dob[i])
        dob[hit(0.015)] = None
        moved = hit(0.10)
        _home(rng, df, moved, df.attrs["streets"], df.attrs["districts"])
        ad, pc = df["address"].to_numpy(object), df["postcode"].to_numpy(object)
        for i in hit(0.02):
            num, rest = ad[i].split(" ", 1)
            ad[i] = f"{int(num) + 1 + int(rng.integers(20))} {rest}"
        for i in hit(0.02):
            j = int(rng.integers(len(pc[i])))
            if pc[i][j] != " ":
                pc[i] = pc[i][:j] + LETTERS[int(rng.integers(26))] + pc[i][j + 1 :]
        pc[hit(0.08)] = None
        sex = df["sex"].to_numpy(object)
        sex[hit(0.03)] = None
        df["given_name"], df["family_name"], df["date_of_birth"] = g, f, dob
        df["address"], df["postcode"], df["sex"] = ad, pc, sex
        if nhs_missing is not None:
            share = nhs_missing[0] if scale < 1 else nhs_missing[1]
            nhs = df["nhs_number"].to_numpy(object)
            nhs[rng.random(n) < share] = None
            df["nhs_number"] = nhs
        return df

    return corrupt


def generate(
    people: int = 20000,
    seed: int = 1,
    *,
    p_left: float = 0.8,
    p_right: float = 0.4,
    left_scale: float = 0.3,
    nhs_missing: tuple[float, float] | None = None,
):
    """(left, right, truth); see the module docstring."""
    rng = np.random.default_rng(seed)
    pop = make_people(rng, people, nhs_missing is not None)
    attrs = dict(pop.attrs)
    left_idx, right_idx = split_population(rng, people, p_left, p_right)
    corrupt = corrupter(nhs_missing)

    def with_attrs(rng, df, scale):
        df.attrs.update(attrs)
        return corrupt(rng, df, scale)

    return finish(rng, pop, with_attrs, left_idx, right_idx, left_scale, 1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nhs-missing", type=float, nargs=2, default=None)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    left, right, truth = generate(a.people, a.seed, nhs_missing=a.nhs_missing)
    a.out.mkdir(parents=True, exist_ok=True)
    left.to_csv(a.out / "left.csv", index=False)
    right.to_csv(a.out / "right.csv", index=False)
    truth.to_csv(a.out / "truth.csv", index=False)
    print(f"{len(left):,} + {len(right):,} records, {len(truth):,} true pairs -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
