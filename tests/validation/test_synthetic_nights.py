"""The source suites over real landing files: synthetic sources, extracted night by night,
validated the way the nightly step does it (validation.source_context.suite_context).

Marked ``slow`` (about 15 s): ``make test-fast`` leaves it out.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from transforms.validation import build_data_docs, raise_for_breaches, validate_source_table
from transforms.validation.source_context import SUITE_ORDER, suite_context

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    from transforms.extract.dcc import extract_dcc
    from transforms.extract.dchs.extract import extract_dchs
    from transforms.synthetic import GenConfig, generate

    root = tmp_path_factory.mktemp("synthetic")
    meta = generate(GenConfig(people=1500, days=2, seed=11), root / "sources")
    nights = [datetime.fromisoformat(n) for n in meta["nights"]]
    since, ingested, out = None, {}, []
    for i, night in enumerate(nights):
        landing = root / f"landing{i}"
        dcc = extract_dcc(
            f"sqlite:///{root / 'sources' / 'dcc.sqlite'}",
            since=since,
            until=night,
            landing_dir=landing,
        )
        since = datetime.fromisoformat(dcc["watermark"]) if dcc["watermark"] else since
        dchs = extract_dchs(
            root / "sources" / "dchs",
            until=night.date(),
            ingested=ingested,
            accepted={},
            landing_dir=landing,
        )
        for drop in dchs["drops"]:
            ingested[drop["drop_date"]] = drop["manifest_sha256"]
        out.append(landing)
    return out


def _previous(clean: dict[str, pd.DataFrame]):
    """What the tokens zone would hold after a night: people (with deaths) and referrals."""
    people = pd.concat(
        [
            pd.DataFrame({
                "source": "dcc",
                "source_record_id": clean["dcc_person"]["la_person_id"],
                "date_of_death": pd.to_datetime(clean["dcc_person"]["date_of_death"]),
                "record_status": clean["dcc_person"]["record_status"],
                "merged_into_record_id": clean["dcc_person"]["merged_into_id"],
            }),
            pd.DataFrame({
                "source": "dchs",
                "source_record_id": clean["dchs_patient"]["local_patient_id"],
                "date_of_death": pd.to_datetime(clean["dchs_patient"]["person_death_date"]),
                "record_status": "Active",
                "merged_into_record_id": None,
            }),
        ],
        ignore_index=True,
    )  # fmt: skip
    ref = clean["dchs_referral"]
    events = pd.DataFrame({
        "source_event_id": "ref:" + ref["service_request_id"],
        "start_date": pd.to_datetime(ref["referral_received_date"]),
    })  # fmt: skip
    return people, events


def test_two_synthetic_nights_validate_without_breach(landed, tmp_path):
    docs_dir = tmp_path / "data_docs"
    prev_people = prev_events = None
    for i, landing in enumerate(landed):
        clean, outcomes = {}, []
        for name in SUITE_ORDER:
            frame = pd.read_parquet(landing / f"{name}.parquet")
            outcome = validate_source_table(
                name,
                frame,
                run_id=f"night{i}",
                docs_dir=docs_dir,
                context=suite_context(name, clean, prev_people, prev_events),
            )
            clean[name] = outcome.clean
            outcomes.append(outcome)
            assert outcome.batch_breaches == [], (i, name, outcome.batch_breaches)
            s = outcome.summary
            assert s["rows_in"] == s["rows_clean"] + s["rows_quarantined"]
            # the generator's defects are person-level (findings), not broken rows
            assert s["rows_quarantined"] <= max(5, 0.02 * s["rows_in"]), (name, s)
        raise_for_breaches(outcomes, docs_dir / "index.html")
        if i == 0:
            assert sum(o.summary["rows_in"] for o in outcomes) > 10_000
            findings = pd.concat([o.findings for o in outcomes])
            assert {"nhs_number_valid", "postcode_format"} <= set(findings.rule)
        prev_people, prev_events = _previous(clean)
    assert build_data_docs(docs_dir).exists()


def test_a_night_after_an_empty_extract_is_quiet(landed, tmp_path):
    # a night with nothing new: every landing table empty, nothing breaches
    clean, docs_dir = {}, tmp_path / "data_docs"
    for name in SUITE_ORDER:
        frame = pd.read_parquet(landed[0] / f"{name}.parquet").iloc[:0]
        outcome = validate_source_table(
            name,
            frame,
            run_id="empty",
            docs_dir=docs_dir,
            context=suite_context(name, clean, None, None),
        )
        clean[name] = outcome.clean
        assert outcome.batch_breaches == [] and outcome.summary["rows_in"] == 0
