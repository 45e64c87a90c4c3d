"""A narrow pool of very common names, with households; overlap chosen (90% or 30%).

    python -m bench.generators.common_names --people 10000 --overlap 0.9 --seed 1 --out DIR

Names: 24 given names per sex and 30 family names, with steep frequencies (the
commonest given name held by about one in eight of its sex), so name and date of birth
together are often shared by strangers. Households: 20% of people live with a partner
(one family name and home, sexes differ), 8% with a child (one family name and home,
same given name for a tenth of them, a generation apart), 1.5% are twins (one family
name, home and date of birth). ``overlap``: the share of the population in both files;
the rest is split between LEFT only and RIGHT only.

Errors (RIGHT at the rates below, LEFT at a third of them): two neighbouring letters
transposed in the given name 4% or the family name 3%; a nickname 5%; family name
changed (marriage) 3% of women; given and family name swapped 1%; date of birth day and
month swapped 3%, year one off 2%, missing 3%; moved within the same street (another
house number) 3%, moved away 6%; postcode missing 10%; address line missing 3%; sex
missing 2%. No NHS numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.generators.errors import LETTERS, dob_swap, finish, slip, zipf_weights

MALE = (
    "JOHN DAVID MICHAEL PAUL ANDREW MARK JAMES PETER RICHARD STEPHEN ROBERT CHRISTOPHER "
    "IAN ANTHONY THOMAS WILLIAM GARY STEVEN SIMON DANIEL MATTHEW KEVIN ALAN BRIAN"
).split()
FEMALE = (
    "SUSAN MARGARET SARAH ELIZABETH JULIE KAREN HELEN MARY ANN LINDA PATRICIA JANET "
    "CAROL CHRISTINE JACQUELINE DEBORAH AMANDA NICOLA CLAIRE EMMA LISA JENNIFER ALISON JANE"
).split()
FAMILY = (
    "SMITH JONES WILLIAMS TAYLOR BROWN DAVIES EVANS WILSON THOMAS JOHNSON ROBERTS "
    "ROBINSON THOMPSON WRIGHT WALKER WHITE EDWARDS HUGHES GREEN HALL LEWIS HARRIS CLARKE "
    "PATEL JACKSON WOOD TURNER MARTIN COOPER HILL"
).split()
NICKNAMES = {
    "MICHAEL": "MIKE", "ANDREW": "ANDY", "JAMES": "JIM", "PETER": "PETE", "RICHARD": "RICK",
    "STEPHEN": "STEVE", "ROBERT": "BOB", "CHRISTOPHER": "CHRIS", "ANTHONY": "TONY",
    "THOMAS": "TOM", "WILLIAM": "BILL", "STEVEN": "STEVE", "DANIEL": "DAN",
    "MATTHEW": "MATT", "SUSAN": "SUE", "MARGARET": "MAGGIE", "ELIZABETH": "LIZ",
    "PATRICIA": "PAT", "CHRISTINE": "CHRIS", "JACQUELINE": "JACKIE", "DEBORAH": "DEBBIE",
    "AMANDA": "MANDY", "JENNIFER": "JENNY", "NICOLA": "NICKY",
}  # fmt: skip
STREETS = (
    "HIGH STREET, STATION ROAD, CHURCH LANE, MAIN STREET, PARK ROAD, VICTORIA ROAD, "
    "GREEN LANE, MANOR ROAD, CHURCH STREET, PARK AVENUE, THE AVENUE, THE CRESCENT, "
    "QUEENS ROAD, NEW ROAD, GRANGE ROAD, KINGS ROAD, MILL LANE, SCHOOL LANE, "
    "NORTH STREET, CHESTNUT CLOSE"
).split(", ")
TOWNS = [f"{a}{n}" for a in ("LS", "BD", "HX", "WF", "HD") for n in range(1, 16)]


def _dobs(rng, n: int, lo: str = "1930-01-01", days: int = 365 * 75) -> np.ndarray:
    dates = pd.Timestamp(lo) + pd.to_timedelta(rng.integers(0, days, n), "D")
    return np.asarray(dates.strftime("%Y-%m-%d"), dtype=object)


def _home(rng) -> tuple[str, str]:
    town = TOWNS[int(rng.integers(len(TOWNS)))]
    postcode = f"{town} {int(rng.integers(1, 10))}{LETTERS[int(rng.integers(26))]}{LETTERS[int(rng.integers(26))]}"
    return f"{int(rng.integers(1, 120))} {STREETS[int(rng.integers(len(STREETS)))]}", postcode


def make_people(rng, n: int) -> pd.DataFrame:
    sex = rng.choice(["M", "F"], n).astype(object)
    given = np.where(
        sex == "M",
        rng.choice(MALE, n, p=zipf_weights(len(MALE), 0.8)),
        rng.choice(FEMALE, n, p=zipf_weights(len(FEMALE), 0.8)),
    ).astype(object)
    family = rng.choice(FAMILY, n, p=zipf_weights(len(FAMILY), 0.7)).astype(object)
    dob = _dobs(rng, n).astype(object)
    homes = [_home(rng) for _ in range(n)]
    address = np.array([h[0] for h in homes], dtype=object)
    postcode = np.array([h[1] for h in homes], dtype=object)
    order = rng.permutation(n)
    k_partner, k_child, k_twin = int(0.10 * n), int(0.04 * n), int(0.0075 * n)
    pos = 0

    def take(k):
        nonlocal pos
        a, b = order[pos : pos + k], order[pos + k : pos + 2 * k]
        pos += 2 * k
        return a, b

    a, b = take(k_partner)  # partners: one family name and home, sexes differ
    family[b], address[b], postcode[b] = family[a], address[a], postcode[a]
    sex[b] = np.where(sex[a] == "M", "F", "M")
    given[b] = [(MALE if s == "M" else FEMALE)[int(rng.integers(len(MALE)))] for s in sex[b]]
    a, b = take(k_child)  # parent and child a generation apart
    family[b], address[b], postcode[b] = family[a], address[a], postcode[a]
    for i, j in zip(a, b, strict=True):
        y = int(dob[i][:4]) + 20 + int(rng.integers(0, 15))
        dob[j] = f"{min(y, 2015)}{dob[j][4:]}".replace("-02-29", "-02-28")
        if rng.random() < 0.1 and sex[i] == sex[j]:
            given[j] = given[i]
    a, b = take(k_twin)  # twins: one family name, home and date of birth
    family[b], address[b], postcode[b], dob[b] = family[a], address[a], postcode[a], dob[a]
    for j, i in zip(b, a, strict=True):
        pool = MALE if sex[j] == "M" else FEMALE
        while given[j] == given[i]:
            given[j] = pool[int(rng.integers(len(pool)))]
    return pd.DataFrame(
        {
            "person_id": np.arange(n),
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "sex": sex,
            "address": address,
            "postcode": postcode,
            "nhs_number": None,
        }
    )


def _transpose(rng, s: str) -> str:
    return slip(rng, s, kinds="t")


def corrupt(rng, df: pd.DataFrame, scale: float) -> pd.DataFrame:
    df = df.copy()
    n = len(df)

    def hit(rate: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n) < rate * scale)

    g, f = df["given_name"].to_numpy(object), df["family_name"].to_numpy(object)
    for i in hit(0.05):
        g[i] = NICKNAMES.get(g[i], g[i])
    for i in hit(0.04):
        g[i] = _transpose(rng, g[i])
    for i in hit(0.03):
        f[i] = _transpose(rng, f[i])
    for i in np.intersect1d(hit(0.03), np.flatnonzero(df["sex"].to_numpy() == "F")):
        f[i] = FAMILY[int(rng.integers(len(FAMILY)))]
    swap = hit(0.01)
    g[swap], f[swap] = f[swap].copy(), g[swap].copy()
    dob = df["date_of_birth"].to_numpy(object)
    for i in hit(0.03):
        dob[i] = dob_swap(dob[i])
    for i in hit(0.02):
        dob[i] = f"{int(dob[i][:4]) + int(rng.choice([-1, 1]))}{dob[i][4:]}"
        if dob[i].endswith("02-29"):
            dob[i] = dob[i][:-2] + "28"
    dob[hit(0.03)] = None
    ad, pc = df["address"].to_numpy(object), df["postcode"].to_numpy(object)
    for i in hit(0.03):
        num, street = ad[i].split(" ", 1)
        ad[i] = f"{int(num) + 1 + int(rng.integers(30))} {street}"
    for i in hit(0.06):
        ad[i], pc[i] = _home(rng)
    pc[hit(0.10)] = None
    ad[hit(0.03)] = None
    sex = df["sex"].to_numpy(object)
    sex[hit(0.02)] = None
    df["given_name"], df["family_name"], df["date_of_birth"] = g, f, dob
    df["address"], df["postcode"], df["sex"] = ad, pc, sex
    return df


def generate(people: int = 10000, seed: int = 1, *, overlap: float = 0.9):
    """(left, right, truth): ``overlap`` of the people in both files, the rest half in
    LEFT only, half in RIGHT only."""
    rng = np.random.default_rng(seed)
    pop = make_people(rng, people)
    where = rng.random(people)
    only = (1 - overlap) / 2
    left_idx = np.flatnonzero(where >= only)  # both, or LEFT only
    right_idx = np.flatnonzero((where < only) | (where >= 2 * only))  # RIGHT only, or both
    return finish(rng, pop, corrupt, left_idx, right_idx, 1 / 3, 1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10000)
    ap.add_argument("--overlap", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    left, right, truth = generate(a.people, a.seed, overlap=a.overlap)
    a.out.mkdir(parents=True, exist_ok=True)
    left.to_csv(a.out / "left.csv", index=False)
    right.to_csv(a.out / "right.csv", index=False)
    truth.to_csv(a.out / "truth.csv", index=False)
    print(f"{len(left):,} + {len(right):,} records, {len(truth):,} true pairs -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
