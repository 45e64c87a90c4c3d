"""One chunk of people, end to end: population, records with errors, journeys, versions.

``generate_chunk(cfg, c)`` is a pure function of the configuration and the chunk number:
its RNG comes from ``SeedSequence(seed, spawn_key=(c,))`` and its IDs from blocks owned
by the chunk, so chunks can be generated in any order or in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms import codes
from transforms.contracts import (
    DCC_EVENT,
    DCC_PERSON,
    DCHS_CARE_CONTACT,
    DCHS_INPATIENT_SPELL,
    DCHS_PATIENT,
    DCHS_REFERRAL,
    TRUTH,
)
from transforms.synthetic import errors
from transforms.synthetic.config import GenConfig
from transforms.synthetic.journeys import Journeys, contacts
from transforms.synthetic.population import (
    COMM_BSL,
    COMM_DCC_TEXT,
    COMM_INTERPRETER,
    COMM_NONE,
    ETHNICITY_LABELS,
    LOOKALIKE_COMMON,
    LOOKALIKE_PARENT_CHILD,
    LOOKALIKE_TWIN,
    People,
    make_people,
)
from transforms.synthetic.tables import pick, take, uniform_days
from transforms.synthetic.timeline import NEVER, Timeline

ERRORS = ["source", "source_record_id", "error_type"]
DAY_SECONDS = 86_400

#: ID blocks per chunk (so IDs never depend on other chunks).
BLOCK_DCC_PERSON = 100_000
BLOCK_DCHS_PATIENT = 1_000_000
BLOCK_EVENT = 10**8
BLOCK_CONTACT = 10**9
BLOCK_SPELL = 10**6


@dataclass
class Records:
    """The person records one source holds (primary records first, then duplicates)."""

    source: str
    person: np.ndarray  # index into the chunk's people
    is_dup: np.ndarray
    f: dict[str, np.ndarray]  # field values after errors
    errors: list[tuple[np.ndarray, str]]
    ids: np.ndarray

    def __len__(self) -> int:
        return self.person.shape[0]


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    s = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), s, "")


def _id_strings(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.asarray(_ids(prefix, numbers, width).to_numpy(zero_copy_only=False), dtype=object)


def build_records(
    rng: np.random.Generator, p: People, source: str, cfg: GenConfig, c: int
) -> Records:
    rates = cfg.rates
    in_src = p.in_dcc if source == "dcc" else p.in_dchs
    base = np.flatnonzero(in_src)
    r_dup = rates.for_source("duplicate", source)
    dup_of = base[rng.random(base.size) < r_dup / max(1e-9, 1 - r_dup)]
    person = np.concatenate([base, dup_of])
    is_dup = np.concatenate([np.zeros(base.size, bool), np.ones(dup_of.size, bool)])
    f = {
        "given": p.given[person].copy(), "family": p.family[person].copy(),
        "prev_family": p.prev_family[person], "dob": p.dob[person].astype(np.int64),
        "nhs": p.nhs[person].copy(), "gp": p.gp[person].copy(),
    }  # fmt: skip
    for k in ("postcode", "line1", "town"):
        f[k] = p.addr[k][person].copy()
        f["prev_" + k] = p.prev_addr[k][person]

    def rate_of(name: str) -> float:
        return rates.for_source(name, source)

    errs: list[tuple[np.ndarray, str]] = [(np.arange(base.size, person.size), "duplicate")]
    errs += errors.names(rng, f, rate_of)
    errs += errors.dates_of_birth(rng, f, rate_of)
    errs += errors.nhs_numbers(rng, f, rate_of)
    errs += errors.addresses(rng, f, rate_of)
    la = p.lookalike[person]
    for code, name in (
        (LOOKALIKE_TWIN, "lookalike_twin"),
        (LOOKALIKE_PARENT_CHILD, "lookalike_parent_child"),
        (LOOKALIKE_COMMON, "lookalike_common_name"),
    ):
        errs.append((np.flatnonzero(la == code), name))
    if source == "dcc":
        nums = c * BLOCK_DCC_PERSON + rng.choice(BLOCK_DCC_PERSON, size=person.size, replace=False)
        ids = _id_strings("MOS", nums, 7)
    else:
        nums = c * BLOCK_DCHS_PATIENT + rng.choice(
            BLOCK_DCHS_PATIENT, size=person.size, replace=False
        )
        ids = _id_strings("S1", nums, 8)
    return Records(source, person, is_dup, f, errs, ids)


def _ts(day: np.ndarray, rng: np.random.Generator, lo_h: float = 9, hi_h: float = 18) -> np.ndarray:
    secs = (lo_h * 3600 + rng.random(day.shape[0]) * (hi_h - lo_h) * 3600).astype(np.int64)
    return (day.astype(np.int64) * DAY_SECONDS + secs) * 1_000_000  # microseconds


def _date_array(days: np.ndarray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    mask = days == NEVER
    return pa.array(np.where(mask, 0, days).astype(np.int32), pa.date32(), mask=mask)


def _str(values) -> pa.Array:
    return pa.array(values, pa.string())


def _nullable_int(values: np.ndarray, null: int = -1) -> pa.Array:
    mask = values == null
    return pa.array(np.where(mask, 0, values), pa.int64(), mask=mask)


def _versions(
    key: np.ndarray, nights: list[np.ndarray], n_nights: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (key, night) pairs among candidate version nights (-1 = no version)."""
    k = np.concatenate([key] * len(nights))
    nt = np.concatenate(nights)
    ok = nt >= 0
    combo = np.unique(k[ok].astype(np.int64) * (n_nights + 1) + nt[ok])
    return combo // (n_nights + 1), (combo % (n_nights + 1)).astype(np.int32)


