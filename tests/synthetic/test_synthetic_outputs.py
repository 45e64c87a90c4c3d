"""Outputs of the generator: columns, types, code lists, references, manifests, time model."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import pandas as pd
from sqlalchemy import Date, DateTime, create_engine, inspect

from tests.synthetic.synth_helpers import SMALL, latest, read_dcc, read_drops
from transforms import codes
from transforms.contracts import DCC_TABLES, DCHS_FILES, TRUTH
from transforms.extract.dchs.verify import verify_drop

POSTCODE = re.compile(r"^(DE|NG|S|SK)\d{1,2} \d[A-Z]{2}$")


def _full_postcode(value) -> bool:
    return isinstance(value, str) and bool(POSTCODE.match(value))


def test_dcc_tables_have_contract_columns_types_keys_and_indexes(small):
    engine = create_engine(f"sqlite:///{small / 'dcc.sqlite'}")
    insp = inspect(engine)
    for name, (columns, keys) in DCC_TABLES.items():
        cols = insp.get_columns(name)
        assert [c["name"] for c in cols] == columns
        types = {c["name"]: c["type"] for c in cols}
        assert isinstance(types["last_updated"], DateTime)
        for c in columns:
            if "date" in c and c != "last_updated":
                assert isinstance(types[c], Date), c
        assert insp.get_pk_constraint(name)["constrained_columns"] == keys
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes(name)}
        assert ("last_updated",) in indexed
    engine.dispose()


def test_dchs_files_have_contract_headers_and_manifests_match(small):
    folders = sorted((small / "dchs").iterdir())
    assert [f.name for f in folders] == [d.isoformat() for d in SMALL.nights]
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["drop_date"] == folder.name and manifest["system"] == "SystmOne"
        assert set(manifest["files"]) == set(DCHS_FILES)
        for name, (columns, _keys) in DCHS_FILES.items():
            raw = (folder / name).read_bytes()
            raw.decode("utf-8")
            assert raw.split(b"\n", 1)[0].decode() == ",".join(columns)
            assert manifest["files"][name]["sha256"] == hashlib.sha256(raw).hexdigest()
            assert manifest["files"][name]["rows"] == raw.count(b"\n") - 1
        verify_drop(folder)  # the pipeline's own integrity check accepts every drop


def test_dchs_keys_unique_within_a_drop(small):
    for name, (_columns, keys) in DCHS_FILES.items():
        df = read_drops(small, name)
        assert not df.duplicated([*keys, "_drop"]).any(), name


def test_truth_and_errors_files(small, truth, errors):
    assert list(truth.columns) == TRUTH
    assert list(errors.columns) == ["source", "source_record_id", "error_type"]
    persons = read_dcc(small, "person")
    patients = latest(read_drops(small, "patient.csv"), ["local_patient_id"])
    assert set(truth.loc[truth.source == "dcc", "source_record_id"]) == set(persons.la_person_id)
    assert set(truth.loc[truth.source == "dchs", "source_record_id"]) == set(
        patients.local_patient_id
    )
    assert not truth.duplicated(["source", "source_record_id"]).any()


def _in(series: pd.Series, allowed, *, nullable: bool = True) -> None:
    values = series.dropna() if nullable else series
    values = values[values != ""] if nullable else values
    bad = set(values) - set(allowed)
    assert not bad, f"{series.name}: {sorted(bad)[:5]}"


def test_dcc_coded_values_in_their_lists(small):
    p = read_dcc(small, "person")
    _in(p.gender, codes.CLD_GENDER, nullable=False)
    _in(p.ethnicity, codes.CLD_ETHNICITY, nullable=False)
    _in(p.primary_support_reason, codes.CLD_PRIMARY_SUPPORT_REASON)
    _in(p.accommodation_status, codes.CLD_ACCOMMODATION_STATUS)
    _in(p.has_unpaid_carer, codes.HAS_UNPAID_CARER, nullable=False)
    _in(p.client_type, codes.CLD_CLIENT_TYPE, nullable=False)
    _in(p.client_funding_status, codes.CLD_CLIENT_FUNDING_STATUS)
    _in(p.record_status, codes.RECORD_STATUS, nullable=False)
    assert p.la_person_id.str.fullmatch(r"MOS\d{7}").all()
    assert (p.merged_into_id.notna() == (p.record_status == "Merged")).all()
    e = read_dcc(small, "event")
    _in(e.event_type, codes.CLD_EVENT_TYPE, nullable=False)
    _in(e.event_outcome, codes.CLD_EVENT_OUTCOME)
    _in(e.request_route_of_access, codes.CLD_REQUEST_ROUTE_OF_ACCESS)
    _in(e.assessment_type, codes.CLD_ASSESSMENT_TYPE)
    _in(e.service_type, codes.CLD_SERVICE_TYPE)
    _in(e.service_component, codes.CLD_SERVICE_COMPONENT)
    _in(e.delivery_mechanism, codes.CLD_DELIVERY_MECHANISM)
    _in(e.review_reason, codes.CLD_REVIEW_REASON)
    assert e.team.str.fullmatch(r"START|HOSPITAL-SW|CSB-[A-Z-]+|ASC-[A-Z-]+").all()
    assert e.event_reference.str.fullmatch(r"EV\d{10}").all()
    # fields belong to their event type
    assert e.loc[e.event_type != "Request", "request_route_of_access"].isna().all()
    assert e.loc[e.event_type != "Service", "service_type"].isna().all()
    assert e.loc[e.event_type == "Request", "request_route_of_access"].notna().all()
    csb = e[e.team.str.startswith("CSB-")]
    assert len(csb) and (csb.service_type == codes.ST_MAX).all()
    assert (csb.service_component == codes.COMPONENT_ST_RESIDENTIAL).all()
    start = e[e.team == "START"]
    assert len(start) and (start.service_component == codes.COMPONENT_REABLEMENT).all()


def test_dchs_coded_values_in_their_lists(small):
    pt = read_drops(small, "patient.csv")
    _in(pt.nhs_number_status, codes.NHS_NUMBER_STATUS, nullable=False)
    _in(pt.person_stated_gender_code, codes.PERSON_STATED_GENDER, nullable=False)
    _in(pt.ethnic_category, codes.CSDS_ETHNIC_CATEGORY, nullable=False)
    _in(pt.interpreter_required, ["Y", "N"], nullable=False)
    assert pt.local_patient_id.str.fullmatch(r"S1\d{8}").all()
    rf = read_drops(small, "referral.csv")
    _in(rf.source_of_referral, codes.SOURCE_OF_REFERRAL, nullable=False)
    _in(rf.priority_type_code, codes.PRIORITY_TYPE, nullable=False)
    _in(rf.team_type_code, codes.TEAM_TYPE, nullable=False)
    cc = read_drops(small, "care_contact.csv")
    _in(cc.consultation_mechanism, codes.CONSULTATION_MECHANISM, nullable=False)
    _in(cc.activity_location_type_code, codes.ACTIVITY_LOCATION_TYPE, nullable=False)
    _in(cc.attended_or_did_not_attend, codes.ATTENDED_OR_DNA, nullable=False)
    seen = cc.attended_or_did_not_attend.isin(["5", "6"])
    assert (cc.loc[seen, "clinical_contact_duration_minutes"] != "").all()
    assert (cc.loc[~seen, "clinical_contact_duration_minutes"] == "").all()
    sp = read_drops(small, "inpatient_spell.csv")
    _in(sp.admission_method_code, codes.ADMISSION_METHOD, nullable=False)
    _in(sp.admission_source_code, codes.ADMISSION_SOURCE, nullable=False)
    _in(sp.discharge_method_code, codes.DISCHARGE_METHOD)
    _in(sp.discharge_destination_code, codes.DISCHARGE_DESTINATION, nullable=False)
    _in(sp.discharge_pathway, codes.DISCHARGE_PATHWAY)
    for frame, cols in ((pt, ["person_birth_date", "person_death_date"]), (cc, ["care_contact_date"]),
                        (sp, ["admission_date", "discharge_date"]), (rf, ["referral_received_date", "service_discharge_date"])):  # fmt: skip
        for col in cols:
            vals = frame[col][frame[col] != ""]
            assert vals.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), col


def test_identifiers_valid_unless_deliberately_corrupted(small, errors):
    persons = read_dcc(small, "person").rename(columns={"la_person_id": "id"})
    patients = read_drops(small, "patient.csv").rename(columns={"local_patient_id": "id"})
    for source, frame in (("dcc", persons), ("dchs", patients)):
        errs = errors[errors.source == source]
        kinds = errs.groupby("source_record_id").error_type.agg(set)
        nhs_errs = kinds.map(lambda s: {k for k in s if k.startswith("nhs_")})
        nhs = frame.set_index("id").nhs_number.replace("", None)
        for rid, value in nhs.items():
            e = nhs_errs.get(rid, set())
            if "nhs_missing" in e:
                assert pd.isna(value), rid
            elif e & {"nhs_mistyped", "nhs_dummy"}:
                assert not codes.is_valid_nhs_number(value), (rid, value)
            elif "nhs_formatted" in e:
                assert codes.is_valid_nhs_number(value) and re.search(r"[ -]", value), (rid, value)
            else:
                assert isinstance(value, str) and re.fullmatch(r"\d{10}", value), (rid, value)
                assert codes.is_valid_nhs_number(value), (rid, value)
        pc_bad = set(
            errs.loc[
                errs.error_type.isin(["postcode_partial", "postcode_missing"]), "source_record_id"
            ]
        )
        clean = frame[~frame.id.isin(pc_bad)]
        assert clean.postcode.map(_full_postcode).all(), source
        assert not frame.loc[frame.id.isin(pc_bad), "postcode"].map(_full_postcode).any()


def test_every_event_references_an_existing_record(small):
    persons = set(read_dcc(small, "person").la_person_id)
    assert set(read_dcc(small, "event").la_person_id) <= persons
    patients = set(read_drops(small, "patient.csv").local_patient_id)
    referrals = set(read_drops(small, "referral.csv").service_request_id)
    for name in ("referral.csv", "care_contact.csv", "inpatient_spell.csv"):
        assert set(read_drops(small, name).local_patient_id) <= patients, name
    contacts = read_drops(small, "care_contact.csv")
    assert set(contacts.service_request_id) <= referrals
    # a contact's patient is its referral's patient
    ref_patient = (
        read_drops(small, "referral.csv")
        .drop_duplicates("service_request_id")
        .set_index("service_request_id")
        .local_patient_id
    )
    assert (contacts.service_request_id.map(ref_patient) == contacts.local_patient_id).all()


def test_time_model_nights_and_watermarks(small):
    nights = [d for d in SMALL.nights]
    first = pd.Timestamp(nights[0])
    last = pd.Timestamp(nights[-1])
    for table in ("person", "event"):
        lu = pd.to_datetime(read_dcc(small, table).last_updated)
        assert lu.max() < last, table
        assert lu.min() >= first - pd.Timedelta(days=SMALL.history_days)
        assert (lu < first).mean() > 0.9  # the initial load holds almost everything
        for i in range(1, len(nights)):  # every later night has changes
            lo, hi = pd.Timestamp(nights[i - 1]), pd.Timestamp(nights[i])
            assert ((lu >= lo) & (lu < hi)).any(), (table, i)
    sizes = json.loads((small / "generation.json").read_text())["counts"]["dchs_per_night"]
    first_night = sizes[nights[0].isoformat()]
    for night in nights[1:]:
        later = sizes[night.isoformat()]
        assert 0 < later["care_contact.csv"] < first_night["care_contact.csv"] / 20
    cc = read_drops(small, "care_contact.csv")
    cc_date = pd.to_datetime(cc.care_contact_date)
    drop = pd.to_datetime(cc._drop)
    assert (cc_date < drop).all()  # nothing in a drop happened on or after its night
    later = cc[drop > first]
    assert (
        pd.to_datetime(later.care_contact_date)
        == pd.to_datetime(later._drop) - pd.Timedelta(days=1)
    ).mean() > 0.8


def test_late_and_corrected_records(small, errors):
    ev = read_dcc(small, "event").set_index("event_reference")
    late = errors[(errors.source == "dcc") & (errors.error_type == "late_arrival")].source_record_id
    late = late[late.isin(ev.index)]
    assert len(late) > 0
    gap = pd.to_datetime(ev.loc[late, "last_updated"]).dt.normalize() - pd.to_datetime(
        ev.loc[late, "event_end_date"].fillna(ev.loc[late, "event_start_date"])
    )
    assert (gap >= pd.Timedelta(days=5)).all()
    pt = read_drops(small, "patient.csv")
    fixed = errors[(errors.source == "dchs") & (errors.error_type == "corrected")].source_record_id
    assert len(fixed) > 0
    for rid in fixed:
        versions = pt[pt.local_patient_id == rid].sort_values("_drop")
        assert len(versions) >= 2, rid
        first, last = versions.iloc[0], versions.iloc[-1]
        assert (first.person_birth_date, first.family_name) != (
            last.person_birth_date,
            last.family_name,
        )
        assert versions._drop.iloc[-1] > SMALL.first_night.isoformat()


def test_merges_point_to_same_true_person(small, truth):
    p = read_dcc(small, "person")
    merged = p[p.record_status == "Merged"]
    assert len(merged) > 0
    who = truth[truth.source == "dcc"].set_index("source_record_id").true_person_id
    assert (merged.la_person_id.map(who) == merged.merged_into_id.map(who)).all()
    assert merged.merged_into_id.isin(p.la_person_id).all()
    assert (pd.to_datetime(merged.last_updated) >= pd.Timestamp(SMALL.first_night)).any()


def test_generation_json(small):
    meta = json.loads((small / "generation.json").read_text())
    assert meta["args"]["people"] == SMALL.people and meta["args"]["seed"] == SMALL.seed
    assert meta["nights"] == [d.isoformat() for d in SMALL.nights]
    assert meta["counts"]["dcc"]["person"] == len(read_dcc(small, "person"))
    assert meta["counts"]["dcc"]["event"] == len(read_dcc(small, "event"))
    assert meta["rates"]["nhs_missing_dcc"] == 0.12
    assert date.fromisoformat(meta["history_start"]) < SMALL.first_night
