"""The night's results and files are described once, and the description holds."""

from __future__ import annotations

import json
from pathlib import Path

from transforms.nightly import artifacts, results

STAGES = {
    artifacts.PREPARE,
    artifacts.EXTRACT,
    artifacts.VALIDATE,
    artifacts.PSEUDONYMISE,
    artifacts.LINK,
    artifacts.BUILD,
    artifacts.PUBLISH,
}


def test_every_artifact_names_real_stages_and_a_known_zone():
    files = [a.file for a in artifacts.ARTIFACTS]
    assert len(files) == len(set(files)), "two artifacts share a file"
    for artifact in artifacts.ARTIFACTS:
        assert artifact.zone in {"run", "landing", "tokens"}
        assert artifact.written_by in STAGES, artifact
        assert set(artifact.read_by) <= STAGES | {artifacts.NEXT_NIGHT}, artifact
        assert artifact.written_by not in set(artifact.read_by) - {artifacts.LINK}, artifact


def test_the_architecture_page_lists_every_artifact():
    page = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    missing = [a.file for a in artifacts.ARTIFACTS if f"`{a.file}`" not in page]
    assert not missing, f"docs/architecture.md does not list {missing}"


def test_results_travel_as_small_json_and_come_back_equal():
    plan = results.NightPlan(
        full_refresh=False,
        key_version="v1",
        key_fingerprint="ab12",
        key_rotated=False,
        based_on={"run_id": "r1", "night": "2026-11-01", "generation": 1},
        started_at="2026-11-02 02:00:00",
        last_run_id="r1",
        previous_tokens="/data/tokens/2026-11-01/r1",
        ingested_drops={"2026-11-01": "f" * 64},
    )
    tables = results.Tables(
        files={"person": "/x/person.parquet"},
        tokens_folder="/data/tokens/2026-11-02/r2",
        accounting_file="/x/a.parquet",
        validation_file="/x/v.parquet",
        summary_file="/x/s.json",
        care_event_rows=10,
        persons=3,
        persons_both=1,
        care_event_rebuilt_file="/x/r.parquet",
        care_event_replaced_file="/x/p.parquet",
    )
    for result in (plan, tables):
        payload = json.loads(json.dumps(result.to_xcom()))  # what XCom stores
        assert results.from_xcom(payload) == result
    assert tables.care_event_incremental and not plan.first_or_full


def test_an_unknown_payload_is_refused():
    import pytest

    with pytest.raises(ValueError, match="not a stage result"):
        results.from_xcom({"kind": "Something", "x": 1})
