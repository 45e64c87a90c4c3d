"""An independent two-file linkage benchmark: generator and scorer.

    python bench/two_file_benchmark.py [--people 5000] [--overlap 0.6] [--seed 1]
                                       [--out DIR] [--threshold T]

Independent of ``transforms.synthetic``: its own name lists, addresses and error
model, so the linkage model is not scored on the generator it was tuned on. Two files
(CLI format: ``record_id, nhs_number, given_name, family_name, date_of_birth, sex,
postcode, address``) of ``--people`` people each, ``--overlap`` of them in both, no
shared identifier (no NHS numbers), no duplicates within a file. Every record of the
RIGHT file is a corrupted copy of its person:

* names: keyboard typos (neighbour key, drop, double, transpose) 8%, nicknames 4%,
  family-name change (marriage) 2%, given/family swapped 1%, hyphenated / second
  family name 1%;
* date of birth: day/month swap 1.5%, one-digit typo 2%, missing 1%;
* address: moved house 8% (half within the same postcode district), house-number typo
  2%, postcode typo 2%, postcode missing 2%, street-type abbreviated (Rd/St/Ave) 20%;
* sex missing 2%.

The LEFT file has lighter errors (a quarter of those rates). Households: 6% of people
live with a spouse (same family name and address), 1% are twin pairs (same family
name, date of birth and address). Records are shuffled and get unrelated ids.

The scorer runs the real command path (standardise, pseudonymise, train, predict,
one-to-one) via :func:`transforms.two_file.command.link_files` and reports precision, recall
and F1 of the one-to-one links against the truth at the model's own threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GIVEN_M = (
    "JAMES JOHN ROBERT MICHAEL WILLIAM DAVID RICHARD JOSEPH THOMAS CHARLES CHRISTOPHER "
    "DANIEL MATTHEW ANTHONY MARK DONALD STEVEN PAUL ANDREW JOSHUA KENNETH KEVIN BRIAN "
    "GEORGE TIMOTHY RONALD EDWARD JASON JEFFREY RYAN JACOB GARY NICHOLAS ERIC JONATHAN "
    "STEPHEN LARRY JUSTIN SCOTT BRANDON BENJAMIN SAMUEL GREGORY ALEXANDER FRANK PATRICK "
    "RAYMOND JACK DENNIS JERRY TYLER AARON HENRY ADAM DOUGLAS NATHAN PETER ZACHARY KYLE "
    "WALTER HAROLD JEREMY ETHAN CARL KEITH ROGER GERALD CHRISTIAN TERRY SEAN ARTHUR AUSTIN "
    "NOAH LAWRENCE JESSE JOE BRYAN BILLY JORDAN ALBERT DYLAN BRUCE WILLIE GABRIEL ALAN "
    "JUAN LOGAN WAYNE RALPH ROY EUGENE RANDY VINCENT RUSSELL LOUIS PHILIP BOBBY JOHNNY "
    "BRADLEY OLIVER HARRY LEO OSCAR ARCHIE ALFIE FREDDIE STANLEY REGINALD CYRIL NORMAN "
    "LEONARD ERNEST SIDNEY HERBERT BERNARD GRAHAM NIGEL TREVOR MALCOLM COLIN DEREK"
).split()
GIVEN_F = (
    "MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN NANCY LISA "
    "BETTY MARGARET SANDRA ASHLEY KIMBERLY EMILY DONNA MICHELLE DOROTHY CAROL AMANDA "
    "MELISSA DEBORAH STEPHANIE REBECCA SHARON LAURA CYNTHIA KATHLEEN AMY SHIRLEY ANGELA "
    "HELEN ANNA BRENDA PAMELA NICOLE EMMA SAMANTHA KATHERINE CHRISTINE DEBRA RACHEL "
    "CATHERINE CAROLYN JANET RUTH MARIA HEATHER DIANE VIRGINIA JULIE JOYCE VICTORIA OLIVIA "
    "KELLY CHRISTINA LAUREN JOAN EVELYN JUDITH MEGAN CHERYL ANDREA HANNAH MARTHA JACQUELINE "
    "FRANCES GLORIA ANN TERESA KATHRYN SARA JANICE JEAN ALICE MADISON DORIS ABIGAIL JULIA "
    "JUDY GRACE DENISE AMBER MARILYN BEVERLY DANIELLE THERESA SOPHIA MARIE DIANA BRITTANY "
    "NATALIE ISABELLA CHARLOTTE ROSE ALEXIS KAYLA AMELIA ISLA POPPY FREYA EDITH GLADYS "
    "MAVIS IRENE VERA PHYLLIS HILDA WINIFRED AGNES MURIEL JOAN ELSIE"
).split()
FAMILY = (
    "SMITH JONES TAYLOR BROWN WILLIAMS WILSON JOHNSON DAVIES ROBINSON WRIGHT THOMPSON "
    "EVANS WALKER WHITE ROBERTS GREEN HALL WOOD JACKSON CLARKE PATEL KHAN LEWIS JAMES "
    "PHILLIPS MASON MITCHELL ROSE DAVIS RODRIGUEZ COX ALEXANDER MORGAN MOORE MILLS KING "
    "ADAMS GARCIA WHITE HARRIS MARTIN COOPER WARD TURNER PARKER MORRIS BAKER HUGHES HILL "
    "EDWARDS COLLINS STEWART MURPHY COOK ROGERS MORRIS BELL BAILEY RICHARDSON COOPER HOWARD "
    "WATSON BROOKS KELLY SANDERS PRICE BENNETT BARNES ROSS HENDERSON COLEMAN JENKINS PERRY "
    "POWELL LONG PATTERSON HUGHES FLORES WASHINGTON BUTLER SIMMONS FOSTER GONZALES BRYANT "
    "RUSSELL GRIFFIN HAYES MYERS FORD HAMILTON GRAHAM SULLIVAN WALLACE WOODS COLE WEST "
    "JORDAN OWENS REYNOLDS FISHER ELLIS HARRISON GIBSON MCDONALD CRUZ MARSHALL ORTIZ GOMEZ "
    "MURRAY FREEMAN WELLS WEBB SIMPSON STEVENS TUCKER PORTER HUNTER HICKS CRAWFORD HENRY "
    "BOYD MASON MORALES KENNEDY WARREN DIXON RAMOS REYES BURNS GORDON SHAW HOLMES RICE "
    "ROBERTSON HUNT BLACK DANIELS PALMER MILLS NICHOLS GRANT KNIGHT FERGUSON STONE HAWKINS "
    "DUNN PERKINS HUDSON SPENCER GARDNER STEPHENS PAYNE PIERCE BERRY MATTHEWS ARNOLD WAGNER "
    "WILLIS RAY WATKINS OLSON CARROLL DUNCAN SNYDER HART CUNNINGHAM BRADLEY LANE ANDREWS "
    "RUIZ HARPER FOX RILEY ARMSTRONG CARPENTER WEAVER GREENE LAWRENCE ELLIOTT CHAVEZ SIMS "
    "AUSTIN PETERS KELLEY FRANKLIN LAWSON FIELDS ASHWORTH BRADSHAW HOLLINGWORTH "
    "FEATHERSTONE GREATOREX WAINWRIGHT BROCKLEHURST SIDDALL BUXTON MELLOR HADFIELD"
).split()
NICK = {
    "WILLIAM": ["BILL", "WILL", "BILLY"], "ROBERT": ["BOB", "ROB", "BOBBY"],
    "RICHARD": ["DICK", "RICK", "RICHIE"], "JAMES": ["JIM", "JIMMY", "JAMIE"],
    "JOHN": ["JACK", "JOHNNY"], "MARGARET": ["MAGGIE", "PEGGY", "MEG"],
    "ELIZABETH": ["LIZ", "BETH", "BETTY", "LIZZIE"], "KATHERINE": ["KATE", "KATIE", "KATHY"],
    "CATHERINE": ["CATH", "CATHY", "KATE"], "THOMAS": ["TOM", "TOMMY"],
    "MICHAEL": ["MIKE", "MICK"], "CHRISTOPHER": ["CHRIS"], "ANTHONY": ["TONY"],
    "EDWARD": ["TED", "ED", "EDDIE"], "SUSAN": ["SUE", "SUSIE"], "PATRICIA": ["PAT", "TRISH"],
    "DANIEL": ["DAN", "DANNY"], "SAMUEL": ["SAM"], "ALEXANDER": ["ALEX"],
    "REBECCA": ["BECKY"], "DEBORAH": ["DEBBIE", "DEB"], "JENNIFER": ["JENNY", "JEN"],
    "STEPHEN": ["STEVE"], "STEVEN": ["STEVE"], "PETER": ["PETE"], "HENRY": ["HARRY"],
    "FREDERICK": ["FRED"], "DOROTHY": ["DOT", "DOLLY"], "PAMELA": ["PAM"],
    "KENNETH": ["KEN", "KENNY"], "GERALD": ["GERRY"], "NICHOLAS": ["NICK"],
    "ANDREW": ["ANDY", "DREW"], "JOSEPH": ["JOE"], "BENJAMIN": ["BEN"], "ABIGAIL": ["ABBY"],
}  # fmt: skip
STREETS = (
    "OAK MILL CHURCH STATION HIGH PARK MANOR CHAPEL SCHOOL VICTORIA QUEEN KING ALBERT "
    "GROVE MEADOW ASH BEECH ELM WILLOW CEDAR HAWTHORN CHESTNUT MAPLE BIRCH HOLLY ORCHARD "
    "BRIDGE MARKET WELL SPRING GREEN HILL VALE RIDGE DALE FIELD BROOK RIVER CASTLE ABBEY"
).split()
STREET_TYPES = {"ROAD": "RD", "STREET": "ST", "AVENUE": "AVE", "LANE": "LN", "CLOSE": "CL",
                "DRIVE": "DR", "CRESCENT": "CRES", "WAY": "WAY"}  # fmt: skip
TOWNS = ["DE1", "DE3", "DE4", "DE5", "DE6", "DE7", "DE11", "DE21", "DE22", "DE24", "DE45",
         "DE55", "DE56", "DE65", "DE72", "DE73", "DE74", "DE75", "S18", "S40", "S41", "S42",
         "S43", "S44", "S45", "SK13", "SK17", "SK22", "SK23", "NG10", "NG16"]  # fmt: skip
KEYBOARD = ["QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]


def _neighbours() -> dict[str, str]:
    pos = {c: (r, i) for r, row in enumerate(KEYBOARD) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in pos.items():
        near = [
            d
            for d, (r2, i2) in pos.items()
            if d != c and abs(r2 - r) <= 1 and abs(i2 - i + (r2 - r) * 0.5) <= 1
        ]
        out[c] = "".join(near)
    return out


NEAR = _neighbours()


def zipf_choice(rng, items: list[str], n: int, a: float = 1.1) -> np.ndarray:
    w = 1 / np.arange(1, len(items) + 1) ** a
    return rng.choice(np.asarray(items, dtype=object), n, p=w / w.sum())


def typo(rng, s: str) -> str:
    if not s or len(s) < 3:
        return s
    i = int(rng.integers(1, len(s)))
    kind = rng.integers(4)
    c = s[i]
    if kind == 0 and c in NEAR and NEAR[c]:
        return s[:i] + NEAR[c][rng.integers(len(NEAR[c]))] + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i + 1 :]
    if kind == 2:
        return s[:i] + c + s[i:]
    if i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + s[i] + s[i:]


def make_people(rng, n: int) -> pd.DataFrame:
    sex = rng.choice(np.array(["M", "F"]), n)
    given = np.where(
        sex == "M", zipf_choice(rng, GIVEN_M, n, 0.9), zipf_choice(rng, GIVEN_F, n, 0.9)
    )
    family = zipf_choice(rng, FAMILY, n, 0.8)
    dob = pd.Timestamp("1925-01-01") + pd.to_timedelta(rng.integers(0, 365 * 85, n), unit="D")
    district = zipf_choice(rng, TOWNS, n, 0.5)
    sector = rng.integers(1, 9, n)
    unit = [
        f"{rng.integers(1, 9)}{chr(65 + rng.integers(0, 26))}{chr(65 + rng.integers(0, 26))}"
        for _ in range(n)
    ]
    street = zipf_choice(rng, STREETS, n, 0.3)
    stype = rng.choice(np.asarray(list(STREET_TYPES), dtype=object), n)
    number = rng.integers(1, 180, n)
    df = pd.DataFrame({
        "given_name": given, "family_name": family, "dob": dob, "sex": sex,
        "postcode": [f"{d} {s}{u[1:]}" for d, s, u in zip(district, sector, unit, strict=True)],
        "address": [f"{k} {s} {t}" for k, s, t in zip(number, street, stype, strict=True)],
    })  # fmt: skip
    # households: spouses (same family name + address) and twins (+ same dob)
    idx = rng.permutation(n)
    n_sp, n_tw = int(0.03 * n), int(0.005 * n)
    a, b = idx[:n_sp], idx[n_sp : 2 * n_sp]
    df.loc[b, ["family_name", "postcode", "address"]] = df.loc[
        a, ["family_name", "postcode", "address"]
    ].to_numpy()
    a2, b2 = idx[2 * n_sp : 2 * n_sp + n_tw], idx[2 * n_sp + n_tw : 2 * n_sp + 2 * n_tw]
    cols = ["family_name", "postcode", "address", "dob"]
    df.loc[b2, cols] = df.loc[a2, cols].to_numpy()
    same = df.loc[b2, "given_name"].to_numpy() == df.loc[a2, "given_name"].to_numpy()
    df.loc[b2[same], "given_name"] = [
        (GIVEN_M if s == "M" else GIVEN_F)[(i * 7 + 3) % 90]
        for i, s in enumerate(df.loc[b2[same], "sex"])
    ]
    df["person_id"] = [f"Q{i:07d}" for i in range(n)]
    return df


def corrupt(rng, people: pd.DataFrame, scale: float) -> pd.DataFrame:
    df = people.copy()
    n = len(df)

    def hit(rate: float) -> np.ndarray:
        return rng.random(n) < rate * scale

    g, f = df["given_name"].to_numpy(dtype=object), df["family_name"].to_numpy(dtype=object)
    for i in np.flatnonzero(hit(0.04)):
        if g[i] in NICK:
            g[i] = NICK[g[i]][rng.integers(len(NICK[g[i]]))]
    for i in np.flatnonzero(hit(0.04)):
        g[i] = typo(rng, g[i])
    for i in np.flatnonzero(hit(0.04)):
        f[i] = typo(rng, f[i])
    for i in np.flatnonzero(hit(0.02) & (df["sex"].to_numpy() == "F")):
        f[i] = FAMILY[rng.integers(len(FAMILY))]
    for i in np.flatnonzero(hit(0.01)):
        f[i] = f"{f[i]}-{FAMILY[rng.integers(len(FAMILY))]}"
    swap = hit(0.01)
    g2, f2 = g.copy(), f.copy()
    g2[swap], f2[swap] = f[swap], g[swap]
    df["given_name"], df["family_name"] = g2, f2

    dob = df["dob"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    for i in np.flatnonzero(hit(0.015)):
        y, m, d = dob[i].split("-")
        if int(d) <= 12:
            dob[i] = f"{y}-{d}-{m}"
    for i in np.flatnonzero(hit(0.02)):
        s = list(dob[i])
        p = [2, 3, 6, 8, 9][rng.integers(5)]
        s[p] = str((int(s[p]) + 1 + rng.integers(8)) % 10)
        cand = "".join(s)
        try:
            pd.Timestamp(cand)
            dob[i] = cand
        except ValueError:
            pass
    dob[hit(0.01)] = None
    df["date_of_birth"] = dob

    pc, ad = df["postcode"].to_numpy(dtype=object), df["address"].to_numpy(dtype=object)
    for i in np.flatnonzero(hit(0.08)):
        district = pc[i].split(" ")[0] if rng.random() < 0.5 else TOWNS[rng.integers(len(TOWNS))]
        pc[i] = (
            f"{district} {rng.integers(1, 9)}{chr(65 + rng.integers(26))}{chr(65 + rng.integers(26))}"
        )
        street = STREETS[rng.integers(len(STREETS))]
        ad[i] = (
            f"{rng.integers(1, 180)} {street} {list(STREET_TYPES)[rng.integers(len(STREET_TYPES))]}"
        )
    for i in np.flatnonzero(hit(0.02)):
        num, rest = ad[i].split(" ", 1)
        ad[i] = f"{int(num) + 1 + rng.integers(9)} {rest}"
    for i in np.flatnonzero(hit(0.02)):
        pc[i] = (
            typo(rng, pc[i].replace(" ", ""))
            if rng.random() < 0.5
            else pc[i][:-1] + chr(65 + rng.integers(26))
        )
    pc[hit(0.02)] = None
    for i in np.flatnonzero(rng.random(n) < 0.2):
        parts = ad[i].rsplit(" ", 1)
        if len(parts) == 2 and parts[1] in STREET_TYPES:
            ad[i] = f"{parts[0]} {STREET_TYPES[parts[1]].title()}"
    df["postcode"], df["address"] = pc, ad
    sex = df["sex"].to_numpy(dtype=object)
    sex[hit(0.02)] = None
    df["sex"] = sex
    # presentation: mixed case
    df["given_name"] = [
        x.title() if isinstance(x, str) and rng.random() < 0.7 else x for x in df["given_name"]
    ]
    df["family_name"] = [
        x.title() if isinstance(x, str) and rng.random() < 0.7 else x for x in df["family_name"]
    ]
    return df


def generate(n: int, overlap: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(left, right, truth) with truth = record_id_l, record_id_r of true pairs."""
    rng = np.random.default_rng(seed)
    shared = int(n * overlap)
    pop = make_people(rng, 2 * n - shared)
    left_people = pop.iloc[:n]
    right_people = pop.iloc[n - shared :]
    out = []
    for side, ppl, scale in (("L", left_people, 0.25), ("R", right_people, 1.0)):
        df = corrupt(rng, ppl.reset_index(drop=True), scale).sample(frac=1, random_state=seed)
        df["record_id"] = [f"{side}{i:06d}" for i in rng.permutation(len(df))]
        df["nhs_number"] = None
        out.append(df)
    left, right = out
    truth = left[["record_id", "person_id"]].merge(
        right[["record_id", "person_id"]], on="person_id", suffixes=("_l", "_r")
    )[["record_id_l", "record_id_r"]]
    cols = [
        "record_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "sex",
        "postcode",
        "address",
    ]
    return left[cols].reset_index(drop=True), right[cols].reset_index(drop=True), truth


