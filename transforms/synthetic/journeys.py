"""Care journeys and background activity for one chunk, coherent over time.

Hospital discharges (mostly people aged 65+) go to Pathway 1 (home reablement: DCC
START and/or DCHS team 51/52/53), Pathway 2 (a DCC Community Support Bed or a DCHS
community hospital, sometimes CSB then community hospital within a day) or Pathway 3
(long-term residential or nursing care). Stays end at home (often with reablement),
in a care home, in a readmission or in death. Around them: DCC requests, assessments,
long-term services and reviews, and the DCHS district nursing and therapy referrals
whose care contacts make up most of the volume.

Everything here works on day numbers; ``NEVER`` marks an open end. Truncation at
death and at the last night, and the record timestamps, come later (``finalise``).
"""

from __future__ import annotations

import numpy as np

from transforms import codes
from transforms.synthetic.population import People
from transforms.synthetic.tables import Cols, pick, uniform_days
from transforms.synthetic.timeline import NEVER, Timeline

DCC_EV = [
    "rec",
    "etype",
    "start",
    "end",
    "outcome",
    "team",
    "route",
    "atype",
    "stype",
    "comp",
    "deliv",
    "rreason",
]
REF = ["rec", "received", "end", "source", "priority", "team"]
SPELL = ["rec", "site", "ward", "adm", "method", "source", "dis", "dis_method", "dest", "pathway"]

#: Local ASC locality teams by local authority district.
ASC_TEAM = {
    "Amber Valley": "ASC-AMBER-VALLEY", "Bolsover": "ASC-BOLSOVER", "Chesterfield": "ASC-CHESTERFIELD",
    "Derbyshire Dales": "ASC-DALES", "Erewash": "ASC-EREWASH", "High Peak": "ASC-HIGH-PEAK",
    "North East Derbyshire": "ASC-NE-DERBYSHIRE", "South Derbyshire": "ASC-SOUTH-DERBYSHIRE",
    "Derby City": "ASC-DERBY-CITY",
}  # fmt: skip
#: DCC Community Support Bed units (team ``CSB-<unit>``).
CSB_UNITS = ["CSB-BELPER", "CSB-ILKESTON", "CSB-BORROWASH", "CSB-SWADLINCOTE", "CSB-BUXTON",
             "CSB-STAVELEY", "CSB-DARLEY", "CSB-SHIREBROOK", "CSB-GLOSSOP", "CSB-CHESTERFIELD"]  # fmt: skip
#: DCHS community hospitals: site code -> ward codes.
CH_SITES = {
    "RY8A1": ["BAB-W1", "BAB-W2"], "RY8A2": ["ILK-W1", "ILK-W2"], "RY8A3": ["WAL-W1", "WAL-W2"],
    "RY8A4": ["WHI-W1"], "RY8A5": ["ASH-W1"], "RY8A6": ["BUX-W1"], "RY8A7": ["BOL-W1"],
    "RY8A8": ["NEW-W1"], "RY8A9": ["RIP-W1"], "RY8B1": ["CAV-W1"],
}  # fmt: skip
SITE_CODES = list(CH_SITES)

LT_COMMUNITY_COMPONENTS = ["Home support / domiciliary care", "Direct payment", "Equipment",
                           "Community supported living", "Extra care housing", "Shared Lives"]  # fmt: skip
LT_COMMUNITY_WEIGHTS = [0.5, 0.17, 0.1, 0.1, 0.08, 0.05]

#: Supported hospital discharges per person-year, by age band.
DISCHARGE_RATE = np.array([0.0, 0.004, 0.008, 0.035, 0.09, 0.2])
#: DCHS background referrals per patient-year, by age band (district nursing, therapy).
REFERRAL_RATE = np.array([0.26, 0.45, 0.72, 1.45, 2.2, 3.4])
P_DISTRICT_NURSING = np.array([0.1, 0.2, 0.35, 0.55, 0.65, 0.75])
#: Community hospital step-up admissions (from home) per patient-year, by age band.
STEP_UP_RATE = np.array([0.0, 0.0005, 0.002, 0.008, 0.02, 0.04])


