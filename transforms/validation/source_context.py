"""The cross-table facts a source suite needs beyond its own rows: the people tonight's
events may refer to (tonight's and the tokens state's), DCC merges, death dates and
referral dates, and what tonight's batch must hold."""

from __future__ import annotations

from datetime import date

import pandas as pd

#: The order the source suites run in: people before the events that refer to them,
#: referrals before their contacts.
SUITE_ORDER = [
    "dcc_person",
    "dchs_patient",
    "dcc_event",
    "dchs_referral",
    "dchs_care_contact",
    "dchs_inpatient_spell",
]

#: The tokens-state person columns the suites read.
PERSON_COLUMNS = [
    "source",
    "source_record_id",
    "date_of_death",
    "record_status",
    "merged_into_record_id",
]


def suite_context(
    name: str,
    clean: dict[str, pd.DataFrame],
    prev_people: pd.DataFrame | None,
    prev_referrals: pd.DataFrame | None,
) -> dict:
    """Cross-table facts the suite ``name`` needs: known people, merges, referrals and
    their dates. ``clean``: tonight's tables already checked (earlier in SUITE_ORDER)."""
    if name == "dcc_person":  # merges may lead into earlier nights' records
        dcc = prev_people[prev_people.source == "dcc"] if prev_people is not None else None
        if dcc is None:
            return {
                "person_ids": pd.Index([], dtype="str"),
                "merged_into": pd.Series([], dtype="str"),
            }
        into = dcc["merged_into_record_id"].where(dcc["record_status"] == "Merged")
        return {
            "person_ids": pd.Index(dcc["source_record_id"].unique()),
            "merged_into": pd.Series(into.to_numpy(), index=dcc["source_record_id"].to_numpy()),
        }
    if name == "dcc_event":
        ids = known_ids(clean["dcc_person"]["la_person_id"], prev_people, "dcc")
        deaths = death_dates(
            clean["dcc_person"], "la_person_id", "date_of_death", prev_people, "dcc"
        )
        return {"person_ids": ids, "death_dates": deaths}
    if name in ("dchs_referral", "dchs_care_contact", "dchs_inpatient_spell"):
        ids = known_ids(clean["dchs_patient"]["local_patient_id"], prev_people, "dchs")
        context = {"person_ids": ids}
        if name == "dchs_care_contact":
            context["referral_dates"] = referral_dates(clean["dchs_referral"], prev_referrals)
        return context
    return {}


def referral_dates(tonight: pd.DataFrame, prev_referrals: pd.DataFrame | None) -> pd.Series:
    """Each referral's received date by service request id: tonight's, then the tokens
    state's for referrals not re-sent."""
    dates = pd.Series(
        pd.to_datetime(tonight["referral_received_date"], errors="coerce").to_numpy(),
        index=tonight["service_request_id"],
    )
    if prev_referrals is not None:
        older = pd.Series(
            pd.to_datetime(prev_referrals["start_date"]).to_numpy(),
            index=prev_referrals["source_event_id"].str.removeprefix("ref:"),
        )
        dates = pd.concat([older[~older.index.isin(dates.index)], dates])
    return dates[~dates.index.duplicated(keep="last")]


def known_ids(tonight: pd.Series, prev_people, source: str) -> pd.Index:
    """Person ids tonight's events may refer to: tonight's and the state's (an index of
    unique strings, looked up in Arrow rather than a Python set)."""
    parts = [tonight.dropna().astype("str")]
    if prev_people is not None:
        parts.append(prev_people.loc[prev_people.source == source, "source_record_id"])
    return pd.Index(pd.concat(parts, ignore_index=True).unique())


def death_dates(frame, id_col, death_col, prev_people, source) -> pd.Series:
    now = pd.Series(
        pd.to_datetime(frame[death_col], errors="coerce").to_numpy(), index=frame[id_col]
    )
    if prev_people is not None:
        prev = prev_people[prev_people.source == source]
        older = pd.Series(
            pd.to_datetime(prev["date_of_death"]).to_numpy(), index=prev["source_record_id"]
        )
        now = pd.concat([older[~older.index.isin(now.index)], now])
    return now.dropna()


def batch_expectations(name: str, *, night: date, first_or_full: bool, drops: int) -> dict:
    """What tonight's batch of ``name`` must hold, for the batch-level rules.

    The first night and a full refresh read every source row, so no table may be empty.
    A DCHS drop always carries referrals and care contacts (a community provider of
    this size has thousands a day), so an accepted drop without them is an empty drop:
    a breach. Quiet incremental nights may legitimately bring no DCC changes.
    """
    expect = first_or_full and name in ("dcc_person", "dcc_event", "dchs_patient")
    if name in ("dchs_referral", "dchs_care_contact"):
        expect = bool(drops)
    return {"as_of": night, "expect_rows": expect}
