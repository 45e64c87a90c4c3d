"""DCC ``event`` landing rows -> ``SOURCE_EVENT``."""

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


def _client_types(record_ids: pd.Series, std_person: pd.DataFrame) -> np.ndarray:
    """The CLD client type of each DCC event's person record (None when unknown)."""
    people = std_person.loc[std_person["source"] == "dcc", ["source_record_id", "client_type"]]
    people = people.drop_duplicates("source_record_id", keep="last")
    pos = pd.Index(as_objects(people["source_record_id"])).get_indexer(as_objects(record_ids))
    types = np.append(as_objects(people["client_type"]), None)
    return types[pos]  # pos -1 picks the None at the end


def _dcc_service_category(stype: str | None, component: str | None) -> str | None:
    if stype is None:
        return "other"
    return vocabulary.DCC_SERVICE_CATEGORY.get(
        (stype, component), vocabulary.DCC_SERVICE_CATEGORY.get((stype, None), "other")
    )


def _add_service(out: pd.DataFrame, df: pd.DataFrame) -> None:
    """service_category (services only) and setting, from the service type and
    component, and the team."""
    team = pd.Series(
        [v or "" for v in as_objects(clean_text(optional_column(df, "team")))], dtype=object
    )
    stype = clean_text(optional_column(df, "service_type"))
    comp = clean_text(optional_column(df, "service_component"))
    is_service = out["event_type"] == "service"
    category = pd.Series(
        [_dcc_service_category(s, c) for s, c in zip(stype, comp, strict=True)], dtype=object
    )
    category = category.mask(
        is_service & team.str.startswith("CSB-") & (category == "other"), "st_max_bed"
    )
    out["service_category"] = category.where(is_service, None)
    setting = lookup(category, vocabulary.DCC_SERVICE_SETTING, "community")
    setting = setting.mask(
        (category == "long_term_community") & comp.isin(vocabulary.HOME_COMPONENTS), "home"
    )
    non_service = np.where(team == "HOSPITAL-SW", "hospital", "community")
    out["setting"] = np.where(is_service, setting, non_service)


def standardise_dcc_events(event_df: pd.DataFrame, std_person_df: pd.DataFrame) -> pd.DataFrame:
    """DCC ``event`` landing rows -> ``SOURCE_EVENT`` (one row per input row)."""
    df = event_df.reset_index(drop=True)
    out = events_frame(len(df))
    out["source"] = "dcc"
    out["source_event_id"] = clean_text(df["event_reference"]).to_numpy()
    out["source_record_id"] = clean_text(df["la_person_id"]).to_numpy()
    out["organisation"] = "DCC"
    etype = clean_text(df["event_type"])
    out["event_type"] = map_unique(etype, lambda v: vocabulary.EVENT_TYPE.get(v, v.lower()))
    _add_service(out, df)
    out["pathway"] = None
    out["start_date"] = parse_dates(df["event_start_date"]).to_numpy()
    out["end_date"] = parse_dates(optional_column(df, "event_end_date")).to_numpy()
    out["outcome"] = lookup(
        clean_text(optional_column(df, "event_outcome")), vocabulary.DCC_OUTCOME, "other"
    )
    out["route_of_access"] = lookup(
        clean_text(optional_column(df, "request_route_of_access")),
        vocabulary.ROUTE_OF_ACCESS,
        "other",
    )
    out["discharge_destination_code"] = None
    out["age_at_event"] = ages("dcc", out["source_record_id"], out["start_date"], std_person_df)
    out["client_type"] = _client_types(out["source_record_id"], std_person_df)
    log.info("standardised %d DCC events", len(out))
    return finish_events(out)
