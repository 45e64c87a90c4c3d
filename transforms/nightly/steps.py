"""The night's steps. Each is one Airflow task; each returns a small JSON-able dict."""

from __future__ import annotations

import functools
import json
import logging
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.contracts import PERSON_RECORD
from transforms.contracts import RECORD_KEY as RECORD
from transforms.nightly.context import RunContext, safe_name
from transforms.nightly.state import PublishedState, read_state
from transforms.warehouse.db import describe, make_engine

log = logging.getLogger(__name__)

DCC_LANDING = {"dcc_person": "person", "dcc_event": "event"}
DCHS_LANDING = {
    "dchs_patient": "patient",
    "dchs_referral": "referral",
    "dchs_care_contact": "care_contact",
    "dchs_inpatient_spell": "inpatient_spell",
}
LANDING_TABLES = [*DCC_LANDING, *DCHS_LANDING]


def _engine(ctx: RunContext):
    return make_engine(ctx.settings.warehouse_url, lock_wait=ctx.settings.duckdb_lock_wait_seconds)


def _state(ctx: RunContext) -> dict:
    return ctx.read_json("state.json")


def timed(name: str):
    """Decorator of a step taking the run's context first: log its wall time, and keep it
    in the run folder (``timings/<name>.json``) for ``audit.pipeline_run.timings_json``."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(ctx: RunContext, *args, **kwargs):
            started = time.monotonic()
            result = fn(ctx, *args, **kwargs)
            took = round(time.monotonic() - started, 1)
            log.info("%s took %.1fs", name, took)
            ctx.write_json(f"timings/{name}.json", {"seconds": took})
            return result

        return inner

    return wrap


def read_timings(ctx: RunContext) -> dict[str, float]:
    """Each finished step's wall time in seconds, as the steps recorded it."""
    folder = ctx.run_dir / "timings"
    return {
        path.stem: float(json.loads(path.read_text())["seconds"])
        for path in sorted(folder.glob("*.json"))
    }


@timed("prepare")
def prepare(ctx: RunContext, key) -> dict:
    """Check the key, make sure the warehouse schema exists, and record where we start:
    the published run tonight builds on, which the publish checks is still the latest."""
    from transforms.extract.landing import sweep_expired_landing
    from transforms.keys import check_fingerprint
    from transforms.warehouse.lineage import AlreadyPublishedError, read_head, refuse_older_night
    from transforms.warehouse.schema_version import ensure_current_schema

    engine = _engine(ctx)
    try:
        ensure_current_schema(engine)
        with engine.connect() as conn:
            head = read_head(conn)
        if head.run_id == ctx.run_id:
            raise AlreadyPublishedError(
                f"run {ctx.run_id} already published night {ctx.night} ({head.describe()}); "
                "nothing to do. Trigger a new run of the night to rebuild it."
            )
        refuse_older_night(head, ctx.night)
        recorded, recorded_by = recorded_fingerprint(engine, key.version)
        check_fingerprint(key, recorded, recorded_by)
        full_refresh = ctx.full_refresh
        last = read_last_key_version(engine)
        rotated = last is not None and last != key.version
        if rotated:
            log.warning(
                "pseudonymisation key version changed (%s -> %s): re-tokenising every "
                "record with a full refresh; person keys are kept by the person index",
                last,
                key.version,
            )
            full_refresh = True
        state = read_state(engine, full_refresh=full_refresh)
        if not full_refresh and state_contract_changed(state.tokens_path):
            full_refresh = True
            state = read_state(engine, full_refresh=True)
    finally:
        engine.dispose()
    sweep_expired_landing(ctx.settings.runs_dir, ctx.settings.landing_retention_days)
    payload = {
        **state.as_dict(),
        "full_refresh": full_refresh,
        "key_version": key.version,
        "key_fingerprint": key.fingerprint,
        "key_rotated": rotated,
        "based_on": head.as_dict(),
        "night": ctx.night.isoformat(),
        "until": ctx.until.isoformat(sep=" "),
        "started_at": datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" "),
    }
    ctx.write_json("state.json", payload)
    log.info(
        "night %s run %s: warehouse %s, full_refresh=%s, building on %s",
        ctx.night,
        ctx.run_id,
        describe(ctx.settings.warehouse_url),
        full_refresh,
        head.describe(),
    )
    return {
        "run_dir": str(ctx.run_dir),
        "full_refresh": full_refresh,
        "previous_run": state.last_run_id,
        "key_version": key.version,
    }


def state_contract_changed(tokens_path: str | None) -> bool:
    """True when the last published tokens state lacks a column tonight's code writes
    (or has one it no longer writes): the night then rebuilds from all source data, as
    a full refresh, rather than carry the old shape forward."""
    import pyarrow.parquet as pq

    from transforms.contracts import SOURCE_EVENT

    if not tokens_path:
        return False
    for name, contract in (
        ("person_record.parquet", PERSON_RECORD),
        ("source_event.parquet", SOURCE_EVENT),
    ):
        path = Path(tokens_path) / name
        if path.exists() and set(pq.read_schema(path).names) != set(contract):
            log.warning(
                "the tokens state %s was written under another contract (%s): this night "
                "rebuilds from all source data, as a full refresh",
                path,
                name,
            )
            return True
    return False


def read_last_key_version(engine) -> str | None:
    from transforms.warehouse.publish import read_frame

    last = read_frame(
        engine,
        "select key_version from audit.pipeline_run where status = 'published' "
        "order by finished_at desc limit 1",
    )
    return None if last.empty else last.key_version.iloc[0]


