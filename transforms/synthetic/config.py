"""Generator settings: the error-rate dataclass and the run configuration.

Every rate is a probability. Unless its docstring says otherwise a rate is *per source
record* of that source (``_dcc`` / ``_dchs``), applied to every record, and realised
rates are measured against the number of records in that source. Where an error cannot
apply to some records (a day/month swap needs a day of 12 or less, a nickname needs a
name that has one), the generator raises the chance on the records where it can apply,
so the realised rate over all records still matches the configured one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Rates:
    # --- names -------------------------------------------------------------------------
    name_typo_dcc: float = 0.03  #: keyboard typo in given or family name
    name_typo_dchs: float = 0.015
    name_ocr_dcc: float = 0.01  #: OCR-like substitution (rn->m, l->1, O->0, cl->d ...)
    name_ocr_dchs: float = 0.004
    nickname_dcc: float = 0.05  #: given name recorded as a nickname (Bill for William)
    nickname_dchs: float = 0.02
    family_name_change_dcc: float = 0.012  #: record holds a previous family name
    family_name_change_dchs: float = 0.008
    name_swap_dcc: float = 0.006  #: given and family names swapped
    name_swap_dchs: float = 0.003
    # --- date of birth -----------------------------------------------------------------
    dob_day_month_swap_dcc: float = 0.006
    dob_day_month_swap_dchs: float = 0.003
    dob_typo_dcc: float = 0.008  #: one digit of the date mistyped (still a real date)
    dob_typo_dchs: float = 0.004
    # --- NHS number --------------------------------------------------------------------
    nhs_missing_dcc: float = 0.12
    nhs_missing_dchs: float = 0.02
    nhs_mistyped_dcc: float = 0.012  #: one digit changed, so Modulus 11 fails
    nhs_mistyped_dchs: float = 0.003
    nhs_dummy_dcc: float = 0.006  #: 0000000000, 9999999999, ...
    nhs_dummy_dchs: float = 0.002
    nhs_formatted_dcc: float = 0.06  #: valid number written with spaces or dashes
    nhs_formatted_dchs: float = 0.01
    # --- address -----------------------------------------------------------------------
    house_move_dcc: float = 0.05  #: record holds the person's previous address
    house_move_dchs: float = 0.03
    postcode_partial_dcc: float = 0.02  #: only the district or sector ("DE56", "DE56 1")
    postcode_partial_dchs: float = 0.01
    postcode_missing_dcc: float = 0.03
    postcode_missing_dchs: float = 0.005
    # --- duplicates and merges ---------------------------------------------------------
    duplicate_dcc: float = 0.03  #: extra record of the same person in the same system
    duplicate_dchs: float = 0.012
    merged_dcc: float = 0.5  #: share of DCC duplicates later merged into the original
    # --- time --------------------------------------------------------------------------
    late_arrival_dcc: float = 0.03  #: per DCC event: recorded 5-60 days after its date
    late_arrival_dchs: float = 0.01  #: per DCHS care contact: recorded 3-30 days late
    corrected_dchs: float = 0.01  #: per DCHS patient: first sent with an error, fixed later
    # --- one system knows, the other does not --------------------------------------------
    death_one_system: float = 0.3  #: per death of a person in both systems
    comm_need_one_system: float = 0.6  #: per communication need of a person in both
    # --- look-alikes (different people; per person) ----------------------------------------
    twin: float = 0.01  #: share of people who are one of a twin pair
    parent_child: float = 0.006  #: share of people in a same-name parent/child pair
    common_name: float = 0.01  #: share of people given a very common full name

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def with_overrides(self, overrides: dict[str, float]) -> Rates:
        """Apply ``name=value`` overrides; a name without ``_dcc``/``_dchs`` sets both."""
        names = set(self.field_names())
        changes: dict[str, float] = {}
        for key, value in overrides.items():
            value = float(value)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {key}={value} is not a probability")
            if key in names:
                changes[key] = value
                continue
            both = [f"{key}_dcc", f"{key}_dchs"]
            found = [b for b in both if b in names]
            if not found:
                raise ValueError(f"unknown rate {key!r}; known: {sorted(names)}")
            for b in found:
                changes[b] = value
        return dataclasses.replace(self, **changes)

    def for_source(self, name: str, source: str) -> float:
        key = f"{name}_{source}"
        return getattr(self, key) if hasattr(self, key) else getattr(self, name)


def parse_rate_args(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--rates takes name=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = float(value)
    return out


#: People generated per chunk. Part of the output's identity: IDs are allocated in
#: per-chunk blocks and every chunk has its own RNG stream, so changing it changes output.
CHUNK_PEOPLE = 50_000


@dataclass(frozen=True)
class GenConfig:
    people: int
    days: int
    seed: int
    first_night: date = date(2026, 11, 1)
    history_days: int = 540
    rates: Rates = field(default_factory=Rates)
    chunk_people: int = CHUNK_PEOPLE

    def __post_init__(self) -> None:
        if self.people < 1:
            raise ValueError("--people must be at least 1")
        if self.days < 1:
            raise ValueError("--days must be at least 1")
        if self.history_days < 30:
            raise ValueError("--history-days must be at least 30")

    @property
    def nights(self) -> list[date]:
        return [self.first_night + timedelta(days=i) for i in range(self.days)]

    @property
    def n_chunks(self) -> int:
        return -(-self.people // self.chunk_people)
