"""DCHS referral, care contact and inpatient spell rows -> ``SOURCE_EVENT``."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from transforms import vocabulary
from transforms.standardise.dates import parse_dates
from transforms.standardise.events import ages, events_frame, finish_events
from transforms.standardise.series import (
    as_objects,
    clean_text,
    lookup,
    map_unique,
    optional_column,
)

log = logging.getLogger(__name__)


def standardise_dchs_events(
    referral_df: pd.DataFrame,
    contact_df: pd.DataFrame,
    spell_df: pd.DataFrame,
    std_person_df: pd.DataFrame,
    previous_events: pd.DataFrame | None = None,
    referrals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """DCHS referral, care contact and inpatient spell rows -> ``SOURCE_EVENT``.

    A contact takes its service category (and its setting, when the location code is
    missing) from its referral: tonight's, else ``previous_events`` (the tokens-zone
    ``source_event`` state), since a contact can arrive in a later drop than its referral.
    ``referrals``: that lookup, when the caller already built it (:func:`dchs_referral_table`).
    """
    if referrals is None:
        referrals = dchs_referral_table(referral_df, previous_events)
    frames = [
        _dchs_referrals(referral_df.reset_index(drop=True)),
        _dchs_contacts(contact_df.reset_index(drop=True), referrals),
        _dchs_spells(spell_df.reset_index(drop=True)),
    ]
    return _finish_dchs(frames, std_person_df)


def standardise_dchs_contacts(
    contact_df: pd.DataFrame, referrals: pd.DataFrame, std_person_df: pd.DataFrame
) -> pd.DataFrame:
    """DCHS care contacts alone -> ``SOURCE_EVENT``, with ``referrals`` from
    :func:`dchs_referral_table` (so a night's contacts can be standardised in batches)."""
    return _finish_dchs(
        [_dchs_contacts(contact_df.reset_index(drop=True), referrals)], std_person_df
    )


def _finish_dchs(frames: list[pd.DataFrame], std_person_df: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "dchs"
    out["organisation"] = "DCHS"
    out["age_at_event"] = ages("dchs", out["source_record_id"], out["start_date"], std_person_df)
    out["client_type"] = None
    log.info("standardised %d DCHS events", len(out))
    return finish_events(out)


def _dchs_referrals(df: pd.DataFrame) -> pd.DataFrame:
    out = events_frame(len(df))
    team = map_unique(clean_text(df["team_type_code"]), str.upper)
    out["source_event_id"] = ("ref:" + clean_text(df["service_request_id"]).astype(str)).to_numpy()
    out["source_record_id"] = clean_text(df["local_patient_id"]).to_numpy()
    out["event_type"] = "referral"
    out["setting"] = lookup(team, vocabulary.TEAM_SETTING, "other").fillna("other").to_numpy()
    out["pathway"] = None
    out["service_category"] = (
        lookup(team, vocabulary.TEAM_SERVICE_CATEGORY, "other").fillna("other").to_numpy()
    )
    out["start_date"] = parse_dates(df["referral_received_date"]).to_numpy()
    out["end_date"] = parse_dates(optional_column(df, "service_discharge_date")).to_numpy()
    out["outcome"] = np.where(pd.notna(out["end_date"]), "discharged", None)
    out["route_of_access"] = map_unique(
        clean_text(optional_column(df, "source_of_referral")),
        lambda v: vocabulary.SOURCE_OF_REFERRAL_ROUTE.get(v.upper(), "other"),
    ).to_numpy()
    out["discharge_destination_code"] = None
    return out


def dchs_referral_table(referral_df: pd.DataFrame, previous_events: pd.DataFrame | None):
    """service_request_id -> service_category, setting, from earlier nights and tonight
    (tonight wins)."""
    parts = []
    if previous_events is not None and len(previous_events):
        parts.append(_previous_referrals(previous_events))
    team = map_unique(clean_text(referral_df["team_type_code"]), str.upper)
    parts.append(
        pd.DataFrame(
            {
                "sid": as_objects(clean_text(referral_df["service_request_id"])),
                "service_category": lookup(team, vocabulary.TEAM_SERVICE_CATEGORY, "other")
                .fillna("other")
                .to_numpy(dtype=object),
                "setting": lookup(team, vocabulary.TEAM_SETTING, "other")
                .fillna("other")
                .to_numpy(dtype=object),
            }
        )
    )
    table = pd.concat(parts, ignore_index=True)
    return table[table["sid"].notna()].drop_duplicates("sid", keep="last")


def _previous_referrals(previous_events: pd.DataFrame) -> pd.DataFrame:
    """The referral lookup rows of earlier nights' DCHS referral events."""
    prev = previous_events[
        (previous_events["source"] == "dchs")
        & previous_events["source_event_id"].astype(str).str.startswith("ref:")
    ]
    return pd.DataFrame(
        {
            "sid": as_objects(prev["source_event_id"].astype(str).str.removeprefix("ref:")),
            "service_category": as_objects(prev["service_category"]),
            "setting": as_objects(prev["setting"]),
        }
    )


def _dchs_contacts(df: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    from transforms.frames import index_of

    out = events_frame(len(df))
    sid = clean_text(df["service_request_id"])
    cid = clean_text(df["care_contact_id"])
    out["source_event_id"] = ("con:" + sid.astype(str) + ":" + cid.astype(str)).to_numpy()
    out["source_record_id"] = clean_text(df["local_patient_id"]).to_numpy()
    out["event_type"] = "contact"
    pos = index_of(sid, table["sid"])  # -1: no referral known

    def from_referral(col: str) -> np.ndarray:
        return np.append(table[col].to_numpy(dtype=object), "other")[pos]

    location = map_unique(
        clean_text(optional_column(df, "activity_location_type_code")),
        lambda v: vocabulary.ACTIVITY_LOCATION_SETTING.get(v.upper(), "other"),
    ).to_numpy(dtype=object)
    out["setting"] = np.where(pd.notna(location), location, from_referral("setting"))
    out["pathway"] = None
    out["service_category"] = from_referral("service_category")
    date = parse_dates(df["care_contact_date"]).to_numpy()
    out["start_date"] = date
    out["end_date"] = date
    out["outcome"] = lookup(
        clean_text(optional_column(df, "attended_or_did_not_attend")),
        vocabulary.ATTENDANCE_OUTCOME,
        "other",
    ).to_numpy()
    out["route_of_access"] = None
    out["discharge_destination_code"] = None
    return out


def _dchs_spells(df: pd.DataFrame) -> pd.DataFrame:
    out = events_frame(len(df))
    out["source_event_id"] = (
        "spell:" + clean_text(df["hospital_provider_spell_number"]).astype(str)
    ).to_numpy()
    out["source_record_id"] = clean_text(df["local_patient_id"]).to_numpy()
    out["event_type"] = "inpatient_spell"
    out["setting"] = "community_hospital"
    pathway = clean_text(optional_column(df, "discharge_pathway"))
    out["pathway"] = (
        pd.to_numeric(pathway, errors="coerce").where(lambda p: p.isin([0, 1, 2, 3])).to_numpy()
    )
    out["service_category"] = "bed_intermediate_care"
    out["start_date"] = parse_dates(df["admission_date"]).to_numpy()
    out["end_date"] = parse_dates(optional_column(df, "discharge_date")).to_numpy()
    dest = clean_text(optional_column(df, "discharge_destination_code"))
    method = clean_text(optional_column(df, "discharge_method_code"))
    outcome = lookup(dest, vocabulary.DISCHARGE_DESTINATION_OUTCOME, "other")
    outcome = outcome.mask((method == "4").to_numpy(), "died")
    out["outcome"] = outcome.to_numpy()
    out["route_of_access"] = lookup(
        clean_text(optional_column(df, "admission_source_code")),
        vocabulary.ADMISSION_SOURCE_ROUTE,
        "other",
    ).to_numpy()
    out["discharge_destination_code"] = dest.to_numpy()
    return out
