"""Real GX Data Docs: every suite listed, every run's results, no clear identifiers; the
site loads only local files and explains each rule in words.

The pruning test runs last: it removes the first run's pages."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.validation import factory
from transforms.validation import (
    ALL_SUITES,
    build_data_docs,
    engine,
    validate_output_table,
    validate_source_table,
)

PERSONS = 30


def _sources() -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    person = factory.dcc_person(60)
    person.loc[1, "nhs_number"] = "9434765918"  # invalid: a finding
    person.loc[2, "postcode"] = "DE4 3"  # partial: a finding
    person.loc[3, "date_of_birth"] = "2099-04-04"  # future: quarantined
    person.loc[4, "gender"] = "Woman"  # off-list code: its value may show
    patient = factory.dchs_patient(60)
    patient.loc[1, "nhs_number"] = "1111111111"
    patient.loc[2, "person_birth_date"] = "1948-02-30"
    referral = factory.dchs_referral(40, patients=60)
    frames = {
        "dcc_person": person,
        "dcc_event": factory.dcc_event(80, persons=60),
        "dchs_patient": patient,
        "dchs_referral": referral,
        "dchs_care_contact": factory.dchs_care_contact(120, referrals=40, patients=60),
        "dchs_inpatient_spell": factory.dchs_inpatient_spell(20, patients=60),
    }
    dchs = {"person_ids": set(patient.local_patient_id)}
    contexts = {
        "dcc_person": {},
        "dcc_event": {"person_ids": set(person.la_person_id), "death_dates": factory.no_deaths()},
        "dchs_patient": {},
        "dchs_referral": dchs,
        "dchs_care_contact": {**dchs, "referral_dates": factory.referral_dates(referral)},
        "dchs_inpatient_spell": dchs,
    }
    return frames, contexts


def _outputs() -> dict[str, pd.DataFrame]:
    return {
        "person": factory.person(PERSONS),
        "care_event": factory.care_event(50, PERSONS),
        "pathway2_stay": factory.pathway2_stay(10, PERSONS),
        "metric": factory.metric(),
    }


def _run_all(docs_dir, run_id: str):
    frames, contexts = _sources()
    outcomes = [
        validate_source_table(n, frames[n], run_id=run_id, docs_dir=docs_dir, context=contexts[n])
        for n in frames
    ]
    keys = set(factory.person_keys(PERSONS))
    outcomes += [
        validate_output_table(n, f, run_id=run_id, docs_dir=docs_dir, context={"person_keys": keys})
        for n, f in _outputs().items()
    ]
    return frames, outcomes


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    docs_dir = tmp_path_factory.mktemp("docs") / "data_docs"
    frames, outcomes = _run_all(docs_dir, "scheduled__2026-11-01T02:00:00+00:00")
    index = build_data_docs(docs_dir)
    return docs_dir, index, frames, outcomes


def test_valid_outputs_pass(docs):
    outcomes = {o.suite: o for o in docs[3]}
    for name in ("person", "care_event", "pathway2_stay", "metric"):
        o = outcomes[name]
        assert o.batch_breaches == [] and o.quarantine.empty, (name, o.batch_breaches)
        assert o.summary["success"] is True and o.summary["rows_quarantined"] == 0
        assert o.clean is not None and len(o.clean) > 0
    # the source fixtures carry a few defects: quarantined or reported, no breach
    assert outcomes["dcc_person"].summary["rows_quarantined"] == 1
    assert not any(o.batch_breaches for o in outcomes.values())


def test_index_lists_every_suite_and_its_results(docs):
    docs_dir, index, _frames, outcomes = docs
    assert index == docs_dir / "index.html" and index.exists()
    html = index.read_text()
    for name in ALL_SUITES:
        assert f"expectations/{name}.html" in html, name
        assert (docs_dir / "expectations" / f"{name}.html").exists()
        pages = list((docs_dir / "validations" / name).rglob("*.html"))
        assert {p.stem for p in pages} == {"care-schema", "care-rows"}, name
        assert f"validations/{name}/" in html
    assert {o.suite for o in outcomes} == set(ALL_SUITES)
    # the run id is kept readable, and safe as a folder name
    assert "scheduled__2026-11-01T02_00_00_00_00" in html


def test_suite_pages_show_the_rule_descriptions(docs):
    docs_dir = docs[0]
    page = (docs_dir / "expectations" / "dchs_inpatient_spell.html").read_text()
    assert "died_method_destination" in page
    assert "discharge destination 79" in page


def _clear_values(frames: dict[str, pd.DataFrame]) -> set[str]:
    columns = [
        "nhs_number", "given_name", "family_name", "postcode", "address_line_1",
        "date_of_birth", "person_birth_date",
    ]  # fmt: skip
    values = set()
    for frame in frames.values():
        for c in columns:
            if c in frame.columns:
                values |= {str(v) for v in frame[c].dropna()}
    return {v for v in values if len(v) >= 5}


def test_data_docs_hold_no_clear_identifiers(docs):
    docs_dir, _index, frames, _outcomes = docs
    values = _clear_values(frames)
    assert "9434765918" in values and "2099-04-04" in values
    texts = [
        p.read_text(errors="ignore")
        for p in docs_dir.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json")
    ]
    assert len(texts) > 20
    for text in texts:
        tokens = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9 /-]*[A-Za-z0-9]", text))
        words = set(re.findall(r"[A-Za-z0-9-]+", text))
        assert not (values & (tokens | words)), values & (tokens | words)
    # an off-list code is shown (it is what engineers need to see), identifiers are not
    assert any("Woman" in t for t in texts)


_REMOTE_LOAD = re.compile(
    r"<(?:link|script|img)\b[^>]*\b(?:href|src)=[\"']((?:https?:)?//[^\"']*)", re.IGNORECASE
)
_LOCAL_LOAD = re.compile(
    r"<(?:link|script|img)\b[^>]*\b(?:href|src)=[\"'](?!https?:|//|#|data:)([^\"'?#]+)",
    re.IGNORECASE,
)


def test_pages_load_only_local_files_that_exist(docs):
    docs_dir = docs[0]
    pages = [p for p in docs_dir.rglob("*.html") if "static" not in p.relative_to(docs_dir).parts]
    assert len(pages) > 20
    for page in pages:
        html = page.read_text()
        assert not _REMOTE_LOAD.findall(html), (page, _REMOTE_LOAD.findall(html)[:3])
        assert "integrity=" not in html  # SRI over file:// fails the load
        local = _LOCAL_LOAD.findall(html)
        assert any(x.endswith("jquery.min.js") for x in local), page
        for target in local:
            assert (page.parent / target).resolve().is_file(), (page, target)
    fonts = docs_dir / "static" / "offline" / "webfonts" / "fa-solid-900.woff2"
    assert fonts.is_file()


def _section(html: str, heading: str) -> str:
    start = re.search(rf'<h5 class="m-0" >\s*{heading}\s*</h5>', html).start()
    return html[start : html.index("</table>", start)]


def test_validation_pages_explain_each_rule_in_words(docs):
    docs_dir = docs[0]
    (page,) = (docs_dir / "validations" / "dcc_person").rglob("care-rows.html")
    html = page.read_text()
    section = _section(html, "ok_postcode_format")
    assert "values must belong to this set" in section  # GX's bare check
    assert "<strong>postcode_format</strong> (warning): <code>postcode</code>, when" in section
    assert "is a full UK postcode" in section
    # every section but the overview carries its rules' descriptions
    headings = re.findall(
        r'<h5 class="m-0" >\s*([^<]+?)\s*</h5>(<ul class="care-rule-explained")?', html
    )
    assert len(headings) > 10
    assert [h for h, explained in headings if not explained] == ["Overview"]
    (schema,) = (docs_dir / "validations" / "dcc_person").rglob("care-schema.html")
    assert "schema_columns</strong> (batch)" in schema.read_text()


def test_suite_pages_show_the_notes_open(docs):
    page = (docs[0] / "expectations" / "dcc_person.html").read_text()
    assert "collapse m-2" not in page
    suite = json.loads((ROOT / "expectations" / "dcc_person.json").read_text())
    assert page.count('m-2 care-rule-notes"') == len(suite["expectations"])  # one each


def test_later_runs_add_results_and_old_runs_are_pruned(docs, monkeypatch):
    docs_dir = docs[0]
    validate_output_table(
        "metric",
        factory.metric(),
        run_id="scheduled__2026-11-02T02:00:00+00:00",
        docs_dir=docs_dir,
        context={},
    )
    build_data_docs(docs_dir)
    html = (docs_dir / "index.html").read_text()
    assert "2026-11-01T02_00" in html and "2026-11-02T02_00" in html
    monkeypatch.setattr(engine, "KEEP_RUNS", 1)
    build_data_docs(docs_dir)
    html = (docs_dir / "index.html").read_text()
    assert "2026-11-01T02_00" not in html and "2026-11-02T02_00" in html
    assert not list(docs_dir.rglob("*2026-11-01T02_00*/*.html"))
    assert list((docs_dir / "validations" / "metric").rglob("*.html"))
    # every suite is still listed, validated in the kept run or not
    assert all(f"expectations/{name}.html" in html for name in ALL_SUITES)
    assert not list((docs_dir / engine.RESULTS_DIR).rglob("*2026-11-01T02_00*/*.json"))