def generate_chunk(cfg: GenConfig, c: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(c,)))
    tl = Timeline.of(cfg.first_night, cfg.days, cfg.history_days)
    rates = cfg.rates
    first_pid = c * cfg.chunk_people
    n = min(cfg.chunk_people, cfg.people - first_pid)
    p = make_people(rng, first_pid, n, tl, cfg.seed, rates)

    dcc = build_records(rng, p, "dcc", cfg, c)
    dchs = build_records(rng, p, "dchs", cfg, c)
    dcc_rec_of = np.full(n, -1, dtype=np.int64)
    dcc_rec_of[dcc.person[~dcc.is_dup]] = np.flatnonzero(~dcc.is_dup)
    dchs_rec_of = np.full(n, -1, dtype=np.int64)
    dchs_rec_of[dchs.person[~dchs.is_dup]] = np.flatnonzero(~dchs.is_dup)

    jr = Journeys(rng, p, tl, dcc_rec_of, dchs_rec_of)
    jr.discharges()
    jr.dcc_background(dcc.person, dcc.is_dup)
    jr.dchs_background(dchs.person, dchs.is_dup)
    jr.reviews(jr.dcc.build())
    ev = jr.dcc.build()
    ref = jr.ref.build()
    sp = jr.spell.build()
    err_rows: list[tuple[str, np.ndarray, str]] = []

    # ------------------------------------------------------------- deaths: who records them
    death = p.death
    died = death < tl.end
    ev_person = dcc.person[ev["rec"]]
    sp_person = dchs.person[sp["rec"]]
    forced_dchs = np.zeros(n, bool)
    covers = (sp["adm"] <= death[sp_person]) & (death[sp_person] <= sp["dis"])
    forced_dchs[sp_person[covers | (sp["dest"] == codes.DISCHARGE_DESTINATION_DIED)]] = True
    forced_dcc = np.zeros(n, bool)
    bed = (
        (ev["comp"] == codes.COMPONENT_ST_RESIDENTIAL)
        & (ev["start"] <= death[ev_person])
        & (death[ev_person] <= ev["end"])
    )
    forced_dcc[ev_person[bed | (ev["outcome"] == codes.OUTCOME_DECEASED)]] = True
    both = p.in_dcc & p.in_dchs & died
    one = both & (rng.random(n) < rates.death_one_system)
    missing_dcc = one & (rng.random(n) < 0.5)
    missing_dchs = one & ~missing_dcc
    missing_dcc &= ~forced_dcc
    missing_dchs &= ~forced_dchs
    dcc_knows = died & p.in_dcc & ~missing_dcc
    dchs_knows = died & p.in_dchs & ~missing_dchs
    dcc_death_rec = np.where(dcc_knows, death + rng.integers(0, 22, n), NEVER)
    dchs_death_rec = np.where(dchs_knows, death + rng.integers(0, 8, n), NEVER)

    # ------------------------------------------------------------- DCC events
    d_p = death[ev_person]
    keep = ev["start"] <= d_p
    ev = take(ev, keep)
    ev_person, d_p = ev_person[keep], d_p[keep]
    cut = ev["end"] > d_p
    ev["end"] = np.where(cut, d_p, ev["end"])
    ev["outcome"] = np.where(
        cut,
        np.where(dcc_knows[ev_person], codes.OUTCOME_DECEASED, codes.OUTCOME_ENDED_OTHER),
        ev["outcome"],
    ).astype(object)
    ne = ev["start"].shape[0]
    late = rng.random(ne) < rates.late_arrival_dcc
    lag = np.where(
        late, rng.integers(5, 61, ne), np.where(rng.random(ne) < 0.7, 0, rng.integers(1, 4, ne))
    )
    closed = ev["end"] != NEVER
    rec_close = np.where(closed, ev["end"] + lag, NEVER)
    reopen = closed & (rec_close >= tl.end)
    ev["end"] = np.where(reopen, NEVER, ev["end"])
    ev["outcome"] = np.where(reopen, None, ev["outcome"]).astype(object)
    rec_day = np.where(ev["end"] != NEVER, ev["end"] + lag, ev["start"] + lag)
    keep = rec_day < tl.end
    ev = take(ev, keep)
    rec_day, late, ev_person = rec_day[keep], late[keep], ev_person[keep]
    order = np.lexsort((ev["rec"], ev["start"]))
    ev = take(ev, order)
    rec_day, late = rec_day[order], late[order]
    ne = rec_day.shape[0]
    ev_ids = _id_strings("EV", c * BLOCK_EVENT + np.arange(ne), 10)
    err_rows.append(("dcc", ev_ids[late], "late_arrival"))
    ev_lu = _ts(rec_day, rng)

    # ------------------------------------------------------------- DCC persons
    nd = len(dcc)
    created = np.full(nd, NEVER, dtype=np.int64)
    np.minimum.at(created, ev["rec"], ev["start"])
    no_ev = created == NEVER
    created[no_ev] = uniform_days(rng, tl.start, tl.end, int(no_ev.sum()))
    dcc_dod = np.where(~dcc.is_dup & (dcc_death_rec[dcc.person] < tl.end), death[dcc.person], NEVER)
    dod_rec = np.where(dcc_dod != NEVER, dcc_death_rec[dcc.person], -1)
    # merges of duplicates into the original record
    primary = dcc_rec_of[dcc.person]
    dup_idx = np.flatnonzero(dcc.is_dup)
    merged = dup_idx[rng.random(dup_idx.size) < rates.merged_dcc]
    later = rng.random(merged.size) < (0.5 if cfg.days > 1 else 0.0)
    lo = np.maximum(created[merged], created[primary[merged]]) + 7
    m_day = np.where(
        later, uniform_days(rng, np.maximum(lo, tl.first), tl.end), uniform_days(rng, lo, lo + 180)
    )
    ok = m_day < tl.end
    merged, m_day = merged[ok], m_day[ok]
    status = np.full(nd, "Active", dtype=object)
    status[merged] = "Merged"
    merged_into = np.full(nd, None, dtype=object)
    merged_into[merged] = dcc.ids[primary[merged]]
    merge_day = np.full(nd, -1, dtype=np.int64)
    merge_day[merged] = m_day
    err_rows.append(("dcc", dcc.ids[merged], "merged"))
    lu_created = (created * DAY_SECONDS + rng.integers(7 * 3600, 9 * 3600, nd)) * 1_000_000
    lu_other = _ts(np.maximum(dod_rec, merge_day), rng)
    person_lu = np.where(np.maximum(dod_rec, merge_day) > created, lu_other, lu_created)

    pr = dcc.person
    band = p.band[pr]
    sex = p.sex[pr]
    gender = np.array(["Male", "Female", "Other"], dtype=object)[sex]
    gender[rng.random(nd) < 0.005] = "Unknown"
    eth = np.array(ETHNICITY_LABELS, dtype=object)[p.eth[pr]]
    u = rng.random(nd)
    eth[u < 0.04] = codes.ETHNICITY_NOT_KNOWN
    eth[(u >= 0.04) & (u < 0.05)] = codes.ETHNICITY_REFUSED
    old = band >= 3
    psr = np.where(
        old,
        pick(rng, codes.CLD_PRIMARY_SUPPORT_REASON, [55, 12, 1, 5, 2, 3, 1, 1, 0.1, 3, 17], nd),
        pick(rng, codes.CLD_PRIMARY_SUPPORT_REASON, [25, 10, 22, 25, 2, 2, 1, 6, 1, 4, 2], nd),
    ).astype(object)
    psr[rng.random(nd) < 0.08] = None
    accom = np.where(
        old,
        pick(
            rng,
            codes.CLD_ACCOMMODATION_STATUS,
            [45, 18, 6, 6, 1, 0.2, 9, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 0.5, 6, 3, 0.01, 0.5, 3],
            nd,
        ),
        pick(
            rng,
            codes.CLD_ACCOMMODATION_STATUS,
            [15, 22, 12, 25, 12, 2, 2, 0.5, 1, 1, 0.5, 1, 1, 0.5, 1, 0.5, 0.5, 1, 2],
            nd,
        ),
    ).astype(object)
    comm_dcc = _comm_recording(rng, p, pr, "dcc", rates, err_rows, dcc.ids, dcc.is_dup)
    comm_text = np.array(
        [
            None if k == COMM_NONE else COMM_DCC_TEXT[k].format(lang=lang)
            for k, lang in zip(comm_dcc, p.language[pr], strict=True)
        ],
        dtype=object,
    )
    person_tbl = pa.table(
        {
            "la_person_id": _str(dcc.ids),
            "nhs_number": _str(dcc.f["nhs"]),
            "given_name": _str(dcc.f["given"]),
            "family_name": _str(dcc.f["family"]),
            "date_of_birth": _date_array(dcc.f["dob"]),
            "gender": _str(gender),
            "ethnicity": _str(eth),
            "postcode": _str(dcc.f["postcode"]),
            "address_line_1": _str(dcc.f["line1"]),
            "address_town": _str(dcc.f["town"]),
            "gp_practice_code": _str(dcc.f["gp"]),
            "date_of_death": _date_array(dcc_dod),
            "primary_support_reason": _str(psr),
            "accommodation_status": _str(accom),
            "has_unpaid_carer": _str(pick(rng, ["Y", "N", "U"], [0.35, 0.5, 0.15], nd)),
            "client_type": _str(pick(rng, codes.CLD_CLIENT_TYPE, [0.92, 0.06, 0.02], nd)),
            "client_funding_status": _str(
                pick(rng, [*codes.CLD_CLIENT_FUNDING_STATUS, None], [0.55, 0.3, 0.1, 0.05], nd)
            ),
            "communication_needs": _str(comm_text),
            "record_status": _str(status),
            "merged_into_id": _str(merged_into),
            "last_updated": pa.array(person_lu, pa.timestamp("us")),
        }
    ).select(DCC_PERSON)
    event_tbl = pa.table(
        {
            "event_reference": _str(ev_ids),
            "la_person_id": _str(dcc.ids[ev["rec"]]),
            "event_type": _str(ev["etype"]),
            "event_start_date": _date_array(ev["start"]),
            "event_end_date": _date_array(ev["end"]),
            "event_outcome": _str(ev["outcome"]),
            "team": _str(ev["team"]),
            "request_route_of_access": _str(ev["route"]),
            "assessment_type": _str(ev["atype"]),
            "service_type": _str(ev["stype"]),
            "service_component": _str(ev["comp"]),
            "delivery_mechanism": _str(ev["deliv"]),
            "review_reason": _str(ev["rreason"]),
            "last_updated": pa.array(ev_lu, pa.timestamp("us")),
        }
    ).select(DCC_EVENT)

    # ------------------------------------------------------------- DCHS referrals and contacts
    rp = dchs.person[ref["rec"]]
    keep = ref["received"] <= death[rp]
    ref = take(ref, keep)
    rp = rp[keep]
    ref["end"] = np.minimum(ref["end"], death[rp])
    nr = rp.shape[0]
    r_open_day = ref["received"] + (rng.random(nr) < 0.3)
    r_close_day = ref["end"] + (rng.random(nr) < 0.3)
    keep = r_open_day < tl.end
    ref = take(ref, keep)
    rp, r_open_day, r_close_day = rp[keep], r_open_day[keep], r_close_day[keep]
    closed = r_close_day < tl.end
    ref["end"] = np.where(closed, ref["end"], NEVER)
    order = np.lexsort((ref["rec"], ref["received"]))
    ref = take(ref, order)
    rp, r_open_day, r_close_day, closed = (
        rp[order],
        r_open_day[order],
        r_close_day[order],
        closed[order],
    )
    nr = rp.shape[0]
    sr_ids = _ids("SR", c * BLOCK_EVENT + np.arange(nr), 10)
    n_open = tl.night(r_open_day)
    n_close = np.where(closed, tl.night(r_close_day), -1)
    last_contact = np.minimum(np.where(closed, ref["end"], tl.end - 1), death[rp])
    cc = contacts(rng, ref, last_contact)
    ncc = cc["day"].shape[0]
    late_cc = rng.random(ncc) < rates.late_arrival_dchs
    cc_rec = cc["day"] + np.where(late_cc, rng.integers(3, 31, ncc), 0)
    keep = cc_rec < tl.end
    cc = take(cc, keep)
    cc_rec, late_cc = cc_rec[keep], late_cc[keep]
    ncc = cc_rec.shape[0]
    cc_ids = _ids("CC", c * BLOCK_CONTACT + np.arange(ncc), 11)
    err_rows.append(
        (
            "dchs",
            np.asarray(
                cc_ids.filter(pa.array(late_cc)).to_numpy(zero_copy_only=False), dtype=object
            ),
            "late_arrival",
        )
    )

    # referral rows: the open version unless it closes the same night, then the closed one
    emit_open = ~closed | (n_open < n_close)
    ri = np.concatenate([np.flatnonzero(emit_open), np.flatnonzero(closed)])
    r_night = np.concatenate([n_open[emit_open], n_close[closed]])
    r_end = np.concatenate([np.full(int(emit_open.sum()), NEVER), ref["end"][closed]])
    referral_tbl = pa.table(
        {
            "service_request_id": sr_ids.take(pa.array(ri)),
            "local_patient_id": _str(dchs.ids[ref["rec"][ri]]),
            "referral_received_date": _date_array(ref["received"][ri]),
            "source_of_referral": _str(ref["source"][ri]),
            "priority_type_code": _str(ref["priority"][ri]),
            "team_type_code": _str(ref["team"][ri]),
            "service_discharge_date": _date_array(r_end),
            "_night": pa.array(r_night, pa.int32()),
        }
    )
    contact_tbl = pa.table(
        {
            "service_request_id": sr_ids.take(pa.array(cc["ref"])),
            "care_contact_id": cc_ids,
            "local_patient_id": _str(dchs.ids[ref["rec"][cc["ref"]]]),
            "care_contact_date": _date_array(cc["day"]),
            "clinical_contact_duration_minutes": _nullable_int(cc["minutes"]),
            "consultation_mechanism": _str(cc["mech"]),
            "activity_location_type_code": _str(cc["loc"]),
            "attended_or_did_not_attend": _str(cc["att"]),
            "_night": pa.array(tl.night(cc_rec), pa.int32()),
        }
    )

    # ------------------------------------------------------------- DCHS inpatient spells
    s_person = dchs.person[sp["rec"]]
    keep = sp["adm"] <= death[s_person]
    sp = take(sp, keep)
    s_person = s_person[keep]
    dies_in = death[s_person] <= sp["dis"]
    sp["dis"] = np.where(dies_in, death[s_person], sp["dis"])
    sp["dis_method"] = np.where(dies_in, codes.DISCHARGE_METHOD_DIED, sp["dis_method"]).astype(
        object
    )
    sp["dest"] = np.where(dies_in, codes.DISCHARGE_DESTINATION_DIED, sp["dest"]).astype(object)
    sp["pathway"] = np.where(dies_in, None, sp["pathway"]).astype(object)
    ns = s_person.shape[0]
    s_open_day = sp["adm"] + (rng.random(ns) < 0.2)
    s_close_day = sp["dis"] + (rng.random(ns) < 0.2)
    keep = s_open_day < tl.end
    sp = take(sp, keep)
    s_open_day, s_close_day = s_open_day[keep], s_close_day[keep]
    order = np.lexsort((sp["rec"], sp["adm"]))
    sp = take(sp, order)
    s_open_day, s_close_day = s_open_day[order], s_close_day[order]
    ns = s_open_day.shape[0]
    s_closed = s_close_day < tl.end
    sn_open, sn_close = tl.night(s_open_day), np.where(s_closed, tl.night(s_close_day), -1)
    emit_open = ~s_closed | (sn_open < sn_close)
    si = np.concatenate([np.flatnonzero(emit_open), np.flatnonzero(s_closed)])
    is_closed = np.concatenate(
        [np.zeros(int(emit_open.sum()), bool), np.ones(int(s_closed.sum()), bool)]
    )
    s_night = np.concatenate([sn_open[emit_open], sn_close[s_closed]])
    spell_ids = _id_strings("SP", c * BLOCK_SPELL + np.arange(ns), 9)
    spell_tbl = pa.table(
        {
            "hospital_provider_spell_number": _str(spell_ids[si]),
            "local_patient_id": _str(dchs.ids[sp["rec"][si]]),
            "site_code": _str(sp["site"][si]),
            "ward_code": _str(sp["ward"][si]),
            "admission_date": _date_array(sp["adm"][si]),
            "admission_method_code": _str(sp["method"][si]),
            "admission_source_code": _str(sp["source"][si]),
            "discharge_date": _date_array(np.where(is_closed, sp["dis"][si], NEVER)),
            "discharge_method_code": _str(np.where(is_closed, sp["dis_method"][si], None)),
            "discharge_destination_code": _str(
                np.where(is_closed, sp["dest"][si], codes.DISCHARGE_DESTINATION_NOT_FINISHED)
            ),
            "discharge_pathway": _str(np.where(is_closed, sp["pathway"][si], None)),
            "_night": pa.array(s_night, pa.int32()),
        }
    )

    # ------------------------------------------------------------- DCHS patients (versions)
    nh = len(dchs)
    first_act = np.full(nh, NEVER, dtype=np.int64)
    np.minimum.at(first_act, ref["rec"], ref["received"])
    np.minimum.at(first_act, sp["rec"], sp["adm"])
    reg = np.minimum(first_act, uniform_days(rng, tl.start - 3 * 365, tl.end, nh))
    reg = np.maximum(reg, p.dob[dchs.person])  # nobody registers before birth
    hp = dchs.person
    death_rec = np.where(~dchs.is_dup, dchs_death_rec[hp], NEVER)
    # corrections: the first version carries an error that a later drop fixes
    corr_lo = np.maximum(reg + 1, tl.first)
    can_fix = corr_lo < tl.end
    fixed = np.flatnonzero(
        can_fix & (rng.random(nh) < rates.corrected_dchs / max(can_fix.mean(), 1e-9))
    )
    corr_day = np.full(nh, NEVER, dtype=np.int64)
    corr_day[fixed] = uniform_days(rng, corr_lo[fixed], tl.end)
    wrong_dob = dchs.f["dob"].copy()
    wrong_family = dchs.f["family"].copy()
    by_dob = rng.random(fixed.size) < 0.5
    for j, d in zip(fixed.tolist(), by_dob.tolist(), strict=True):
        if d:
            wrong_dob[j] = errors.dob_typo_one(rng, int(wrong_dob[j]))
        else:
            wrong_family[j] = errors.typo(rng, wrong_family[j])
    err_rows.append(("dchs", dchs.ids[fixed], "corrected"))
    n_reg = tl.night(reg)
    n_death = np.where(death_rec < tl.end, tl.night(death_rec), -1)
    n_corr = np.where(corr_day < tl.end, tl.night(corr_day), -1)
    vi, v_night = _versions(np.arange(nh), [n_reg, n_death, n_corr], cfg.days)
    show_death = (n_death[vi] >= 0) & (n_death[vi] <= v_night)
    show_fix = (n_corr[vi] < 0) | (n_corr[vi] <= v_night)
    comm_dchs = _comm_recording(rng, p, hp, "dchs", rates, err_rows, dchs.ids, dchs.is_dup)
    need = (comm_dchs == COMM_BSL) | (comm_dchs == COMM_INTERPRETER)
    lang = np.where(need, p.language[hp], np.where(rng.random(nh) < 0.1, None, "English")).astype(
        object
    )
    gender_code = np.array(["1", "2", "9"], dtype=object)[p.sex[hp]]
    gender_code[rng.random(nh) < 0.005] = "X"
    letter = np.array([codes.CENSUS_2021_ETHNICITY[e] for e in ETHNICITY_LABELS], dtype=object)[
        p.eth[hp]
    ]
    u = rng.random(nh)
    letter[u < 0.04] = "Z"
    letter[(u >= 0.04) & (u < 0.07)] = "99"
    nhs_status = np.where(
        np.equal(dchs.f["nhs"], None), pick(rng, ["03", "07", "04"], [0.5, 0.3, 0.2], nh),
        pick(rng, ["01", "02"], [0.93, 0.07], nh),
    ).astype(object)  # fmt: skip
    bad_nhs = ~np.equal(dchs.f["nhs"], None) & ~codes.is_valid_nhs_numbers(dchs.f["nhs"])
    nhs_status[bad_nhs] = pick(rng, ["02", "04", "05"], [0.5, 0.3, 0.2], int(bad_nhs.sum()))
    patient_tbl = pa.table(
        {
            "local_patient_id": _str(dchs.ids[vi]),
            "nhs_number": _str(dchs.f["nhs"][vi]),
            "nhs_number_status": _str(nhs_status[vi]),
            "given_name": _str(dchs.f["given"][vi]),
            "family_name": _str(np.where(show_fix, dchs.f["family"][vi], wrong_family[vi])),
            "person_birth_date": _date_array(np.where(show_fix, dchs.f["dob"][vi], wrong_dob[vi])),
            "person_stated_gender_code": _str(gender_code[vi]),
            "ethnic_category": _str(letter[vi]),
            "postcode": _str(dchs.f["postcode"][vi]),
            "address_line_1": _str(dchs.f["line1"][vi]),
            "gp_practice_code": _str(dchs.f["gp"][vi]),
            "person_death_date": _date_array(np.where(show_death, death[hp][vi], NEVER)),
            "interpreter_required": _str(np.where(need, "Y", "N")[vi]),
            "preferred_language": _str(lang[vi]),
            "_night": pa.array(v_night, pa.int32()),
        }
    )

    # ------------------------------------------------------------- ground truth
    tpid = _id_strings("P", p.pid, 8)
    truth = pa.table(
        {
            "source": _str(
                np.concatenate(
                    [np.full(nd, "dcc", dtype=object), np.full(nh, "dchs", dtype=object)]
                )
            ),
            "source_record_id": _str(np.concatenate([dcc.ids, dchs.ids])),
            "true_person_id": _str(np.concatenate([tpid[dcc.person], tpid[dchs.person]])),
        }
    ).select(TRUTH)
    dead_dcc = np.flatnonzero(~dcc.is_dup & missing_dcc[dcc.person])
    dead_dchs = np.flatnonzero(~dchs.is_dup & missing_dchs[dchs.person])
    err_rows.append(("dcc", dcc.ids[dead_dcc], "death_not_recorded"))
    err_rows.append(("dchs", dchs.ids[dead_dchs], "death_not_recorded"))
    for recs in (dcc, dchs):
        for idx, kind in recs.errors:
            err_rows.append((recs.source, recs.ids[idx], kind))
    errors_tbl = pa.table(
        {
            "source": _str(
                np.concatenate([np.full(len(ids), s, dtype=object) for s, ids, _ in err_rows])
            ),
            "source_record_id": _str(
                np.concatenate([np.asarray(ids, dtype=object) for _, ids, _ in err_rows])
            ),
            "error_type": _str(
                np.concatenate([np.full(len(ids), k, dtype=object) for _, ids, k in err_rows])
            ),
        }
    ).select(ERRORS)
    # the generator's own population: who lives where, born and died when (not written as
    # such; ``generate`` counts it into population.csv)
    people_tbl = pa.table(
        {
            "true_person_id": _str(tpid),
            "date_of_birth": _date_array(p.dob),
            "date_of_death": _date_array(death),
            "la_district": _str(p.addr["la"]),
        }
    )
    return {
        "person": person_tbl,
        "event": event_tbl,
        "patient.csv": patient_tbl.select([*DCHS_PATIENT, "_night"]),
        "referral.csv": referral_tbl.select([*DCHS_REFERRAL, "_night"]),
        "care_contact.csv": contact_tbl.select([*DCHS_CARE_CONTACT, "_night"]),
        "inpatient_spell.csv": spell_tbl.select([*DCHS_INPATIENT_SPELL, "_night"]),
        "truth": truth,
        "errors": errors_tbl,
        "people": people_tbl,
    }


def _comm_recording(
    rng, p: People, person: np.ndarray, source: str, rates, err_rows, ids, is_dup
) -> np.ndarray:
    """Communication need as this source records it (COMM_NONE when it does not)."""
    need = p.comm[person].copy()
    both = p.in_dcc[person] & p.in_dchs[person]
    representable = (need == COMM_BSL) | (need == COMM_INTERPRETER)
    one = both & representable & (p.u_comm[person] < rates.comm_need_one_system)
    side_dcc = (p.u_comm[person] * 7919) % 1 < 0.5  # which source misses it
    misses = one & (side_dcc if source == "dcc" else ~side_dcc)
    need[misses] = COMM_NONE
    err_rows.append((source, ids[misses & ~is_dup], "comm_need_not_recorded"))
    return need
