"""The true population of one chunk: who people are, where they live, which system knows them.

Everything is columnar (numpy arrays, one element per person). Ages follow a
Derbyshire-like pyramid with 22% aged 65+; coverage targets are ~75% DCHS patients,
~19% DCC persons, ~85% of DCC persons also DCHS patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from transforms import codes
from transforms.synthetic.config import Rates
from transforms.synthetic.names import (
    ASIAN_GIVEN_FEMALE,
    ASIAN_GIVEN_MALE,
    ASIAN_SURNAMES,
    DISTRICT_WEIGHTS,
    GIVEN_FEMALE,
    GIVEN_MALE,
    POLISH_GIVEN_FEMALE,
    POLISH_GIVEN_MALE,
    POLISH_SURNAMES,
    STREET_STEMS,
    STREET_TYPES,
    SURNAMES,
    TOWNS,
    la_districts,
    postcode_districts,
    zipf_weights,
)
from transforms.synthetic.timeline import NEVER, Timeline

#: Age bands (lower bound, upper bound, share of population).
AGE_BANDS = [
    (0, 18, 0.20),
    (18, 40, 0.27),
    (40, 65, 0.31),
    (65, 75, 0.115),
    (75, 85, 0.075),
    (85, 101, 0.03),
]
#: Annual mortality by the same bands.
MORTALITY = [0.0002, 0.0007, 0.003, 0.015, 0.045, 0.14]
#: P(DCC person) by band (adults only), and P(DCHS patient | not DCC) by band.
P_DCC = [0.0, 0.145, 0.19, 0.37, 0.56, 0.74]
P_DCHS_NOT_DCC = [0.55, 0.70, 0.76, 0.89, 0.94, 0.97]
P_DCHS_GIVEN_DCC = 0.85

#: True ethnicity shares (Census 2021 label order of ``codes.CENSUS_2021_ETHNICITY``).
ETHNICITY_LABELS = list(codes.CENSUS_2021_ETHNICITY)
ETHNICITY_SHARES = np.array(
    [0.002, 0.003, 0.016, 0.011, 0.004, 0.004, 0.003, 0.001, 0.004, 0.002, 0.006, 0.003,
     0.905, 0.005, 0.001, 0.001, 0.026, 0.001, 0.003]
)  # fmt: skip
ETHNICITY_SHARES = ETHNICITY_SHARES / ETHNICITY_SHARES.sum()
ASIAN = {0, 2, 3, 4}  # Bangladeshi, Indian, Pakistani, Other Asian
OTHER_WHITE = {15, 16}  # Roma, Other White

LANGUAGES_ASIAN = ["Urdu", "Punjabi", "Bengali", "Gujarati"]
LANGUAGES_EUROPE = ["Polish", "Romanian", "Lithuanian", "Slovak", "Latvian", "Czech"]
LANGUAGES_OTHER = ["Arabic", "Kurdish", "Cantonese", "Tigrinya", "Somali", "Farsi"]

#: Communication needs: none, BSL, spoken-language interpreter, large print, easy read.
COMM_NONE, COMM_BSL, COMM_INTERPRETER, COMM_LARGE_PRINT, COMM_EASY_READ = range(5)
COMM_DCC_TEXT = [None, "BSL interpreter", "Interpreter: {lang}", "Large print", "Easy read"]

LOOKALIKE_NONE, LOOKALIKE_TWIN, LOOKALIKE_PARENT_CHILD, LOOKALIKE_COMMON = range(4)
COMMON_FULL_NAMES = {0: [("John", "Smith"), ("David", "Smith"), ("John", "Taylor")],
                     1: [("Margaret", "Smith"), ("Susan", "Jones"), ("Sarah", "Smith")]}  # fmt: skip

UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))

#: Single years of age in ``population.csv``; the oldest holds everyone that age or over.
OLDEST_AGE = 90


@dataclass
class People:
    pid: np.ndarray  # global person number
    sex: np.ndarray  # 0 male, 1 female, 2 other
    dob: np.ndarray  # day number
    band: np.ndarray  # age band index at the first night
    eth: np.ndarray  # index into ETHNICITY_LABELS
    given: np.ndarray
    family: np.ndarray
    prev_family: np.ndarray
    addr: dict[str, np.ndarray]
    prev_addr: dict[str, np.ndarray]
    gp: np.ndarray
    death: np.ndarray  # day number, NEVER if alive at the end
    in_dcc: np.ndarray
    in_dchs: np.ndarray
    comm: np.ndarray
    language: np.ndarray
    lookalike: np.ndarray
    nhs: np.ndarray  # a valid NHS number (10 digits, str)
    u_comm: np.ndarray  # shared draw: does one source miss the communication need

    def __len__(self) -> int:
        return self.pid.shape[0]


def _choice(rng: np.random.Generator, values: list, n: int, p=None) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr[rng.choice(len(values), size=n, p=p)]


def addresses(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Derbyshire addresses: postcode, first line, town, postcode district and LA district."""
    pcds = postcode_districts()
    las = list(DISTRICT_WEIGHTS)
    w = np.array([DISTRICT_WEIGHTS[a] for a in las], dtype=float)
    la_idx = rng.choice(len(las), size=n, p=w / w.sum())
    by_la = {a: [i for i, (_, la) in enumerate(pcds) if la == a] for a in las}
    pcd_idx = np.empty(n, dtype=np.int64)
    for k, a in enumerate(las):
        m = la_idx == k
        pcd_idx[m] = rng.choice(by_la[a], size=int(m.sum()))
    pcd_names = np.array([p for p, _ in pcds], dtype=object)
    la_names = np.array([la for _, la in pcds], dtype=object)
    sector = rng.integers(0, 10, size=n)
    u1 = rng.integers(0, len(UNIT_LETTERS), size=n)
    u2 = rng.integers(0, len(UNIT_LETTERS), size=n)
    district = pcd_names[pcd_idx]
    postcode = (
        district.astype(str)
        + " "
        + sector.astype(str)
        + UNIT_LETTERS[u1].astype(str)
        + UNIT_LETTERS[u2].astype(str)
    ).astype(object)
    # the street follows from the postcode, so neighbours share a street
    code = (pcd_idx * 10 + sector) * 400 + u1 * 20 + u2
    stems = np.array(STREET_STEMS, dtype=object)
    types = np.array(STREET_TYPES, dtype=object)
    street = stems[(code * 2654435761) % len(stems)] + " " + types[(code * 40503) % len(types)]
    number = 1 + np.minimum(rng.geometric(0.03, size=n), 250)
    line1 = number.astype(str).astype(object) + " " + street
    towns = np.empty(n, dtype=object)
    for i, d in enumerate(pcd_names):
        m = pcd_idx == i
        if m.any():
            towns[m] = _choice(rng, TOWNS[d], int(m.sum()))
    return {
        "postcode": postcode,
        "line1": line1,
        "town": towns,
        "district": district,
        "la": la_names[pcd_idx],
    }