def recorded_fingerprint(engine, version: str) -> tuple[str | None, str | None]:
    """The key fingerprint last recorded for ``version``, and the run that recorded it
    (none for a new version, or runs from before fingerprints were kept)."""
    from transforms.warehouse.publish import read_frame

    found = read_frame(
        engine,
        "select key_fingerprint, run_id from audit.pipeline_run "
        "where key_version = :v and key_fingerprint is not null "
        "order by finished_at desc limit 1",
        v=version,
    )
    if found.empty:
        return None, None
    return str(found.key_fingerprint.iloc[0]), str(found.run_id.iloc[0])


@timed("extract_dcc")
def extract_dcc_step(ctx: RunContext) -> dict:
    from transforms.extract.dcc import extract_dcc

    state = PublishedState(**_published_fields(_state(ctx)))
    result = extract_dcc(
        ctx.settings.dcc_url, since=state.watermark, until=ctx.until, landing_dir=ctx.landing_dir
    )
    if result["watermark"] is None:
        result["watermark"] = state.dcc_watermark
    ctx.write_json("extract_dcc.json", result)
    return result


@timed("extract_dchs")
def extract_dchs_step(ctx: RunContext) -> dict:
    from transforms.extract.dchs import extract_dchs

    state = PublishedState(**_published_fields(_state(ctx)))
    result = extract_dchs(
        ctx.settings.dchs_drop_dir,
        until=ctx.night,
        ingested=state.ingested_drops,
        accepted=state.accepted_drops,
        landing_dir=ctx.landing_dir,
        full_refresh=bool(_state(ctx)["full_refresh"]),
    )
    ctx.write_json("extract_dchs.json", result)
    return {
        "rows": result["rows"],
        "drops": len(result["drops"]),
        "rejected": len(result["rejected"]),
    }


def _published_fields(state: dict) -> dict:
    fields = PublishedState.__dataclass_fields__
    return {k: v for k, v in state.items() if k in fields}


def previous_state_file(ctx: RunContext, name: str, *, required: bool = True) -> Path | None:
    """A file of the last published night's tokens state, or None on a first night or a
    full refresh (and, unless ``required``, when that night's state has no such file)."""
    path = _state(ctx).get("tokens_path")
    if not path:
        return None
    found = Path(path) / name
    if found.exists():
        return found
    if not required:
        return None
    raise FileNotFoundError(
        f"the last published night's tokens state has no {name} at {path}; "
        "re-run with full_refresh=true to rebuild it from the sources"
    )


def previous_referrals(events: Path | None) -> pd.DataFrame | None:
    """The DCHS referrals of the last night's events (their service and setting carry
    over to tonight's contacts), read without the other ten million events."""
    if events is None:
        return None
    return pd.read_parquet(
        events,
        columns=["source", "source_event_id", "service_category", "setting"],
        filters=[("source", "==", "dchs"), ("event_type", "==", "referral")],
    )


# --------------------------------------------------------------------------- standardise
SOURCE_OF = {name: name.split("_", 1)[0] for name in LANDING_TABLES}
SUITE_ORDER = [
    "dcc_person",
    "dchs_patient",
    "dcc_event",
    "dchs_referral",
    "dchs_care_contact",
    "dchs_inpatient_spell",
]


def _landing_path(ctx: RunContext, name: str) -> Path:
    path = ctx.landing_dir / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: did the extract step run?")
    return path


