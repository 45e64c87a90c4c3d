"""Journeys are ordered in time: nothing before birth, nothing after death, ends after starts."""

from __future__ import annotations

import pandas as pd

from tests.synthetic.synth_helpers import latest, read_dcc, read_drops

DOB_ERRORS = {"dob_typo", "dob_day_month_swap", "corrected"}


def _dob_clean(errors: pd.DataFrame, source: str) -> set[str]:
    e = errors[errors.source == source]
    return set(e.loc[e.error_type.isin(DOB_ERRORS), "source_record_id"])


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None))


def test_dcc_events_after_birth_before_death_and_ordered(small, errors):
    p = read_dcc(small, "person").set_index("la_person_id")
    e = read_dcc(small, "event")
    start, end = _dates(e.event_start_date), _dates(e.event_end_date)
    assert (end.isna() | (end >= start)).all()
    ok = ~e.la_person_id.isin(_dob_clean(errors, "dcc"))
    dob = _dates(e.la_person_id.map(p.date_of_birth))
    assert (start[ok] > dob[ok]).all()
    dod = _dates(e.la_person_id.map(p.date_of_death))
    dead = dod.notna()
    assert dead.sum() > 0
    assert (start[dead] <= dod[dead]).all()
    assert (end[dead].isna() | (end[dead] <= dod[dead])).all()
    # an event whose end is the death is closed as deceased
    closed_by_death = dead & (end == dod) & (e.event_type == "Service")
    assert (e.loc[closed_by_death, "event_outcome"] == "NFA - Deceased").mean() > 0.5


def test_dchs_activity_after_birth_before_death(small, errors):
    pt = latest(read_drops(small, "patient.csv"), ["local_patient_id"]).set_index(
        "local_patient_id"
    )
    bad = _dob_clean(errors, "dchs")
    for name, date_cols in (("care_contact.csv", ["care_contact_date"]),
                            ("referral.csv", ["referral_received_date", "service_discharge_date"]),
                            ("inpatient_spell.csv", ["admission_date", "discharge_date"])):  # fmt: skip
        df = read_drops(small, name)
        dob = _dates(df.local_patient_id.map(pt.person_birth_date))
        dod = _dates(df.local_patient_id.map(pt.person_death_date))
        ok = ~df.local_patient_id.isin(bad)
        for col in date_cols:
            d = _dates(df[col])
            assert (d[ok].isna() | (d[ok] >= dob[ok])).all(), (name, col)
            dead = dod.notna() & d.notna()
            assert (d[dead] <= dod[dead]).all(), (name, col)
    rf = read_drops(small, "referral.csv")
    assert (
        _dates(rf.service_discharge_date).isna()
        | (_dates(rf.service_discharge_date) >= _dates(rf.referral_received_date))
    ).all()


def test_spell_death_codes_agree(small):
    sp = latest(read_drops(small, "inpatient_spell.csv"), ["hospital_provider_spell_number"])
    closed = sp[sp.discharge_date != ""]
    died_method = closed.discharge_method_code == "4"
    died_dest = closed.discharge_destination_code == "79"
    assert (died_method == died_dest).all()
    assert died_method.sum() > 0
    open_ = sp[sp.discharge_date == ""]
    assert (open_.discharge_destination_code == "98").all()
    assert (open_.discharge_method_code == "").all()
    pt = latest(read_drops(small, "patient.csv"), ["local_patient_id"]).set_index(
        "local_patient_id"
    )
    dead = closed[died_method]
    recorded = dead.local_patient_id.map(pt.person_death_date)
    assert (recorded == dead.discharge_date).all()  # a death in a spell is always on the record


def test_deaths_cross_system_coherent(small, truth, errors):
    who = truth.set_index("source_record_id").true_person_id
    dcc = read_dcc(small, "person")
    pt = latest(read_drops(small, "patient.csv"), ["local_patient_id"])
    dcc_death = dcc[dcc.date_of_death.notna()].assign(p=lambda d: d.la_person_id.map(who))
    dchs_death = pt[pt.person_death_date != ""].assign(p=lambda d: d.local_patient_id.map(who))
    both = dcc_death.merge(dchs_death, on="p")
    assert len(both) > 0
    assert (both.date_of_death == both.person_death_date).all()  # one true date of death
    # "death recorded in one system only": the flagged record has no death date
    missing = errors[(errors.error_type == "death_not_recorded")]
    assert len(missing) > 0
    assert (
        dcc.set_index("la_person_id")
        .date_of_death.reindex(missing[missing.source == "dcc"].source_record_id)
        .isna()
        .all()
    )
    assert (
        pt.set_index("local_patient_id").person_death_date.reindex(
            missing[missing.source == "dchs"].source_record_id
        )
        == ""
    ).all()
    # DCC activity never continues after a death DCHS recorded
    ev = read_dcc(small, "event").assign(p=lambda d: d.la_person_id.map(who))
    ev = ev.merge(dchs_death[["p", "person_death_date"]], on="p")
    assert (_dates(ev.event_start_date) <= _dates(ev.person_death_date)).all()


def test_lookalikes_are_different_people(small, truth, errors):
    who = truth.set_index("source_record_id").true_person_id
    pt = latest(read_drops(small, "patient.csv"), ["local_patient_id"])
    twins = errors[
        (errors.source == "dchs") & (errors.error_type == "lookalike_twin")
    ].source_record_id
    t = pt[pt.local_patient_id.isin(twins)].assign(p=lambda d: d.local_patient_id.map(who))
    groups = t.groupby(["family_name", "person_birth_date", "address_line_1"]).p.nunique()
    assert (groups >= 2).sum() > 0  # same surname, DOB and address, different people