def _int(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _los(rng, n: int, mean: float, shape: float, lo: int, hi: int) -> np.ndarray:
    return np.clip(rng.gamma(shape, mean / shape, size=n), lo, hi).astype(np.int64)


class Journeys:
    """Accumulates DCC events, DCHS referrals and spells for one chunk of people."""

    def __init__(
        self,
        rng: np.random.Generator,
        p: People,
        tl: Timeline,
        dcc_rec_of: np.ndarray,
        dchs_rec_of: np.ndarray,
    ):
        self.rng = rng
        self.p = p
        self.tl = tl
        self.dcc_rec_of = dcc_rec_of  # person -> primary DCC record (-1 if none)
        self.dchs_rec_of = dchs_rec_of
        self.dcc = Cols(DCC_EV, {"rec", "start", "end"})
        self.ref = Cols(REF, {"rec", "received", "end"})
        self.spell = Cols(SPELL, {"rec", "adm", "dis"})
        self.asc_team = np.array([ASC_TEAM[a] for a in p.addr["la"]], dtype=object)

    # ---------------------------------------------------------------- DCC building blocks
    def request(self, person, day, route, outcome, team) -> None:
        n = person.shape[0]
        self.dcc.add(n, rec=self.dcc_rec_of[person], etype="Request", start=day, end=day,
                     outcome=outcome, team=team, route=route)  # fmt: skip

    def assessment(self, person, start, end, atype, outcome, team) -> None:
        n = person.shape[0]
        self.dcc.add(n, rec=self.dcc_rec_of[person], etype="Assessment", start=start, end=end,
                     outcome=outcome, team=team, atype=atype)  # fmt: skip

    def service(self, person, start, end, stype, comp, outcome, team, deliv=None) -> None:
        n = person.shape[0]
        if deliv is None:
            deliv = pick(self.rng, codes.CLD_DELIVERY_MECHANISM[1:], [0.25, 0.75], n)
            if isinstance(comp, np.ndarray):
                deliv = np.where(comp == "Direct payment", "Direct Payment", deliv)
        self.dcc.add(n, rec=self.dcc_rec_of[person], etype="Service", start=start, end=end,
                     outcome=outcome, team=team, stype=stype, comp=comp, deliv=deliv)  # fmt: skip

    def long_term_placement(self, person, day) -> None:
        rng = self.rng
        n = person.shape[0]
        nursing = rng.random(n) < 0.4
        stype = np.where(nursing, codes.LTS_NURSING, codes.LTS_RESIDENTIAL).astype(object)
        comp = np.where(nursing, "Long term nursing care", "Long term residential care").astype(
            object
        )
        self.service(person, day + rng.integers(0, 3, n), NEVER, stype, comp, None,
                     self.asc_team[person], deliv="CASSR Commissioned Support")  # fmt: skip

    def long_term_community(self, person, day) -> None:
        n = person.shape[0]
        comp = pick(self.rng, LT_COMMUNITY_COMPONENTS, LT_COMMUNITY_WEIGHTS, n)
        start = day + self.rng.integers(1, 21, n)
        ends = self.rng.random(n) < 0.2
        end = np.where(ends, start + _los(self.rng, n, 200, 1.5, 14, 2000), NEVER)
        outcome = np.where(ends, codes.OUTCOME_ENDED_PLANNED, None).astype(object)
        self.service(person, start, end, codes.LTS_COMMUNITY, comp, outcome, self.asc_team[person])

    # ---------------------------------------------------------------- DCHS building blocks
    def referral(self, person, received, end, team, source, priority, rec=None) -> None:
        n = person.shape[0]
        self.ref.add(n, rec=self.dchs_rec_of[person] if rec is None else rec, received=received,
                     end=end, source=source, priority=priority, team=team)  # fmt: skip

    def ch_spell(self, person, adm, dis, method, source, dis_method, dest, pathway) -> None:
        n = person.shape[0]
        site_i = self.rng.integers(0, len(SITE_CODES), n)
        sites = np.array(SITE_CODES, dtype=object)[site_i]
        wards = np.array(
            [
                CH_SITES[s][k % len(CH_SITES[s])]
                for s, k in zip(sites, self.rng.integers(0, 2, n), strict=True)
            ],
            dtype=object,
        )
        self.spell.add(n, rec=self.dchs_rec_of[person], site=sites, ward=wards, adm=adm, dis=dis,
                       method=method, source=source, dis_method=dis_method, dest=dest, pathway=pathway)  # fmt: skip

    # ---------------------------------------------------------------- reablement at home
    def home_reablement(self, person, day, start_team: np.ndarray, dchs_team: np.ndarray) -> None:
        """START and/or DCHS reablement from ``day``; readmissions, deaths, long-term care."""
        rng, p = self.rng, self.p
        n = person.shape[0]
        u = rng.random(n)
        # --- DCC START
        s = np.flatnonzero(start_team)
        if s.size:
            ps = person[s]
            st = day[s] + rng.integers(0, 3, s.size)
            los = np.clip(rng.normal(24, 9, s.size), 5, 56).astype(np.int64)
            us = u[s]
            outcome = np.select(
                [us < 0.6, us < 0.8, us < 0.9, us < 0.94],
                [
                    codes.OUTCOME_ENDED_PLANNED,
                    codes.OUTCOME_TO_SERVICES,
                    codes.OUTCOME_ADMITTED,
                    codes.OUTCOME_DECEASED,
                ],
                codes.OUTCOME_ENDED_OTHER,
            ).astype(object)
            shorten = (outcome == codes.OUTCOME_ADMITTED) | (outcome == codes.OUTCOME_DECEASED)
            los = np.where(shorten, np.maximum(1, (los * rng.random(s.size)).astype(np.int64)), los)
            end = st + los
            self.service(ps, st, end, codes.ST_MAX, codes.COMPONENT_REABLEMENT, outcome, codes.TEAM_START,
                         deliv="CASSR Commissioned Support")  # fmt: skip
            died = outcome == codes.OUTCOME_DECEASED
            p.death[ps[died]] = np.minimum(p.death[ps[died]], end[died])
            lt = outcome == codes.OUTCOME_TO_SERVICES
            if lt.any():
                self.assessment(
                    ps[lt],
                    end[lt] - 3,
                    end[lt],
                    "Long Term Assessment",
                    codes.OUTCOME_TO_SERVICES,
                    self.asc_team[ps[lt]],
                )
                self.long_term_community(ps[lt], end[lt])
            adm = (outcome == codes.OUTCOME_ADMITTED) & p.in_dchs[ps] & (rng.random(s.size) < 0.4)
            if adm.any():
                self.step_up(ps[adm], end[adm] + rng.integers(0, 3, int(adm.sum())))
        # --- DCHS crisis response / reablement / home-based intermediate care
        d = np.flatnonzero(dchs_team != None)  # noqa: E711 - elementwise on an object array
        if d.size:
            pd_ = person[d]
            team = dchs_team[d]
            los = np.where(team == "51", rng.integers(2, 6, d.size), rng.integers(10, 43, d.size))
            ud = rng.random(d.size)
            died = ud < 0.04
            readmit = (ud >= 0.04) & (ud < 0.14)
            los = np.where(
                died | readmit, np.maximum(1, (los * rng.random(d.size)).astype(np.int64)), los
            )
            end = day[d] + los
            self.referral(
                pd_, day[d], end, team, pick(rng, ["H2", "H1"], [0.85, 0.15], d.size), "2"
            )
            p.death[pd_[died]] = np.minimum(p.death[pd_[died]], end[died])
            adm = readmit & (rng.random(d.size) < 0.4)
            if adm.any():
                self.step_up(pd_[adm], end[adm] + rng.integers(0, 3, int(adm.sum())))

    def step_up(self, person, adm) -> None:
        """A community hospital admission from home (a readmission or a step-up)."""
        rng = self.rng
        n = person.shape[0]
        los = _los(rng, n, 18, 2.5, 2, 120)
        dis = adm + los
        u = rng.random(n)
        died = u < 0.06
        carehome = (u >= 0.06) & (u < 0.14)
        dest = np.where(died, codes.DISCHARGE_DESTINATION_DIED,
                        np.where(carehome, pick(rng, codes.CARE_HOME_DESTINATIONS, [1, 2, 2, 1, 4], n), "19")).astype(object)  # fmt: skip
        self.ch_spell(person, adm, dis, pick(rng, ["21", "22", "2D"], [0.5, 0.4, 0.1], n), "19",
                      np.where(died, codes.DISCHARGE_METHOD_DIED, "1").astype(object), dest,
                      np.where(died, None, np.where(carehome, "3", "0")).astype(object))  # fmt: skip
        self.p.death[person[died]] = np.minimum(self.p.death[person[died]], dis[died])

    # ---------------------------------------------------------------- discharges
    def discharges(self) -> int:
        rng, p, tl = self.rng, self.p, self.tl
        covered = (p.band >= 1) & (p.in_dcc | p.in_dchs)
        k = rng.poisson(DISCHARGE_RATE[p.band] * tl.years) * covered
        person = np.repeat(np.arange(len(p)), k)
        d = uniform_days(rng, tl.start, tl.end, person.shape[0])
        keep = d < p.death[person]
        person, d = person[keep], d[keep]
        J = person.shape[0]
        if J == 0:
            return 0
        dcc_ok, dchs_ok = p.in_dcc[person], p.in_dchs[person]
        pw = rng.choice([1, 2, 3], size=J, p=[0.6, 0.28, 0.12])
        u = rng.random(J)
        csb = (pw == 2) & dcc_ok & (~dchs_ok | (u < 0.4))
        ch = ((pw == 2) & ~csb) | ((pw == 3) & ~dcc_ok)
        forced_carehome = (pw == 3) & ~dcc_ok
        p3 = (pw == 3) & dcc_ok
        p1 = pw == 1
        use_start = p1 & dcc_ok & (~dchs_ok | (rng.random(J) < 0.5))
        use_dchs = p1 & dchs_ok & (~use_start | (rng.random(J) < 0.15))

        # DCC request at the discharge
        req = use_start | csb | p3
        outcome = np.where(p3, codes.OUTCOME_TO_SERVICES, codes.OUTCOME_TO_REABLEMENT).astype(
            object
        )
        self.request(
            person[req], d[req], codes.ROUTE_DISCHARGE, outcome[req], codes.TEAM_HOSPITAL_SW
        )

        # Pathway 1 straight home
        dchs_team = np.where(
            use_dchs, pick(rng, ["51", "52", "53"], [0.25, 0.45, 0.30], J), None
        ).astype(object)
        home = use_start | use_dchs
        self.home_reablement(person[home], d[home], use_start[home], dchs_team[home])

        # Pathway 3 straight to a placement
        if p3.any():
            self.assessment(person[p3], d[p3], d[p3] + rng.integers(0, 8, int(p3.sum())), "Long Term Assessment",
                            codes.OUTCOME_TO_SERVICES, codes.TEAM_HOSPITAL_SW)  # fmt: skip
            self.long_term_placement(person[p3], d[p3] + 1)

        # Pathway 2 bed-based stays
        bed = np.flatnonzero(csb | ch)
        if bed.size:
            self._bed_stays(person[bed], d[bed], csb[bed], forced_carehome[bed])
        return J

    def _bed_stays(self, person, d, csb, forced_carehome) -> None:
        rng, p = self.rng, self.p
        n = person.shape[0]
        dcc_ok, dchs_ok = p.in_dcc[person], p.in_dchs[person]
        los1 = _los(rng, n, 26, 2.5, 2, 150)
        end1 = d + los1
        transfer = csb & dchs_ok & (rng.random(n) < 0.1)
        u = rng.random(n)
        exit_ = np.select(
            [forced_carehome, u < 0.62, u < 0.77, u < 0.89],
            ["care_home", "home", "care_home", "readmit"],
            "died",
        ).astype(object)
        # the CH leg (direct, or after a CSB transfer)
        ch_adm = np.where(transfer, end1 + rng.integers(0, 2, n), d)
        ch_los = np.where(transfer, _los(rng, n, 20, 2.5, 2, 120), los1)
        final_end = np.where(transfer, ch_adm + ch_los, end1)
        # CSB leg
        s = np.flatnonzero(csb)
        if s.size:
            out = np.where(transfer[s], codes.OUTCOME_ADMITTED,
                           np.select([exit_[s] == "home", exit_[s] == "care_home", exit_[s] == "readmit"],
                                     [codes.OUTCOME_ENDED_PLANNED, codes.OUTCOME_TO_SERVICES, codes.OUTCOME_ADMITTED],
                                     codes.OUTCOME_DECEASED)).astype(object)  # fmt: skip
            self.service(person[s], d[s], end1[s], codes.ST_MAX, codes.COMPONENT_ST_RESIDENTIAL, out,
                         pick(rng, CSB_UNITS, [1] * len(CSB_UNITS), s.size), deliv="CASSR Commissioned Support")  # fmt: skip
        c = np.flatnonzero(~csb | transfer)
        follow = (exit_ == "home") & (rng.random(n) < 0.45)
        if c.size:
            ex = exit_[c]
            died = ex == "died"
            dest = np.select(
                [ex == "home", ex == "care_home", ex == "readmit"],
                [
                    pick(rng, ["19", "29"], [0.93, 0.07], c.size),
                    pick(rng, codes.CARE_HOME_DESTINATIONS, [1, 2, 2, 1, 4], c.size),
                    "51",
                ],
                codes.DISCHARGE_DESTINATION_DIED,
            ).astype(object)
            pathway = np.select(
                [ex == "home", ex == "care_home"], [np.where(follow[c], "1", "0"), "3"], None
            ).astype(object)
            method = np.where(
                transfer[c], pick(rng, ["2B", "2D"], [0.5, 0.5], c.size), "81"
            ).astype(object)
            source = np.where(transfer[c], "65", "51").astype(object)
            dis_method = np.where(
                died, codes.DISCHARGE_METHOD_DIED, pick(rng, ["1", "2"], [0.97, 0.03], c.size)
            ).astype(object)
            self.ch_spell(
                person[c], ch_adm[c], final_end[c], method, source, dis_method, dest, pathway
            )
        died = exit_ == "died"
        p.death[person[died]] = np.minimum(p.death[person[died]], final_end[died])
        # exits
        ch_only = ~dcc_ok
        f = np.flatnonzero(follow)
        if f.size:
            st = dcc_ok[f] & (~dchs_ok[f] | (rng.random(f.size) < 0.5))
            team = np.where(
                dchs_ok[f] & ~st, pick(rng, ["52", "53"], [0.6, 0.4], f.size), None
            ).astype(object)
            self.home_reablement(person[f], final_end[f], st, team)
        ch_ = np.flatnonzero((exit_ == "care_home") & ~ch_only)
        if ch_.size:
            self.long_term_placement(person[ch_], final_end[ch_])
        # some die within 91 days of getting home
        late = np.flatnonzero((exit_ == "home") & (rng.random(n) < 0.05))
        if late.size:
            when = final_end[late] + rng.integers(5, 92, late.size)
            p.death[person[late]] = np.minimum(p.death[person[late]], when)

    # ---------------------------------------------------------------- background activity
    def dcc_background(self, dcc_person: np.ndarray, is_dup: np.ndarray) -> None:
        """Requests, assessments, long-term services for every DCC record (dups get less)."""
        rng, p, tl = self.rng, self.p, self.tl
        n_rec = dcc_person.shape[0]
        k = 1 + np.where(is_dup, 0, rng.poisson(0.25 * tl.years, n_rec))
        rec = np.repeat(np.arange(n_rec), k)
        person = dcc_person[rec]
        R = rec.shape[0]
        lo = np.maximum(tl.start, p.dob[person] + 18 * 365)
        day = uniform_days(rng, lo, tl.end)
        young = p.band[person] <= 2
        route = np.where(
            young & (rng.random(R) < 0.05), "Planned Entry (Transition)",
            pick(rng, codes.CLD_REQUEST_ROUTE_OF_ACCESS[1:], [0.12, 0.04, 0.03, 0.81], R),
        ).astype(object)  # fmt: skip
        outcome = pick(
            rng,
            [codes.OUTCOME_TO_ASSESSMENT, "NFA - Information and advice / signposting only", "NFA - Support declined",
             codes.OUTCOME_TO_REABLEMENT, "NFA - No services offered for other reason", "Other",
             "NFA - Moved to another LA", "NFA - 100% NHS funded care", "NFA - Self-funded client (inc. 12wk disregard)"],
            [0.36, 0.39, 0.05, 0.02, 0.05, 0.04, 0.03, 0.02, 0.04], R,
        )  # fmt: skip
        team = self.asc_team[person]
        self.dcc.add(
            R, rec=rec, etype="Request", start=day, end=day, outcome=outcome, team=team, route=route
        )
        # reablement from the community
        r = np.flatnonzero(outcome == codes.OUTCOME_TO_REABLEMENT)
        if r.size:
            st = day[r] + rng.integers(1, 10, r.size)
            los = np.clip(rng.normal(24, 9, r.size), 5, 56).astype(np.int64)
            self.dcc.add(r.size, rec=rec[r], etype="Service", start=st, end=st + los,
                         outcome=pick(rng, [codes.OUTCOME_ENDED_PLANNED, codes.OUTCOME_TO_SERVICES], [0.75, 0.25], r.size),
                         team=codes.TEAM_START, stype=codes.ST_MAX, comp=codes.COMPONENT_REABLEMENT,
                         deliv="CASSR Commissioned Support")  # fmt: skip
        # assessments and long-term services
        a = np.flatnonzero(outcome == codes.OUTCOME_TO_ASSESSMENT)
        if not a.size:
            return
        a_start = day[a] + rng.integers(3, 31, a.size)
        a_end = a_start + rng.integers(0, 29, a.size)
        a_out = pick(rng, [codes.OUTCOME_TO_SERVICES, "NFA - Information and advice / signposting only",
                           "NFA - Self-funded client (inc. 12wk disregard)", "NFA - Support declined", "Other"],
                     [0.42, 0.25, 0.12, 0.12, 0.09], a.size)  # fmt: skip
        atype = pick(rng, ["Long Term Assessment", "Short Term Assessment"], [0.8, 0.2], a.size)
        self.dcc.add(a.size, rec=rec[a], etype="Assessment", start=a_start, end=a_end, outcome=a_out,
                     team=team[a], atype=atype)  # fmt: skip
        s = np.flatnonzero(a_out == codes.OUTCOME_TO_SERVICES)
        if not s.size:
            return
        ps = person[a[s]]
        old = p.band[ps] >= 3
        u = rng.random(s.size)
        stype = np.where(old & (u < 0.12), codes.LTS_RESIDENTIAL,
                         np.where(old & (u < 0.2), codes.LTS_NURSING,
                                  np.where(~old & (u < 0.06), codes.LTS_RESIDENTIAL, codes.LTS_COMMUNITY))).astype(object)  # fmt: skip
        comp = np.select(
            [stype == codes.LTS_RESIDENTIAL, stype == codes.LTS_NURSING],
            ["Long term residential care", "Long term nursing care"],
            pick(rng, LT_COMMUNITY_COMPONENTS, LT_COMMUNITY_WEIGHTS, s.size),
        ).astype(object)
        st = a_end[s] + rng.integers(1, 22, s.size)
        ends = (stype == codes.LTS_COMMUNITY) & (rng.random(s.size) < 0.25)
        end = np.where(ends, st + _los(rng, s.size, 200, 1.5, 14, 2000), NEVER)
        out = np.where(
            ends,
            pick(
                rng,
                [
                    codes.OUTCOME_ENDED_PLANNED,
                    codes.OUTCOME_ENDED_OTHER,
                    "NFA - Moved to another LA",
                ],
                [0.6, 0.3, 0.1],
                s.size,
            ),
            None,
        ).astype(object)
        deliv = np.where(comp == "Direct payment", "Direct Payment",
                         pick(rng, codes.CLD_DELIVERY_MECHANISM[1:], [0.3, 0.7], s.size)).astype(object)  # fmt: skip
        recs = rec[a[s]]
        self.dcc.add(s.size, rec=recs, etype="Service", start=st, end=end, outcome=out, team=team[a[s]],
                     stype=stype, comp=comp, deliv=deliv)  # fmt: skip
        fin = rng.random(s.size) < 0.5
        if fin.any():
            fs = st[fin] - rng.integers(0, 15, int(fin.sum()))
            self.dcc.add(int(fin.sum()), rec=recs[fin], etype="Assessment", start=fs, end=fs + rng.integers(0, 20, int(fin.sum())),
                         outcome=codes.OUTCOME_TO_SERVICES, team="ASC-FINANCE", atype="Financial Assessment")  # fmt: skip

    def reviews(self, table: dict[str, np.ndarray]) -> None:
        """Planned reviews of long-term services: 6-12 weeks in, then yearly."""
        rng, tl = self.rng, self.tl
        lt = np.flatnonzero(
            (table["etype"] == "Service")
            & np.char.startswith(table["stype"].astype(str), "Long Term")
        )
        if not lt.size:
            return
        start, end = table["start"][lt], table["end"][lt]
        stop = np.minimum(np.where(end == NEVER, tl.end, end), tl.end)
        first = start + rng.integers(42, 91, lt.size)
        count = np.where(first < stop, 1 + (stop - first) // 365, 0)
        idx = np.repeat(np.arange(lt.size), count)
        k = np.arange(idx.size) - np.repeat(np.cumsum(count) - count, count)
        day = first[idx] + 365 * k
        n = idx.size
        unplanned = rng.random(n) < 0.08
        self.dcc.add(n, rec=table["rec"][lt][idx], etype="Review", start=day, end=day,
                     outcome=pick(rng, [codes.OUTCOME_CONTINUATION, codes.OUTCOME_TO_SERVICES, codes.OUTCOME_TO_ASSESSMENT], [0.84, 0.1, 0.06], n),
                     team=table["team"][lt][idx], rreason=np.where(unplanned, "Unplanned", "Planned").astype(object))  # fmt: skip

    def dchs_background(self, dchs_person: np.ndarray, is_dup: np.ndarray) -> None:
        """District nursing and therapy referrals, plus step-up community hospital stays."""
        rng, p, tl = self.rng, self.p, self.tl
        band = p.band[dchs_person]
        rate = REFERRAL_RATE[band] * np.where(is_dup, 0.3, 1.0)
        k = rng.poisson(rate * tl.years)
        rec = np.repeat(np.arange(dchs_person.shape[0]), k)
        person = dchs_person[rec]
        R = rec.shape[0]
        lo = np.maximum(tl.start, p.dob[person])
        received = uniform_days(rng, lo, tl.end)
        dn = rng.random(R) < P_DISTRICT_NURSING[p.band[person]]
        crisis = ~dn & (rng.random(R) < 0.05) & (p.band[person] >= 3)
        team = np.where(dn, "DN", np.where(crisis, "51", "TH")).astype(object)
        dur = np.where(
            dn, np.exp(rng.normal(np.log(40), 1.0, R)),
            np.where(crisis, rng.integers(1, 6, R), np.exp(rng.normal(np.log(30), 0.7, R))),
        ).astype(np.int64) + 1  # fmt: skip
        end = received + dur
        source = pick(
            rng,
            ["A1", "B1", "B2", "C1", "P1", "H1", "H2", "A3"],
            [0.45, 0.08, 0.04, 0.05, 0.18, 0.06, 0.1, 0.04],
            R,
        )
        priority = np.where(crisis, "2", pick(rng, ["1", "2", "3"], [0.76, 0.22, 0.02], R)).astype(
            object
        )
        self.ref.add(
            R, rec=rec, received=received, end=end, source=source, priority=priority, team=team
        )
        # step-up admissions to a community hospital
        old = dchs_person[~is_dup]
        k2 = rng.poisson(STEP_UP_RATE[p.band[old]] * tl.years)
        who = np.repeat(old, k2)
        if who.size:
            self.step_up(who, uniform_days(rng, tl.start, tl.end, who.size))


#: Contact intervals (mean days between contacts) by team, and DN/TH settings.
CONTACT_INTERVAL = {"DN": 3.5, "TH": 7.0, "51": 1.0, "52": 1.6, "53": 2.2, "54": 3.0}


def contacts(
    rng: np.random.Generator, ref: dict[str, np.ndarray], last_day: np.ndarray
) -> dict[str, np.ndarray]:
    """Care contacts for referrals: ``last_day`` is the last day each referral can have one."""
    team = ref["team"]
    interval = np.ones(team.shape[0])
    for t, v in CONTACT_INTERVAL.items():
        interval[team == t] = v
    span = np.maximum(last_day - ref["received"] + 1, 1)
    k = 1 + rng.poisson(np.maximum(span - 1, 0) / interval)
    k = np.where(last_day < ref["received"], 0, k)
    idx = np.repeat(np.arange(team.shape[0]), k)
    n = idx.size
    day = ref["received"][idx] + (rng.random(n) * span[idx]).astype(np.int64)
    order = np.lexsort((day, idx))
    idx, day = idx[order], day[order]
    t = team[idx]
    dn = t == "DN"
    th = t == "TH"
    att = pick(rng, ["5", "6", "7", "2", "4", "3"], [0.875, 0.02, 0.005, 0.04, 0.035, 0.025], n)
    seen = (att == "5") | (att == "6")
    minutes = np.where(
        dn, rng.gamma(3, 9, n), np.where(th, rng.gamma(4, 11, n), rng.gamma(3, 12, n))
    )
    minutes = np.where(seen, np.clip(np.round(minutes / 5) * 5, 5, 180), -1).astype(np.int64)
    mech_u = rng.random(n)
    mech = np.where(th, np.select([mech_u < 0.7, mech_u < 0.95], ["01", "02"], "11"),
                    np.where(mech_u < 0.94, "01", "02")).astype(object)  # fmt: skip
    loc_u = rng.random(n)
    loc = np.where(dn, np.select([loc_u < 0.88, loc_u < 0.97], ["A01", "B01"], "A03"),
                   np.where(th, np.select([loc_u < 0.5, loc_u < 0.95], ["A01", "B01"], "E01"), "A01")).astype(object)  # fmt: skip
    loc = np.where(mech == "01", loc, "X01").astype(object)
    return {"ref": idx, "day": day, "minutes": minutes, "mech": mech, "loc": loc, "att": att}