def nhs_numbers(pid: np.ndarray, seed: int) -> np.ndarray:
    """A unique, valid NHS number per global person number (a bijection, seeded)."""
    x = (7_777_777 * pid.astype(np.int64) + (seed * 104_729 + 12_345_678)) % 100_000_000
    out = np.empty(pid.shape[0], dtype=object)
    digits = np.zeros((pid.shape[0], 9), dtype=np.int64)
    for k in range(8):
        digits[:, 8 - k] = (x // 10**k) % 10
    for lead in (4, 6):  # at most one leading digit per x gives check digit 10
        digits[:, 0] = lead
        check = codes.check_digits(digits)
        ok = (check != 10) & np.equal(out, None)
        nums = lead * 10**9 + x * 10 + check
        out[ok] = np.char.zfill(nums[ok].astype(str), 10).astype(object)
    return out


def _given_names(rng, sex, birth_year, eth, language) -> np.ndarray:
    n = sex.shape[0]
    out = np.empty(n, dtype=object)
    for tables, s in ((GIVEN_MALE, 0), (GIVEN_FEMALE, 1)):
        starts = np.array([y for y, _ in tables])
        era = np.clip(np.searchsorted(starts, birth_year, side="right") - 1, 0, len(tables) - 1)
        sex_mask = (sex == s) | ((sex == 2) & (s == 1))
        for e, (_, names) in enumerate(tables):
            m = sex_mask & (era == e)
            if m.any():
                out[m] = _choice(rng, names, int(m.sum()), zipf_weights(len(names)))
    asian = np.isin(eth, list(ASIAN))
    polish = language == "Polish"
    for mask, male, female in (
        (asian, ASIAN_GIVEN_MALE, ASIAN_GIVEN_FEMALE),
        (polish, POLISH_GIVEN_MALE, POLISH_GIVEN_FEMALE),
    ):
        for s, names in ((0, male), (1, female)):
            m = mask & (sex == s)
            if m.any():
                out[m] = _choice(rng, names, int(m.sum()))
    return out


def _surnames(rng, eth, language, n) -> np.ndarray:
    out = _choice(rng, SURNAMES, n, zipf_weights(len(SURNAMES)))
    asian = np.isin(eth, list(ASIAN))
    if asian.any():
        out[asian] = _choice(rng, ASIAN_SURNAMES, int(asian.sum()))
    polish = language == "Polish"
    if polish.any():
        out[polish] = _choice(rng, POLISH_SURNAMES, int(polish.sum()))
    return out


def make_people(
    rng: np.random.Generator, first_pid: int, n: int, tl: Timeline, seed: int, rates: Rates
) -> People:
    pid = np.arange(first_pid, first_pid + n, dtype=np.int64)
    shares = np.array([s for _, _, s in AGE_BANDS])
    band = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
    lo = np.array([a for a, _, _ in AGE_BANDS])[band]
    hi = np.array([b for _, b, _ in AGE_BANDS])[band]
    age_days = ((lo + rng.random(n) * (hi - lo)) * 365.25).astype(np.int64)
    dob = (tl.first - age_days).astype(np.int32)
    birth_year = 1970 + (dob / 365.25).astype(np.int64)
    sex = rng.choice(3, size=n, p=[0.489, 0.509, 0.002]).astype(np.int8)

    eth = rng.choice(len(ETHNICITY_LABELS), size=n, p=ETHNICITY_SHARES)
    old_white = (band >= 3) & (eth != 12) & (rng.random(n) < 0.6)
    eth[old_white] = 12

    # communication needs
    comm = np.zeros(n, dtype=np.int8)
    language = np.full(n, "English", dtype=object)
    u = rng.random(n)
    non_english = np.isin(eth, [0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 18])
    interp = non_english & (u < 0.22)
    comm[interp] = COMM_INTERPRETER
    asian = np.isin(eth, list(ASIAN)) & interp
    europe = np.isin(eth, list(OTHER_WHITE)) & interp
    other = interp & ~asian & ~europe
    language[asian] = _choice(rng, LANGUAGES_ASIAN, int(asian.sum()))
    language[europe] = _choice(rng, LANGUAGES_EUROPE, int(europe.sum()))
    language[other] = _choice(rng, LANGUAGES_OTHER, int(other.sum()))
    v = rng.random(n)
    free = comm == COMM_NONE
    comm[free & (v < 0.003)] = COMM_BSL
    comm[free & (v >= 0.003) & (v < 0.003 + np.where(band >= 3, 0.03, 0.004))] = COMM_LARGE_PRINT
    comm[free & (v > 0.994)] = COMM_EASY_READ
    language[comm == COMM_BSL] = "British Sign Language"

    given = _given_names(rng, sex, birth_year, eth, language)
    family = _surnames(rng, eth, language, n)
    prev_family = _surnames(rng, eth, language, n)
    same = prev_family == family
    prev_family[same] = _choice(rng, SURNAMES[:50], int(same.sum()))

    addr = addresses(rng, n)
    prev_addr = addresses(rng, n)
    keep_area = rng.random(n) < 0.6  # most moves are local: same postcode district
    prev_addr["postcode"] = np.where(
        keep_area,
        addr["district"]
        + " "
        + np.array([p.split(" ")[1] for p in prev_addr["postcode"]], dtype=object),
        prev_addr["postcode"],
    )
    for k in ("district", "la", "town"):
        prev_addr[k] = np.where(keep_area, addr[k], prev_addr[k])
    gp_n = rng.integers(1, 700, size=n)
    gp = np.char.add("C81", np.char.zfill(gp_n.astype(str), 3)).astype(object)

    # coverage
    in_dcc = rng.random(n) < np.array(P_DCC)[band]
    derby = addr["la"] == "Derby City"
    in_dcc &= ~derby | (rng.random(n) < 0.1)  # Derby City residents are the city's clients
    in_dchs = np.where(
        in_dcc, rng.random(n) < P_DCHS_GIVEN_DCC, rng.random(n) < np.array(P_DCHS_NOT_DCC)[band]
    )

    # deaths during the window (journeys may bring some forward)
    years = tl.years
    p_die = 1 - np.exp(-np.array(MORTALITY)[band] * years)
    dies = rng.random(n) < p_die
    death = np.full(n, NEVER, dtype=np.int32)
    lo_death = np.maximum(tl.start, dob[dies] + 1)
    death[dies] = (lo_death + rng.random(int(dies.sum())) * (tl.end - lo_death)).astype(np.int32)

    people = People(
        pid=pid, sex=sex, dob=dob, band=band, eth=eth, given=given, family=family,
        prev_family=prev_family, addr=addr, prev_addr=prev_addr, gp=gp, death=death,
        in_dcc=in_dcc, in_dchs=in_dchs, comm=comm, language=language,
        lookalike=np.zeros(n, dtype=np.int8), nhs=nhs_numbers(pid, seed), u_comm=rng.random(n),
    )  # fmt: skip
    _lookalikes(rng, people, tl, rates)
    return people


def _copy_household(p: People, src: np.ndarray, dst: np.ndarray) -> None:
    for d in (p.addr, p.prev_addr):
        for k in d:
            d[k][dst] = d[k][src]
    p.gp[dst] = p.gp[src]
    p.family[dst] = p.family[src]
    p.eth[dst] = p.eth[src]
    p.in_dchs[src] = True
    p.in_dchs[dst] = True
    p.in_dcc[dst] = p.in_dcc[src]


def _lookalikes(rng: np.random.Generator, p: People, tl: Timeline, rates: Rates) -> None:
    """Twins, same-name parent/child pairs and very common names: different people."""
    n = len(p)
    slots = np.arange(0, n - 1, 2)
    u = rng.random(slots.shape[0])
    twin_a = slots[u < rates.twin]
    pc_a = slots[(u >= rates.twin) & (u < rates.twin + rates.parent_child)]
    # twins: same family name, date of birth and address; different given names
    b = twin_a + 1
    _copy_household(p, twin_a, b)
    p.dob[b] = p.dob[twin_a]
    p.band[b] = p.band[twin_a]
    p.death[b] = np.where(p.death[b] < p.dob[b], NEVER, p.death[b])
    for a_i, b_i in zip(twin_a.tolist(), b.tolist(), strict=True):
        if p.given[b_i] == p.given[a_i]:
            p.given[b_i] = p.given[b_i] + "a" if len(p.given[b_i]) < 3 else p.given[b_i][:-1] + "ie"
    p.lookalike[twin_a] = LOOKALIKE_TWIN
    p.lookalike[b] = LOOKALIKE_TWIN
    # parent and adult child with the same given and family name at one address
    c = pc_a + 1
    _copy_household(p, pc_a, c)
    p.given[c] = p.given[pc_a]
    p.sex[c] = p.sex[pc_a]
    gap = (rng.integers(20, 36, size=pc_a.shape[0]) * 365.25).astype(np.int32)
    parent_dob = np.minimum(p.dob[pc_a], tl.first - (18 * 365 + gap))
    p.dob[pc_a] = parent_dob
    p.dob[c] = parent_dob + gap + rng.integers(0, 365, size=pc_a.shape[0])
    for arr, idx in ((p.band, pc_a), (p.band, c)):
        age = (tl.first - p.dob[idx]) / 365.25
        arr[idx] = np.searchsorted([b for _, b, _ in AGE_BANDS], age, side="right").clip(0, 5)
    p.in_dcc[c] &= p.band[c] >= 1
    p.in_dcc[pc_a] &= p.band[pc_a] >= 1
    p.lookalike[pc_a] = LOOKALIKE_PARENT_CHILD
    p.lookalike[c] = LOOKALIKE_PARENT_CHILD
    # very common full names
    free = np.flatnonzero((p.lookalike == LOOKALIKE_NONE) & (p.sex < 2) & (p.language == "English"))
    pick = free[rng.random(free.shape[0]) < rates.common_name]
    for i in pick.tolist():
        options = COMMON_FULL_NAMES[int(p.sex[i])]
        p.given[i], p.family[i] = options[i % len(options)]
    p.lookalike[pick] = LOOKALIKE_COMMON


def census(people: pa.Table, on: date) -> np.ndarray:
    """People alive at the start of ``on`` by local authority district and single year of
    age: an int64 array, one row per district of ``names.la_districts()`` (in its
    order), one column per age 0..``OLDEST_AGE`` (the last one is that age or over).

    ``people``: ``date_of_birth``, ``date_of_death`` (null if alive) and ``la_district``
    (a district name of ``la_districts.csv``), one row per person."""
    districts = [name for _, name, _ in la_districts()]
    out = np.zeros((len(districts), OLDEST_AGE + 1), dtype=np.int64)
    if people.num_rows == 0:
        return out
    dob = people.column("date_of_birth").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    death = people.column("date_of_death").fill_null(date.max).to_numpy(zero_copy_only=False)
    alive = death.astype("datetime64[D]") >= np.datetime64(on, "D")
    year = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (dob.astype("datetime64[M]") - dob.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (dob - dob.astype("datetime64[M]")).astype(np.int64) + 1
    # whole years: one less until this year's birthday (29 February counts from 1 March)
    before = (on.month < month) | ((on.month == month) & (on.day < day))
    age = np.clip(on.year - year - before, 0, OLDEST_AGE)
    la = people.column("la_district").to_numpy(zero_copy_only=False)
    row = np.full(la.shape[0], -1, dtype=np.int64)
    for i, name in enumerate(districts):
        row[la == name] = i
    if (row < 0).any():
        unknown = sorted(set(la[row < 0].tolist()))
        raise ValueError(f"districts missing from la_districts.csv: {unknown}")
    np.add.at(out, (row[alive], age[alive]), 1)
    return out