def score(links: pd.DataFrame, truth: pd.DataFrame) -> dict:
    got = set(zip(links["record_id_l"], links["record_id_r"], strict=True))
    want = set(zip(truth["record_id_l"], truth["record_id_r"], strict=True))
    tp = len(got & want)
    p = tp / len(got) if got else 1.0
    r = tp / len(want) if want else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "fp": len(got - want), "fn": len(want - got)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description="Independent two-file linkage benchmark")
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--overlap", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args()
    from transforms.config import LinkSettings
    from transforms.keys import key_from_material
    from transforms.two_file.command import link_files

    out = args.out or Path(tempfile.mkdtemp(prefix="two_file_bench_"))
    out.mkdir(parents=True, exist_ok=True)
    left, right, truth = generate(args.people, args.overlap, args.seed)
    left.to_csv(out / "left.csv", index=False)
    right.to_csv(out / "right.csv", index=False)
    truth.to_parquet(out / "truth.parquet", index=False)
    key = key_from_material(os.urandom(32).hex())  # a key of the run's own, never kept
    t0 = time.perf_counter()
    links, scored, _ = link_files(
        left,
        right,
        key,
        link_settings=LinkSettings.from_env(),
        threshold=args.threshold,
        model_out=out / "model.json",
    )
    elapsed = time.perf_counter() - t0
    links.to_parquet(out / "links.parquet", index=False)
    m = score(links, truth)
    m |= {"people_per_file": args.people, "true_pairs": len(truth), "seconds": round(elapsed, 1)}
    (out / "score.json").write_text(json.dumps(m, indent=2))
    print(
        f"two-file benchmark ({args.people:,} per file, {len(truth):,} true pairs, seed {args.seed}): "
        f"P={m['precision']:.5f} R={m['recall']:.5f} F1={m['f1']:.5f} "
        f"(tp={m['tp']} fp={m['fp']} fn={m['fn']}) in {elapsed:.1f}s -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
