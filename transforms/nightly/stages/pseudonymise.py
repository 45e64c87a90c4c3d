"""Pseudonymise: standardise tonight's clean rows, turn identifiers into keyed tokens
and Bloom filters, and fold them into the tokens state. Clear identifiers stop here."""

from __future__ import annotations

import logging

import pandas as pd

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext
from transforms.nightly.results import CheckedSources, NightPlan, Tokens
from transforms.nightly.timing import timed

log = logging.getLogger(__name__)

#: Rows per batch when care contacts, most of a night's rows, are read.
BATCH_ROWS = 500_000


def check_same_key(plan: NightPlan, key) -> None:
    """The key must be the one ``prepare`` checked: a key swapped mid-run would mix
    tokens of two keys in one state."""
    if (plan.key_version, plan.key_fingerprint) != (key.version, key.fingerprint):
        from transforms.keys import KeyMismatchError

        raise KeyMismatchError(
            f"the pseudonymisation key changed during the run (version "
            f"{plan.key_version} -> {key.version}, fingerprint "
            f"{plan.key_fingerprint} -> {key.fingerprint}); re-run the night"
        )


class CleanLanding:
    """Tonight's landing tables minus the quarantined rows, each read when first used."""

    def __init__(self, checked: CheckedSources):
        self.files = checked.landing
        self.quarantine = pd.read_parquet(checked.quarantine_file)

    def table(self, name: str) -> pd.DataFrame:
        from transforms.nightly.accounting import without_quarantined

        return without_quarantined(pd.read_parquet(self.files[name]), name, self.quarantine)

    def batches(self, name: str, rows: int = BATCH_ROWS):
        """``table`` a batch of rows at a time (bounded memory for big tables)."""
        import pyarrow.parquet as pq

        from transforms.nightly.accounting import without_quarantined

        for batch in pq.ParquetFile(self.files[name]).iter_batches(batch_size=rows):
            yield without_quarantined(batch.to_pandas(), name, self.quarantine)

    def columns_of(self, name: str) -> pd.DataFrame:
        """No rows, but the columns of a landing table."""
        import pyarrow.parquet as pq

        return pq.read_schema(self.files[name]).empty_table().to_pandas()


def previous_referrals(events) -> pd.DataFrame | None:
    """The DCHS referrals of the last night's events (their service and setting carry
    over to tonight's contacts), read without the other events."""
    if events is None:
        return None
    return pd.read_parquet(
        events,
        columns=["source", "source_event_id", "service_category", "setting"],
        filters=[("source", "==", "dchs"), ("event_type", "==", "referral")],
    )


def standardised_events(clean: CleanLanding, std_people: pd.DataFrame, prev_events) -> pd.DataFrame:
    """Tonight's DCC and DCHS events in the one event shape (``contracts.SOURCE_EVENT``)."""
    from transforms.contracts import SOURCE_EVENT
    from transforms.frames import compact
    from transforms.standardise.dcc_events import standardise_dcc_events
    from transforms.standardise.dchs_events import (
        dchs_referral_table,
        standardise_dchs_contacts,
        standardise_dchs_events,
    )

    parts = [compact(standardise_dcc_events(clean.table("dcc_event"), std_people))]
    referral = clean.table("dchs_referral")
    referrals = dchs_referral_table(referral, previous_referrals(prev_events))
    parts.append(
        compact(
            standardise_dchs_events(
                referral,
                clean.columns_of("dchs_care_contact"),
                clean.table("dchs_inpatient_spell"),
                std_people,
                referrals=referrals,
            )
        )
    )
    # care contacts are most of a night's rows: a batch at a time, each kept compact
    for batch in clean.batches("dchs_care_contact"):
        parts.append(compact(standardise_dchs_contacts(batch, referrals, std_people)))
    return pd.concat(parts, ignore_index=True)[SOURCE_EVENT]


@timed("pseudonymise")
def pseudonymise(ctx: RunContext, key, plan: NightPlan, checked: CheckedSources) -> Tokens:
    """Tonight's person records and events, tokenised, folded into the tokens state."""
    from transforms.contracts import EVENT_KEY, PERSON_RECORD, RECORD_KEY
    from transforms.nightly.tokens_state import fold_events, fold_records
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise.person import standardise_dcc_person, standardise_dchs_patient

    check_same_key(plan, key)
    clean = CleanLanding(checked)
    std_people = pd.concat(
        [
            standardise_dcc_person(clean.table("dcc_person")),
            standardise_dchs_patient(clean.table("dchs_patient")),
        ],
        ignore_index=True,
    )
    people = pseudonymise_persons(std_people, key)[PERSON_RECORD]
    prev_people = artifacts.previous(plan.previous_tokens, artifacts.PERSON_RECORDS)
    prev_events = artifacts.previous(plan.previous_tokens, artifacts.SOURCE_EVENTS)
    events = standardised_events(clean, std_people, prev_events)
    del std_people  # clear values stop here

    # what tonight sent: the link stage scores these records, the build rebuilds them
    artifacts.write_parquet(ctx, artifacts.CHANGED_RECORDS, people[RECORD_KEY])
    artifacts.write_parquet(ctx, artifacts.CHANGED_EVENTS, events[EVENT_KEY])
    people_out = artifacts.path_of(ctx, artifacts.PERSON_RECORDS)
    n_people = fold_records(prev_people, people, RECORD_KEY, people_out)
    # ages come from the folded records: one row per record, tonight's births included
    n_events = fold_events(
        prev_events, events, people_out, people, artifacts.path_of(ctx, artifacts.SOURCE_EVENTS)
    )
    log.info(
        "tokens state %s: %d person records, %d events (key %s)",
        ctx.tokens_dir,
        n_people,
        n_events,
        key.version,
    )
    return Tokens(folder=str(ctx.tokens_dir), person_records=n_people, events=n_events)