def read_landing(ctx: RunContext, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    return pd.read_parquet(_landing_path(ctx, name), columns=columns)


def _validation_context(
    name: str, clean: dict[str, pd.DataFrame], prev_people, prev_referrals
) -> dict:
    """Cross-table facts a suite needs: known people, merges, referrals and their dates."""
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
    if name in ("dcc_event",):
        ids = _known_ids(clean["dcc_person"]["la_person_id"], prev_people, "dcc")
        deaths = _death_dates(
            clean["dcc_person"], "la_person_id", "date_of_death", prev_people, "dcc"
        )
        return {"person_ids": ids, "death_dates": deaths}
    if name in ("dchs_referral", "dchs_care_contact", "dchs_inpatient_spell"):
        ids = _known_ids(clean["dchs_patient"]["local_patient_id"], prev_people, "dchs")
        context = {"person_ids": ids}
        if name == "dchs_care_contact":
            ref = clean["dchs_referral"]
            dates = pd.Series(
                pd.to_datetime(ref["referral_received_date"], errors="coerce").to_numpy(),
                index=ref["service_request_id"],
            )
            if prev_referrals is not None:
                older = pd.Series(
                    pd.to_datetime(prev_referrals["start_date"]).to_numpy(),
                    index=prev_referrals["source_event_id"].str.removeprefix("ref:"),
                )
                dates = pd.concat([older[~older.index.isin(dates.index)], dates])
            context["referral_dates"] = dates[~dates.index.duplicated(keep="last")]
        return context
    return {}


def _known_ids(tonight: pd.Series, prev_people, source: str) -> pd.Index:
    """Person ids tonight's events may refer to: tonight's and the state's (an index of
    unique strings, looked up in Arrow; Python sets of 750,000 ids took seconds)."""
    parts = [tonight.dropna().astype("str")]
    if prev_people is not None:
        parts.append(prev_people.loc[prev_people.source == source, "source_record_id"])
    return pd.Index(pd.concat(parts, ignore_index=True).unique())


def _death_dates(frame, id_col, death_col, prev_people, source) -> pd.Series:
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


def batch_expectations(ctx: RunContext, name: str) -> dict:
    """What tonight's batch of ``name`` must hold, for the batch-level rules.

    The first night and a full refresh read every source row, so no table may be empty.
    A DCHS drop always carries referrals and care contacts (a community provider of
    this size has thousands a day), so an accepted drop without them is an empty drop:
    a breach. Quiet incremental nights may legitimately bring no DCC changes.
    """
    state = _state(ctx)
    full = bool(state["full_refresh"]) or state.get("last_run_id") is None
    expect = full and name in ("dcc_person", "dcc_event", "dchs_patient")
    if name in ("dchs_referral", "dchs_care_contact"):
        expect = bool(ctx.read_json("extract_dchs.json")["drops"])
    return {"as_of": ctx.night, "expect_rows": expect}


@timed("validate_sources")
def validate_sources_step(ctx: RunContext) -> dict:
    """Source suites over landing: quarantine bad rows, stop the night on a batch breach."""
    from transforms.validation import build_data_docs, raise_for_breaches, validate_source_table

    # the suites need known ids, death dates and referral dates, not the whole state:
    # of the ten million events, only the DCHS referrals are read
    people = previous_state_file(ctx, "person_record.parquet")
    events = previous_state_file(ctx, "source_event.parquet")
    prev_people = prev_referrals = None
    if people is not None:
        prev_people = pd.read_parquet(
            people,
            columns=[
                "source",
                "source_record_id",
                "date_of_death",
                "record_status",
                "merged_into_record_id",
            ],
        )
        prev_referrals = pd.read_parquet(
            events,
            columns=["source_event_id", "start_date"],
            filters=[("source", "==", "dchs"), ("event_type", "==", "referral")],
        )
    clean: dict[str, pd.DataFrame] = {}
    outcomes = []
    for name in SUITE_ORDER:
        frame = read_landing(ctx, name)
        outcome = validate_source_table(
            name,
            frame,
            run_id=ctx.run_id,
            docs_dir=ctx.data_docs_dir,
            context={
                **_validation_context(name, clean, prev_people, prev_referrals),
                **batch_expectations(ctx, name),
            },
        )
        clean[name] = outcome.clean
        outcomes.append(outcome)
    # Data Docs are rendered here only when the night stops here (the error points to
    # them); otherwise the build step renders tonight's source and output results in
    # one pass (each rendering re-renders every suite page and the index: ~2 s)
    if any(o.batch_breaches for o in outcomes):
        docs_index = build_data_docs(ctx.data_docs_dir)
    else:
        docs_index = Path(ctx.data_docs_dir).resolve() / "index.html"
    ctx.checks_dir.mkdir(parents=True, exist_ok=True)
    quarantine = pd.concat([o.quarantine for o in outcomes], ignore_index=True)
    findings = pd.concat([o.findings for o in outcomes], ignore_index=True)
    quarantine.to_parquet(ctx.checks_dir / "quarantine.parquet", index=False)
    findings.to_parquet(ctx.checks_dir / "findings.parquet", index=False)
    summaries = [o.summary for o in outcomes]
    ctx.write_json(
        "checks/source_validation.json", {"suites": summaries, "data_docs": str(docs_index)}
    )
    log.info("Data Docs: %s", docs_index)
    raise_for_breaches(outcomes, docs_index)
    return {
        "quarantined": len(quarantine),
        "warnings": len(findings),
        "data_docs": str(docs_index),
    }


# -------------------------------------------------------------------------- pseudonymise
def clean_landing(ctx: RunContext, name: str, quarantine: pd.DataFrame) -> pd.DataFrame:
    """Landing rows of ``name`` minus those quarantined (matched on file and row)."""
    return drop_quarantined(read_landing(ctx, name), name, quarantine)


#: Rows per batch when a landing table is read in batches.
BATCH_ROWS = 500_000


def landing_batches(ctx: RunContext, name: str, quarantine: pd.DataFrame, rows: int = BATCH_ROWS):
    """``clean_landing`` a batch of rows at a time (bounded memory for big tables)."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(_landing_path(ctx, name)).iter_batches(batch_size=rows):
        yield drop_quarantined(batch.to_pandas(), name, quarantine)


def empty_landing(ctx: RunContext, name: str) -> pd.DataFrame:
    """No rows, but the columns of a landing table."""
    import pyarrow.parquet as pq

    return pq.read_schema(_landing_path(ctx, name)).empty_table().to_pandas()


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Object (Python string) columns as pandas ``str`` (Arrow): a fraction of the memory."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


def drop_quarantined(frame: pd.DataFrame, name: str, quarantine: pd.DataFrame) -> pd.DataFrame:
    from transforms.nightly.accounting import quarantined_mask

    bad = quarantined_mask(frame, name, quarantine)
    return frame[~bad].reset_index(drop=True) if bad.any() else frame


def age_from_birth_parts(birth_year: pd.Series, birth_month: pd.Series, on: pd.Series) -> pd.Series:
    """Whole years at ``on`` from year and month of birth only (the day never leaves the
    edge); a birthday month counts as reached. Null when any part is unknown."""
    on = pd.to_datetime(on, errors="coerce")
    years = on.dt.year - pd.to_numeric(birth_year, errors="coerce")
    before = on.dt.month < pd.to_numeric(birth_month, errors="coerce")
    return (years - before.astype("Int64")).astype("Int64")


def ages_at_events(people: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Each event's person's age at its start (from year and month of birth)."""
    from transforms.frames import index_of, key_strings

    pos = index_of(key_strings(events, RECORD), key_strings(people, RECORD))

    def parts(col: str) -> pd.Series:
        values = pd.to_numeric(people[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values = np.append(values, np.nan)  # position -1: no such person
        return pd.Series(pd.array(values[pos], dtype="Float64"))

    return age_from_birth_parts(parts("birth_year"), parts("birth_month"), events["start_date"])


def event_ages(people: pd.DataFrame, events: pd.DataFrame, todo: np.ndarray) -> np.ndarray:
    """``age_at_event`` with the ``todo`` rows (re)computed from ``people``, the others
    kept. An event before birth or at 116+ means a wrong date somewhere: no age, rather
    than a wrong one."""
    ages = ages_at_events(people, events[todo].reset_index(drop=True))
    implausible = ages.notna() & ~ages.between(0, 115)
    if implausible.any():
        log.warning(
            "%d events get no age: their date is before birth or 116+ years after it",
            int(implausible.sum()),
        )
    out = pd.to_numeric(events["age_at_event"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan, copy=True
    )
    out[todo] = ages.mask(implausible).to_numpy(dtype=float, na_value=np.nan)
    return out


def upsert(previous: pd.DataFrame | None, tonight: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Tonight's rows replace earlier versions with the same key; the last one wins.

    The earlier rows keep their order and tonight's follow (no sort: re-sorting the
    whole state by string keys was most of an incremental night's pseudonymise step)."""
    from transforms.frames import isin, key_strings

    tonight = tonight.drop_duplicates(keys, keep="last")
    if previous is None or previous.empty:
        return tonight.reset_index(drop=True)
    stale = isin(key_strings(previous, keys), key_strings(tonight, keys))
    return pd.concat([previous[~stale], tonight], ignore_index=True)


def upsert_people_state(previous: Path, tonight: pd.DataFrame, out: Path) -> int:
    """Last night's person records with tonight's upserted, written to ``out``; returns
    the rows. File to file in DuckDB, unless the person-record contract changed since
    the file was written (a token column added or dropped): then through pandas, so the
    state takes tonight's columns and older records hold nulls in a new one."""
    import pyarrow.parquet as pq

    from transforms.nightly.event_state import refresh_records

    before = pq.read_schema(previous).names
    if before == list(tonight.columns):
        return refresh_records(previous, tonight, RECORD, out)
    log.warning(
        "the person-record contract changed since the last published night "
        "(added %s, dropped %s): the state is upserted through pandas",
        sorted(set(tonight.columns) - set(before)),
        sorted(set(before) - set(tonight.columns)),
    )
    people = upsert(pd.read_parquet(previous), tonight, RECORD)[list(tonight.columns)]
    people.to_parquet(out, index=False)
    return len(people)


@timed("pseudonymise")
def pseudonymise_step(ctx: RunContext, key) -> dict:
    """Standardise clean rows, tokenise them, and fold them into the tokens-zone state."""
    from transforms.contracts import SOURCE_EVENT
    from transforms.nightly.event_state import refresh_events
    from transforms.pseudonymise import pseudonymise_persons
    from transforms.standardise import (
        dchs_referral_table,
        standardise_dcc_events,
        standardise_dcc_person,
        standardise_dchs_contacts,
        standardise_dchs_events,
        standardise_dchs_patient,
    )

    state = _state(ctx)
    if (state["key_version"], state.get("key_fingerprint")) != (key.version, key.fingerprint):
        from transforms.keys import KeyMismatchError

        raise KeyMismatchError(
            f"the pseudonymisation key changed during the run (version "
            f"{state['key_version']} -> {key.version}, fingerprint "
            f"{state.get('key_fingerprint')} -> {key.fingerprint}); re-run the night"
        )
    quarantine = pd.read_parquet(ctx.checks_dir / "quarantine.parquet")

    def clean(name: str) -> pd.DataFrame:  # read each landing table only when it is used
        return clean_landing(ctx, name, quarantine)

    std_people = pd.concat(
        [
            standardise_dcc_person(clean("dcc_person")),
            standardise_dchs_patient(clean("dchs_patient")),
        ],
        ignore_index=True,
    )
    people = pseudonymise_persons(std_people, key)[PERSON_RECORD]
    people_file = previous_state_file(ctx, "person_record.parquet")
    prev_events = previous_state_file(ctx, "source_event.parquet")
    parts = [compact(standardise_dcc_events(clean("dcc_event"), std_people))]
    referral = clean("dchs_referral")
    referrals = dchs_referral_table(referral, previous_referrals(prev_events))
    parts.append(
        compact(
            standardise_dchs_events(
                referral,
                empty_landing(ctx, "dchs_care_contact"),
                clean("dchs_inpatient_spell"),
                std_people,
                referrals=referrals,
            )
        )
    )
    # care contacts are most of a night's rows: a batch at a time, each kept compact
    for batch in landing_batches(ctx, "dchs_care_contact", quarantine):
        parts.append(compact(standardise_dchs_contacts(batch, referrals, std_people)))
    del std_people, referral, referrals  # clear values stop here
    events = pd.concat(parts, ignore_index=True)[SOURCE_EVENT]
    del parts

    out = ctx.tokens_dir
    out.mkdir(parents=True, exist_ok=True)
    # what tonight re-sent: the link step scores these records, the build rebuilds them
    people[RECORD].to_parquet(out / "changed.parquet", index=False)
    events[["source", "source_event_id"]].to_parquet(out / "changed_events.parquet", index=False)
    people_out = out / "person_record.parquet"
    if people_file is None:  # a first night or a full refresh: tonight is everything
        people = upsert(None, people, RECORD)
        people.to_parquet(people_out, index=False)
        n_people = len(people)
        events = upsert(None, events, ["source", "source_event_id"])
        events["age_at_event"] = event_ages(people, events, np.ones(len(events), dtype=bool))
        events.to_parquet(out / "source_event.parquet", index=False)
        n_events = len(events)
    else:  # last night's state plus tonight's, file to file
        n_people = upsert_people_state(people_file, people, people_out)
        n_events = refresh_events(
            prev_events, events, people_out, people, out / "source_event.parquet"
        )
    log.info(
        "tokens state %s: %d person records, %d events (key %s)",
        out,
        n_people,
        n_events,
        key.version,
    )
    return {"tokens_dir": str(out), "person_records": n_people, "events": n_events}


# ---------------------------------------------------------------------------------- link
def read_identity(engine) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from transforms.link.person_index import HISTORY_COLUMNS, INDEX_COLUMNS
    from transforms.warehouse.publish import read_frame

    index = read_frame(engine, f"select {', '.join(INDEX_COLUMNS)} from identity.person_index")
    history = read_frame(
        engine, f"select {', '.join(HISTORY_COLUMNS)} from identity.person_key_history"
    )
    decisions = read_frame(
        engine,
        "select source_l, source_record_id_l, source_r, source_record_id_r, decision "
        "from identity.review_decision order by decided_at",
    )
    return index, history, decisions


@contextmanager
def unobserved_levels_summarised():
    """Splink warns once per comparison level that a training pass saw no pair at (its m
    keeps the prior); here those warnings become one line."""
    seen: list[str] = []

    class Gather(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            if "not observed in dataset" not in message:
                return True
            seen.append(message.split("WARNING:")[-1].strip().split(" not observed")[0])
            return False

    splink_log = logging.getLogger("splink.internals.expectation_maximisation")
    gather = Gather()
    splink_log.addFilter(gather)
    try:
        yield
    finally:
        splink_log.removeFilter(gather)
        if seen:
            log.info(
                "linkage training: %d comparison level(s) had no pairs in a training pass, "
                "so their m stays at its starting value there: %s",
                len(set(seen)),
                "; ".join(sorted(set(seen))),
            )


def _train_or_load(ctx: RunContext, active: pd.DataFrame) -> tuple[dict, bool]:
    """The linkage model: trained on a full refresh (or when none exists), else reused."""
    from transforms.link.training import load_model, save_model, train_model

    model_path = ctx.settings.data_dir / "models" / "linkage_model.json"
    reused = model_path.exists() and not _state(ctx)["full_refresh"]
    if reused:
        model = load_model(model_path)
    else:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        with unobserved_levels_summarised():
            model = train_model(active, link_settings=ctx.settings.link, model_out=model_path)
    save_model(model, ctx.build_dir / "linkage_model.json")  # per run, for audit
    return model, reused


def previous_scored_pairs(ctx: RunContext) -> pd.DataFrame | None:
    path = _state(ctx).get("tokens_path")
    if not path or not (Path(path) / "scored_pairs.parquet").exists():
        return None
    return pd.read_parquet(Path(path) / "scored_pairs.parquet")


def probabilistic_pairs(ctx: RunContext, active: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Splink scores over tokens, and how they were made.

    A full night scores every active record against every other. An incremental night
    keeps the last night's scores for records that did not change, and scores only
    tonight's new and changed records against the rest (``predict_between``) and
    against each other (``predict_within``).
    """
    from transforms.frames import isin
    from transforms.link.backend import link_backend
    from transforms.link.comparisons import REVIEW_BAND
    from transforms.link.edges import ordered, pair_uid
    from transforms.link.predict import predict_new_against_existing, predict_pairs

    ctx.build_dir.mkdir(parents=True, exist_ok=True)
    backend = link_backend(ctx.settings.link)  # CARE_LINK_BACKEND: duckdb (default) or spark
    model, reused = _train_or_load(ctx, active)
    previous = previous_scored_pairs(ctx) if reused else None
    if previous is None:
        pairs = predict_pairs(
            active,
            model=model,
            link_settings=ctx.settings.link,
            threshold=REVIEW_BAND[0],
            backend=backend,
        )
        mode = "full"
    else:
        changed = pd.read_parquet(ctx.tokens_dir / "changed.parquet")
        changed_uid = (changed["source"] + ":" + changed["source_record_id"]).unique()
        uid = active["source"] + ":" + active["source_record_id"]
        keep = previous[
            ~isin(previous["uid_l"], changed_uid)
            & ~isin(previous["uid_r"], changed_uid)
            & isin(previous["uid_l"], uid)
            & isin(previous["uid_r"], uid)
        ].drop(columns=["uid_l", "uid_r"])
        is_new = isin(uid, changed_uid)
        scored = predict_new_against_existing(
            active[is_new],
            active[~is_new],
            model=model,
            link_settings=ctx.settings.link,
            threshold=REVIEW_BAND[0],
            backend=backend,
        )
        pairs = pd.concat([keep, scored], ignore_index=True) if len(scored) else keep
        mode = "incremental"
        log.info(
            "incremental linkage: %d new or changed records scored against %d; "
            "%d earlier pairs kept, %d new pairs",
            int(is_new.sum()),
            len(active) - int(is_new.sum()),
            len(keep),
            len(scored),
        )
    pairs["uid_l"], pairs["uid_r"] = pair_uid(pairs, "l"), pair_uid(pairs, "r")
    pairs = ordered(pairs)
    # the scores are tokens-zone state: the next night starts from them
    pairs.to_parquet(ctx.tokens_dir / "scored_pairs.parquet", index=False)
    return pairs, mode


def comparison_evidence(pairs: pd.DataFrame) -> pd.Series:
    """``given_name=4,dob=3,...``: Splink's comparison levels per pair, no clear values."""
    gammas = [c for c in pairs.columns if c.startswith("gamma_")]
    evidence = pd.Series("", index=pairs.index, dtype=object)
    for i, col in enumerate(gammas):
        sep = "," if i else ""
        evidence = evidence + sep + col.removeprefix("gamma_") + "=" + pairs[col].astype(str)
    return evidence


@timed("link")
def link_step(ctx: RunContext) -> dict:
    """Deterministic, then probabilistic links; reviewed decisions win; stable keys."""
    import pyarrow.dataset as ds

    from transforms.link.deterministic import deterministic_pairs
    from transforms.link.edges import link_edges
    from transforms.link.person_index import assign_person_keys

    path = ctx.tokens_dir / "person_record.parquet"
    # every record for the index (DCC's merges included); the active ones, with their
    # tokens and Bloom filters, for the linkage, filtered as they are read (a pandas
    # mask copied every column of 750,000 records: ~2 s)
    people = pd.read_parquet(
        path, columns=["source", "source_record_id", "record_status", "merged_into_record_id"]
    )
    status = ds.field("record_status")
    active = pd.read_parquet(path, filters=(status != "Merged") | status.is_null())
    engine = _engine(ctx)
    previous, history, decisions = read_identity(engine)
    engine.dispose()

    det = deterministic_pairs(active)
    prob, mode = probabilistic_pairs(ctx, active)
    edges, review, counts = link_edges(det, prob, decisions, people)

    index, new_events = assign_person_keys(
        people, edges, previous, history, run_id=ctx.run_id, night=ctx.night
    )
    # the key history only grows: tonight publishes its own events (run-scoped), and a
    # re-run of the night keeps those its earlier attempt published
    history = pd.concat([history[history["run_id"] == ctx.run_id], new_events], ignore_index=True)

    queue = review.assign(evidence=comparison_evidence(review), run_id=ctx.run_id)[
        [
            "source_l",
            "source_record_id_l",
            "source_r",
            "source_record_id_r",
            "match_probability",
            "match_weight",
            "evidence",
            "run_id",
        ]
    ]
    out = ctx.build_dir
    out.mkdir(parents=True, exist_ok=True)
    index.to_parquet(out / "identity.person_index.parquet", index=False)
    history.to_parquet(out / "identity.person_key_history.parquet", index=False)
    queue.to_parquet(out / "identity.review_queue.parquet", index=False)
    summary = {
        "incremental_linkage": int(mode == "incremental"),
        "records": len(people),
        "active_records": len(active),
        "persons": int(index.person_key.nunique()),
        **counts,
        "review_queue": len(queue),
        "keys_created": int((new_events.event == "created").sum()),
        "keys_merged": int((new_events.event == "merged_into").sum()),
        "keys_split": int((new_events.event == "split_from").sum()),
    }
    report = linkage_report(ctx, edges, prob, index, len(queue))
    summary.update({k: v for k, v in report.items() if k != "path"})
    ctx.write_json("build/linkage_summary.json", summary)
    log.info(
        "linkage: %s; report %s",
        ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()
        ),
        report["path"],
    )
    return {**summary, "report": report["path"]}


def linkage_report(
    ctx: RunContext, edges: pd.DataFrame, scored: pd.DataFrame, index: pd.DataFrame, queued: int
) -> dict:
    """The night's HTML linkage report; accuracy against ground truth when there is one."""
    from transforms.link.report import (
        evaluate_against_truth,
        write_linkage_index,
        write_linkage_report,
    )
    from transforms.link.training import load_model

    truth_path = ctx.settings.ground_truth
    metrics = None
    if truth_path is not None:
        truth = pd.read_parquet(truth_path)
        seen = index[["source", "source_record_id"]].astype(str)
        truth = truth.astype({"source": str, "source_record_id": str}).merge(seen)
        metrics = evaluate_against_truth(index, truth)
    model_path = ctx.build_dir / "linkage_model.json"
    path = write_linkage_report(
        ctx.settings.reports_dir / "linkage" / f"{ctx.night}_{safe_name(ctx.run_id)}.html",
        route_counts=edges["route"].value_counts().to_dict(),
        pairs=scored,
        review_queue_size=queued,
        truth_metrics=metrics,
        model=load_model(model_path) if model_path.exists() else None,
        night=str(ctx.night),
        run_id=ctx.run_id,
    )
    write_linkage_index(path.parent)
    out = {"path": str(path)}
    if metrics:
        out.update({f"truth_{k}": float(v) for k, v in metrics.items() if k != "mode"})
    return out


# --------------------------------------------------------------------------------- build
SHARED_CARE = ["person", "person_conflict", "care_event", "pathway2_stay", "metric"]
OUTPUT_SUITES = ["person", "care_event", "pathway2_stay", "metric"]


def _parquet(ctx: RunContext, qualified: str) -> Path:
    return ctx.build_dir / f"{qualified}.parquet"


#: The tokens-state columns the build reads (tokens and CLKs are the linkage's).
BUILD_COLUMNS = [c for c in PERSON_RECORD if not c.startswith(("tok_", "clk_")) or c == "tok_dob"]


@timed("build")
def build_step(ctx: RunContext) -> dict:
    """Unified tables and measures; output suites and row accounting gate the publish."""
    from transforms.build import care_event_state
    from transforms.build.care_event_state import CareEventState
    from transforms.build.event_reads import record_spans
    from transforms.build.incremental import without_contacts
    from transforms.build.measures import compute_measures
    from transforms.build.pathway2 import build_pathway2_stays
    from transforms.build.person import build_person_tables
    from transforms.build.population import load_population
    from transforms.nightly.accounting import COLUMNS, account, check_balanced
    from transforms.validation import build_data_docs, raise_for_breaches, validate_output_table

    # the build needs no token but the date of birth's (for conflicts), and no CLK
    people = pd.read_parquet(ctx.tokens_dir / "person_record.parquet", columns=BUILD_COLUMNS)
    events_file = ctx.tokens_dir / "source_event.parquet"
    index = pd.read_parquet(_parquet(ctx, "identity.person_index"))
    keyed = people.merge(
        index[["source", "source_record_id", "person_key", "link_probability"]],
        on=["source", "source_record_id"],
        how="inner",
        validate="one_to_one",
    )
    linked = keyed[keyed.record_status != "Merged"].reset_index(drop=True)
    tables: dict[str, pd.DataFrame] = {}
    # each record's first and last event, reduced in DuckDB from the file; events of
    # records DCC merged into another count towards the survivor's activity
    spans = record_spans(events_file).merge(
        keyed[["source", "source_record_id", "person_key"]],
        on=["source", "source_record_id"],
        how="left",
    )
    tables["person"], tables["person_conflict"], _ = build_person_tables(
        linked, spans=spans, as_of=ctx.night
    )
    del spans
    # the last published night's care events, when tonight can build on them (a night
    # from before they were kept in the tokens state has none: then all are built)
    base = previous_state_file(ctx, "care_event.parquet", required=False)
    rebuilt, replaced = care_events_to_build(ctx, keyed, events_file, index, base)
    del keyed, people
    # the whole table is tokens-zone state (the next night starts from it: a base and
    # the changes since, care_event_state); the publish loads it all on a full night,
    # else only the rebuilt rows over the replaced ids
    if replaced is None:
        n_care_events = care_event_state.write_base(rebuilt, ctx.tokens_dir)
        activity = without_contacts(rebuilt)
    else:
        n_care_events = care_event_state.refresh(
            CareEventState(base.parent), rebuilt, replaced, ctx.tokens_dir
        )
        activity = care_event_state.read_table(CareEventState(ctx.tokens_dir), contacts=False)
    tables["pathway2_stay"] = build_pathway2_stays(activity)
    population_path = ctx.settings.population_file
    tables["metric"] = compute_measures(
        tables["person"],
        activity,
        tables["pathway2_stay"],
        as_of=ctx.night,
        population=load_population(population_path) if population_path else None,
    )
    del activity

    keys = pd.Index(tables["person"]["person_key"])  # looked up in Arrow, not a Python set
    # an incremental night checks the care events it rebuilt: the rows it kept passed
    # these rules the night they were built, and their person keys are unchanged
    checked = {**tables, "care_event": rebuilt}
    outcomes = [
        validate_output_table(
            name,
            checked[name],
            run_id=ctx.run_id,
            docs_dir=ctx.data_docs_dir,
            context={"person_keys": keys},
        )
        for name in OUTPUT_SUITES
    ]
    docs_index = build_data_docs(ctx.data_docs_dir)
    landing = {name: read_landing(ctx, name, COLUMNS[name]) for name in LANDING_TABLES}
    quarantine = pd.read_parquet(ctx.checks_dir / "quarantine.parquet")
    # every event landed tonight was rebuilt, so the rebuilt rows are enough to find them
    accounting = account(landing, quarantine, index, rebuilt["event_id"], run_id=ctx.run_id)
    accounting.to_parquet(_parquet(ctx, "audit.row_accounting"), index=False)
    source_summaries = ctx.read_json("checks/source_validation.json")["suites"]
    validation = pd.DataFrame(
        [
            {
                "run_id": ctx.run_id,
                "suite": s["suite"],
                "rows_in": s.get("rows_in"),
                "rows_quarantined": s.get("rows_quarantined"),
                "rows_warned": s.get("rows_warned"),
                "success": s.get("success"),
                "rules_evaluated": s.get("rules_evaluated"),
                "data_docs_path": str(docs_index),
            }
            for s in [*source_summaries, *[o.summary for o in outcomes]]
        ]
    )
    validation.to_parquet(_parquet(ctx, "audit.validation_result"), index=False)
    raise_for_breaches(outcomes, docs_index)
    check_balanced(accounting)

    for name, frame in tables.items():
        frame.to_parquet(_parquet(ctx, f"shared_care.{name}"), index=False)
    if replaced is not None:
        rebuilt.to_parquet(_parquet(ctx, "shared_care.care_event.rebuilt"), index=False)
        replaced.to_frame("event_id").to_parquet(
            _parquet(ctx, "shared_care.care_event.replaced"), index=False
        )
    counts = {name: len(frame) for name, frame in tables.items()}
    counts["care_event"] = n_care_events
    counts["care_event_rebuilt"] = len(rebuilt)
    counts["care_event_incremental"] = int(replaced is not None)
    counts["persons_both"] = int((tables["person"]["known_to"] == "both").sum())
    ctx.write_json("build/build_summary.json", counts)
    log.info("built %s; accounting balanced for %d tables", counts, len(accounting))
    return counts


def care_events_to_build(
    ctx: RunContext,
    keyed: pd.DataFrame,
    events_file: Path,
    index: pd.DataFrame,
    base: Path | None,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """``(rebuilt, replaced_ids)``: the care event rows built tonight from the events
    state file, and the event ids they replace in ``base``, the last published night's
    table (``None`` without one: every row is built)."""
    from transforms.build.care_event import build_care_event
    from transforms.build.event_reads import events_of
    from transforms.build.incremental import event_ids, rekeyed_records

    if base is None:
        return build_care_event(keyed, pd.read_parquet(events_file)), None
    records = pd.concat(
        [
            pd.read_parquet(ctx.tokens_dir / "changed.parquet"),
            rekeyed_records(index, ctx.run_id),
        ],
        ignore_index=True,
    )
    # only the events to rebuild leave the file: the ten million others stay in DuckDB
    todo = events_of(
        events_file, records, pd.read_parquet(ctx.tokens_dir / "changed_events.parquet")
    )
    return build_care_event(keyed, todo), event_ids(todo).reset_index(drop=True)


# ------------------------------------------------------------------------------- publish
@timed("publish")
def publish_step(ctx: RunContext) -> dict:
    """Everything tonight changes, in one transaction."""
    from transforms.build.care_event_state import CareEventState, read_table
    from transforms.extract.landing import remove_landing
    from transforms.warehouse.lineage import Head
    from transforms.warehouse.publish import (
        PublishPlan,
        Upsert,
        metric_history,
        publish,
        refresh_dashboard_copy,
        settle_after_full_publish,
    )

    state = _state(ctx)
    based_on = Head.from_dict(state["based_on"])
    dcc = ctx.read_json("extract_dcc.json")
    dchs = ctx.read_json("extract_dchs.json")
    summary = ctx.read_json("build/build_summary.json")
    link = ctx.read_json("build/linkage_summary.json")
    accounting = pd.read_parquet(_parquet(ctx, "audit.row_accounting"))
    quarantine = pd.read_parquet(ctx.checks_dir / "quarantine.parquet")

    replace = {
        f"shared_care.{n}": pd.read_parquet(_parquet(ctx, f"shared_care.{n}"))
        for n in SHARED_CARE
        if n != "care_event"
    }
    upsert = {}
    if summary.get("care_event_incremental"):
        upsert["shared_care.care_event"] = Upsert(
            rows=pd.read_parquet(_parquet(ctx, "shared_care.care_event.rebuilt")),
            column="event_id",
            replaced=pd.read_parquet(_parquet(ctx, "shared_care.care_event.replaced"))["event_id"],
            expected_rows=summary["care_event"],
        )
    else:
        replace["shared_care.care_event"] = read_table(CareEventState(ctx.tokens_dir))
    for name in ("identity.person_index", "identity.review_queue"):
        replace[name] = pd.read_parquet(_parquet(ctx, name))

    by_source = accounting.groupby("source")[
        ["extracted", "published", "quarantined", "merged"]
    ].sum()

    def count(source: str, what: str) -> int:
        return int(by_source.loc[source, what]) if source in by_source.index else 0

    run_row = {
        "run_id": ctx.run_id,
        "night": ctx.night,
        "status": "published",
        "full_refresh": bool(state["full_refresh"]),
        "key_version": state["key_version"],
        "tokens_path": str(ctx.tokens_dir),
        **{
            f"{src}_{what}": count(src, what)
            for src in ("dcc", "dchs")
            for what in ("extracted", "published", "quarantined", "merged")
        },
        "persons": summary["person"],
        "persons_both": summary["persons_both"],
        "started_at": pd.Timestamp(state["started_at"]),
        "finished_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "timings_json": json.dumps(read_timings(ctx), sort_keys=True),
        "error": None,
        "generation": based_on.generation + 1,
        "based_on_run_id": based_on.run_id,
        "key_fingerprint": state["key_fingerprint"],
    }
    linkage = pd.DataFrame(
        [{"run_id": ctx.run_id, "measure": k, "value": float(v)} for k, v in link.items()]
    )
    quarantine_cols = [
        "run_id", "source", "table_name", "source_record_id", "source_file",
        "source_row", "rule", "severity", "description",
    ]  # fmt: skip
    plan = PublishPlan(
        run_id=ctx.run_id,
        replace=replace,
        upsert=upsert,
        run_scoped={
            "audit.pipeline_run": pd.DataFrame([run_row]),
            "audit.row_accounting": accounting,
            "audit.quarantine": quarantine[quarantine_cols],
            "audit.validation_result": pd.read_parquet(_parquet(ctx, "audit.validation_result")),
            "audit.linkage_summary": linkage,
            "identity.person_key_history": pd.read_parquet(
                _parquet(ctx, "identity.person_key_history")
            ),
            "audit.source_finding": source_findings(ctx.run_id, dcc.get("findings", [])),
            "audit.drop_rejection": pd.DataFrame(
                [{"run_id": ctx.run_id, **r} for r in dchs["rejected"]],
                columns=["run_id", "drop_date", "kind", "reason"],
            ),
        },
        # every night's figures are kept: a night published again replaces its own
        sliced={
            "shared_care.metric_history": metric_history(
                replace["shared_care.metric"], run_id=ctx.run_id, as_of=ctx.night
            )
        },
        watermarks={"dcc": dcc["watermark"]} if dcc["watermark"] else {},
        ingested_drops=pd.DataFrame(
            dchs["drops"], columns=["drop_date", "manifest_sha256", "rows_total"]
        ),
        based_on=based_on,
    )
    engine = _engine(ctx)
    try:
        written = publish(engine, plan)
        if written and not upsert:  # a full night: the large tables were replaced
            settle_after_full_publish(engine)
        if ctx.settings.dashboard_copy is not None:
            refresh_dashboard_copy(engine, ctx.settings.dashboard_copy)
    finally:
        engine.dispose()
    # published: the clear identifiers of tonight's landing are no longer needed
    remove_landing(ctx.landing_dir)
    if dchs["rejected"]:
        from transforms.notify import notify_held_drops

        for r in dchs["rejected"]:
            log.warning("DCHS drop %s held (%s): %s", r["drop_date"], r.get("kind"), r["reason"])
        notify_held_drops(ctx.run_id, dchs["rejected"])
    return {
        "held_drops": [r["drop_date"] for r in dchs["rejected"]],
        "published": written,
        "persons": summary["person"],
        "persons_both": summary["persons_both"],
        "dashboard": write_dashboard_page(ctx),
    }


def write_dashboard_page(ctx: RunContext) -> str | None:
    """The partnership dashboard from the published warehouse; its path, or None when it
    could not be rendered (logged: the night is published all the same)."""
    from transforms.reports.dashboard import write_dashboard

    engine = _engine(ctx)
    try:
        return str(write_dashboard(engine, ctx.settings.reports_dir / "dashboard"))
    except Exception:  # noqa: BLE001 - a page for people must not fail a published night
        log.exception("dashboard not rendered; the night is published")
        return None
    finally:
        engine.dispose()


def source_findings(run_id: str, findings: list[dict]) -> pd.DataFrame:
    """``audit.source_finding`` rows from the DCC extract's findings."""
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "source": "dcc",
                "table_name": f["table"],
                "finding": f["finding"],
                "row_count": int(f["rows"]),
                "detail": f.get("detail"),
            }
            for f in findings
        ],
        columns=["run_id", "source", "table_name", "finding", "row_count", "detail"],
    )
