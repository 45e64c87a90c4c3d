"""Run the measures' SQL (``sql/measures/<measure_id>.sql``) on DuckDB or PostgreSQL.

Each file is one measure's logic and reads only what ``shared_care`` publishes -
``person``, ``care_event``, ``pathway2_stay`` - plus two relations this module provides:
``params`` (one row: ``as_of`` and the windows of :mod:`transforms.tables.measure_rules`)
and ``population`` (``district_code, district_name, in_county, age_band, population``).
A file returns ``period_start, period_end, breakdown, numerator, denominator, value,
status``.

A rule several measures share is defined once, in ``sql/measures/shared/<name>.sql`` (one
``select``, its CTEs and rule comments); the runner creates each as the temporary view
``<name>``, in :data:`SHARED` order, before it runs the measure files.

* :func:`run_duckdb` registers the build's frames in an in-memory DuckDB and runs every file;
* :func:`run_postgres` runs the same files over a warehouse's ``shared_care`` tables
  (``params`` and ``population`` as temporary tables, which shadow nothing).

Both return ``{measure_id: frame}``; :func:`transforms.tables.measures.compute_measures`
stamps the rows with the measure's name and definition version.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from transforms.tables import measure_rules
from transforms.tables.measure_catalogue import MEASURES

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "measures"
ROW_COLUMNS = [
    "period_start", "period_end", "breakdown", "numerator", "denominator", "value", "status",
]  # fmt: skip
POPULATION_COLUMNS = ["district_code", "district_name", "in_county", "age_band", "population"]
#: Tables a measure file may read from shared_care.
PUBLISHED = ("person", "care_event", "pathway2_stay")
SHARED_DIR = SQL_DIR / "shared"
#: The shared relations (``sql/measures/shared/<name>.sql``), each after those it reads.
SHARED = (
    "history", "deaths", "admission_signals", "hospital_discharges", "ascof_2d_cld",
    "ascof_2d_lts", "ascof_2d_eligible", "ascof_2d_candidates", "ascof_2bc_per_person",
    "ascof_2bc_rates", "pathway2_los_long",
)  # fmt: skip


def measure_file(measure_id: str) -> Path:
    return SQL_DIR / f"{measure_id}.sql"


def measure_sql(measure_id: str) -> str:
    return measure_file(measure_id).read_text(encoding="utf-8")


def shared_sql(name: str) -> str:
    return (SHARED_DIR / f"{name}.sql").read_text(encoding="utf-8")


def create_shared_views(con) -> None:
    """Create every shared relation as a temporary view on a DuckDB connection that already
    has the published tables, ``params`` and ``population``."""
    for name in SHARED:
        con.execute(f'create temp view "{name}" as {shared_sql(name)}')


def params_frame(as_of, *, has_population: bool) -> pd.DataFrame:
    """The one-row ``params`` relation: as_of and every window the files use."""
    row = {
        "as_of": pd.Timestamp(as_of).normalize(),
        "has_population": int(has_population),
        "still_at_home_days": measure_rules.STILL_AT_HOME_DAYS,
        "ascof_2d_follow_up_days": measure_rules.ASCOF_2D_FOLLOW_UP_DAYS,
        "cluster_gap_days": measure_rules.REHAB_CLUSTER_GAP_DAYS,
        "discharge_before_days": measure_rules.DISCHARGE_BEFORE_DAYS,
        "discharge_after_days": measure_rules.DISCHARGE_AFTER_DAYS,
        "acute_stay_max_days": measure_rules.ACUTE_STAY_MAX_DAYS,
        "inferred_acute_los_days": measure_rules.INFERRED_ACUTE_LOS_DAYS,
        "care_home_after_bed_days": measure_rules.CARE_HOME_AFTER_BED_DAYS,
        "late_recording_days": measure_rules.LATE_RECORDING_DAYS,
        "new_admission_lookback_days": measure_rules.NEW_ADMISSION_LOOKBACK_DAYS,
    }
    out = pd.DataFrame([row])
    ints = [c for c in out.columns if c != "as_of"]
    out[ints] = out[ints].astype("int32")  # date +/- integer is a date on both engines
    out["as_of"] = out["as_of"].dt.date
    return out


def population_frame(population: pd.DataFrame | None) -> pd.DataFrame:
    """``population`` in the relation's shape (empty when there is none)."""
    if population is None:
        return pd.DataFrame(
            {
                "district_code": pd.Series(dtype=object),
                "district_name": pd.Series(dtype=object),
                "in_county": pd.Series(dtype=bool),
                "age_band": pd.Series(dtype=object),
                "population": pd.Series(dtype=float),
            }
        )
    missing = [c for c in POPULATION_COLUMNS if c not in population.columns]
    if missing:
        raise ValueError(f"population lacks column(s) {missing}")
    out = population[POPULATION_COLUMNS].copy()
    out["in_county"] = out["in_county"].astype(bool)
    out["population"] = pd.to_numeric(out["population"]).astype(float)
    return out


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[ROW_COLUMNS].copy()
    for c in ("period_start", "period_end"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    for c in ("numerator", "denominator", "value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    for c in ("breakdown", "status"):
        out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def _register_dated(con, name: str, frame: pd.DataFrame) -> None:
    """Register ``frame`` as the view ``name``, its datetime columns as DATE (the warehouse
    type), so date arithmetic means days on both engines."""
    con.register(f"_{name}_frame", frame)
    dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    cols = ", ".join(
        f'cast("{c}" as date) as "{c}"' if c in dated else f'"{c}"' for c in frame.columns
    )
    con.execute(f'create view "{name}" as select {cols} from "_{name}_frame"')


def run_duckdb(
    tables: dict[str, pd.DataFrame],
    *,
    as_of,
    population: pd.DataFrame | None = None,
    measure_ids=None,
) -> dict[str, pd.DataFrame]:
    """Every measure file over ``tables`` (person, care_event, pathway2_stay), in DuckDB."""
    import duckdb

    con = duckdb.connect()
    try:
        for name in PUBLISHED:
            _register_dated(con, name, tables[name])
        con.register("params", params_frame(as_of, has_population=population is not None))
        con.register("population", population_frame(population))
        create_shared_views(con)
        out = {}
        for mid in measure_ids or [m.measure_id for m in MEASURES]:
            out[mid] = _tidy(con.execute(measure_sql(mid)).df())
        return out
    finally:
        con.close()


def run_postgres(
    engine,
    *,
    as_of,
    population: pd.DataFrame | None = None,
    measure_ids=None,
    schema: str = "shared_care",
) -> dict[str, pd.DataFrame]:
    """Every measure file over a PostgreSQL warehouse's published tables."""
    from sqlalchemy import text

    params = params_frame(as_of, has_population=population is not None)
    pop = population_frame(population)
    out = {}
    with engine.connect() as conn:
        conn.execute(text(f"set search_path to {schema}"))
        for name in reversed(SHARED):
            conn.execute(text(f"drop view if exists pg_temp.{name}"))
        conn.execute(text("drop table if exists pg_temp.params"))
        conn.execute(text("drop table if exists pg_temp.population"))
        cols = ", ".join(f"{c} {'date' if c == 'as_of' else 'integer'}" for c in params.columns)
        conn.execute(text(f"create temporary table params ({cols})"))
        conn.execute(
            text(f"insert into params values ({', '.join(':' + c for c in params.columns)})"),
            {k: getattr(v, "item", lambda v=v: v)() for k, v in params.iloc[0].items()},
        )
        conn.execute(
            text(
                "create temporary table population (district_code text, district_name text, "
                "in_county boolean, age_band text, population double precision)"
            )
        )
        if len(pop):
            conn.execute(
                text(
                    "insert into population values (:district_code, :district_name, "
                    ":in_county, :age_band, :population)"
                ),
                pop.to_dict("records"),
            )
        for name in SHARED:
            conn.execute(
                text(f"create temporary view {name} as {shared_sql(name)}".replace(":", "\\:"))
            )
        for mid in measure_ids or [m.measure_id for m in MEASURES]:
            result = conn.execute(text(measure_sql(mid).replace(":", "\\:")))
            out[mid] = _tidy(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
        conn.rollback()
    return out
