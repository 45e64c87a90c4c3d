"""Realised error rates, coverage and volumes at 20,000 people match the configuration."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.synthetic.synth_helpers import MEDIUM, MEDIUM_OVERRIDES, read_dcc, read_drops

RECORD_LEVEL = [k for k in MEDIUM_OVERRIDES if k != "late_arrival"]


@pytest.fixture(scope="module")
def medium_data(medium):
    return {
        "errors": pd.read_parquet(medium / "errors.parquet"),
        "truth": pd.read_parquet(medium / "truth.parquet"),
        "meta": json.loads((medium / "generation.json").read_text()),
    }


@pytest.mark.parametrize("source", ["dcc", "dchs"])
@pytest.mark.parametrize("kind", RECORD_LEVEL)
def test_record_error_rates_within_20_percent(medium_data, source, kind):
    truth, errors = medium_data["truth"], medium_data["errors"]
    records = (truth.source == source).sum()
    injected = ((errors.source == source) & (errors.error_type == kind)).sum()
    configured = MEDIUM.rates.for_source(kind, source)
    realised = injected / records
    assert abs(realised / configured - 1) <= 0.2, (kind, source, realised, configured, injected)


def test_late_arrival_rates_within_20_percent(medium, medium_data):
    errors = medium_data["errors"]
    events = medium_data["meta"]["counts"]["dcc"]["event"]
    contacts = medium_data["meta"]["counts"]["dchs"]["care_contact.csv"]
    for source, base in (("dcc", events), ("dchs", contacts)):
        realised = ((errors.source == source) & (errors.error_type == "late_arrival")).sum() / base
        configured = MEDIUM.rates.for_source("late_arrival", source)
        assert abs(realised / configured - 1) <= 0.2, (source, realised, configured)


def test_realised_rates_reported_in_generation_json(medium_data):
    realised = medium_data["meta"]["realised_record_rates"]
    truth, errors = medium_data["truth"], medium_data["errors"]
    n = (truth.source == "dcc").sum()
    assert realised["nhs_missing_dcc"] == round(
        ((errors.source == "dcc") & (errors.error_type == "nhs_missing")).sum() / n, 5
    )


def test_coverage_like_derbyshire(medium_data):
    truth = medium_data["truth"]
    dcc = set(truth.loc[truth.source == "dcc", "true_person_id"])
    dchs = set(truth.loc[truth.source == "dchs", "true_person_id"])
    assert 0.70 <= len(dchs) / MEDIUM.people <= 0.80
    assert 0.16 <= len(dcc) / MEDIUM.people <= 0.22
    assert 0.80 <= len(dcc & dchs) / len(dcc) <= 0.90


def test_dchs_contact_volume_about_ten_per_patient_year(medium, medium_data):
    meta = medium_data["meta"]
    patients = (medium_data["truth"].source == "dchs").sum()
    years = (MEDIUM.history_days + MEDIUM.days) / 365.25
    per_year = meta["counts"]["dchs"]["care_contact.csv"] / patients / years
    assert 7 <= per_year <= 13, per_year


def test_pathway_two_and_reablement_present_and_coherent(medium, medium_data):
    truth = medium_data["truth"]
    who = truth.set_index("source_record_id").true_person_id
    ev = read_dcc(medium, "event")
    ev["person"] = ev.la_person_id.map(who)
    csb = ev[ev.team.str.startswith("CSB-")]
    start = ev[ev.team == "START"]
    assert len(csb) > 20 and len(start) > 50
    # a request routed "Discharge from Hospital" on the day each discharge-led stay starts
    req = ev[
        (ev.event_type == "Request") & (ev.request_route_of_access == "Discharge from Hospital")
    ]
    key = set(zip(req.la_person_id, req.event_start_date, strict=True))
    assert all((r.la_person_id, r.event_start_date) in key for r in csb.itertuples())
    sp = (
        read_drops(medium, "inpatient_spell.csv")
        .sort_values("_drop")
        .drop_duplicates("hospital_provider_spell_number", keep="last")
    )
    sp["person"] = sp.local_patient_id.map(who)
    step_down = sp[(sp.admission_source_code == "51") & (sp.admission_method_code == "81")]
    assert len(step_down) > 50
    # some CSB stays transfer to a community hospital within a day
    transfer = csb[csb.event_outcome == "Admitted to hospital"].merge(sp, on="person")
    gap = (
        pd.to_datetime(transfer.admission_date) - pd.to_datetime(transfer.event_end_date)
    ).dt.days
    assert gap.between(0, 1).sum() >= 1
    rf = read_drops(medium, "referral.csv")
    assert rf.team_type_code.isin(["51", "52", "53"]).sum() > 50
    lt = ev[
        ev.service_type.isin(
            ["Long Term Support: Residential Care", "Long Term Support: Nursing Care"]
        )
    ]
    assert len(lt) > 20
