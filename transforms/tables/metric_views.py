"""The measure views (one per measure, ``shared_care.v_metric_<measure_id>``) and the
trend view over every night: their SQL and what their columns hold.

Plain CTE SQL that runs on DuckDB and PostgreSQL; :mod:`transforms.tables.dictionary`
writes it to ``sql/views`` and ``ensure_schema`` runs it after the DDL.
"""

from __future__ import annotations

from transforms.tables.generated import GENERATED
from transforms.tables.measure_catalogue import MEASURES, Measure

#: Columns every measure view has, in order.
VIEW_COLUMNS: dict[str, str] = {
    "measure_id": "Measure identifier.",
    "measure_name": "Measure name.",
    "unit": "proportion, per_100k or days.",
    "period_type": "quarter, financial_year or snapshot (from the period's length).",
    "period_start": "First day of the period.",
    "period_end": "Last day of the period.",
    "breakdown": "'all' or dimension:value.",
    "breakdown_dimension": "The part before ':' ('all' for all).",
    "breakdown_value": "The part after ':' ('all' for all).",
    "numerator": "Numerator.",
    "denominator": "Denominator.",
    "value": "The measure in its unit.",
    "percent": "100 x value for proportions, else empty.",
    "status": "final, provisional, pending, partial_history or no_population.",
    "definition_version": "Definition version.",
    "as_of": "Night the data is as of.",
}

#: The trend view over shared_care.metric_history: every measure, every night.
HISTORY_VIEW = "shared_care.v_metric_history"
HISTORY_VIEW_COLUMNS: dict[str, str] = {
    **VIEW_COLUMNS,
    "as_of": "Night the figures are as of (one value per night published).",
    "run_id": "Run that published the night.",
}


def view_sql(measure: Measure) -> str:
    """``create or replace view`` for one measure (DuckDB and PostgreSQL)."""
    percent = "100 * value" if measure.unit == "proportion" else "cast(null as double precision)"
    return f"""-- {GENERATED}.
-- {measure.name}
-- Unit: {measure.unit}. One row per period and breakdown of shared_care.metric.
create or replace view {measure.view} as
with measure_rows as (
    select
        measure_id,
        measure_name,
        period_start,
        period_end,
        breakdown,
        numerator,
        denominator,
        value,
        status,
        definition_version,
        as_of
    from shared_care.metric
    where measure_id = '{measure.measure_id}'
),
labelled as (
    select
        r.*,
        cast(r.period_end - r.period_start as integer) as period_days,
        position(':' in r.breakdown) as colon
    from measure_rows r
)
select
    measure_id,
    measure_name,
    cast('{measure.unit}' as varchar) as unit,
    case
        when period_days = 0 then 'snapshot'
        when period_days between 89 and 91 then 'quarter'
        when period_days between 364 and 365 then 'financial_year'
        else 'other'
    end as period_type,
    period_start,
    period_end,
    breakdown,
    case when colon = 0 then breakdown else substr(breakdown, 1, colon - 1) end
        as breakdown_dimension,
    case when colon = 0 then breakdown else substr(breakdown, colon + 1) end
        as breakdown_value,
    numerator,
    denominator,
    value,
    {percent} as percent,
    status,
    definition_version,
    as_of
from labelled;
"""


def history_view_sql() -> str:
    """``create or replace view`` of the trend view: the measure views' columns over
    every night of ``shared_care.metric_history``, plus ``run_id``."""
    units = "\n".join(f"            when '{m.measure_id}' then '{m.unit}'" for m in MEASURES)
    return f"""-- {GENERATED}.
-- Every measure, every night published: the trend behind the measure views.
-- One row per night (as_of), measure, period and breakdown of shared_care.metric_history.
create or replace view {HISTORY_VIEW} as
with history_rows as (
    select
        measure_id,
        measure_name,
        period_start,
        period_end,
        breakdown,
        numerator,
        denominator,
        value,
        status,
        definition_version,
        as_of,
        run_id
    from shared_care.metric_history
),
labelled as (
    select
        r.*,
        cast(
            case r.measure_id
{units}
            end as varchar
        ) as unit,
        cast(r.period_end - r.period_start as integer) as period_days,
        position(':' in r.breakdown) as colon
    from history_rows r
)
select
    measure_id,
    measure_name,
    unit,
    case
        when period_days = 0 then 'snapshot'
        when period_days between 89 and 91 then 'quarter'
        when period_days between 364 and 365 then 'financial_year'
        else 'other'
    end as period_type,
    period_start,
    period_end,
    breakdown,
    case when colon = 0 then breakdown else substr(breakdown, 1, colon - 1) end
        as breakdown_dimension,
    case when colon = 0 then breakdown else substr(breakdown, colon + 1) end
        as breakdown_value,
    numerator,
    denominator,
    value,
    case when unit = 'proportion' then 100 * value else cast(null as double precision) end
        as percent,
    status,
    definition_version,
    as_of,
    run_id
from labelled;
"""


#: File of the trend view in sql/views (beside one file per measure).
HISTORY_VIEW_FILE = "metric_history.sql"


def view_files() -> dict[str, str]:
    files = {f"{m.measure_id}.sql": view_sql(m) for m in MEASURES}
    files[HISTORY_VIEW_FILE] = history_view_sql()
    return files


def view_column_docs(measure: Measure) -> dict[str, str]:
    """The measure view's columns and their comments (``value`` names its unit)."""
    docs = dict(VIEW_COLUMNS)
    docs["value"] = f"{docs['value'].rstrip('.')} ({measure.unit})."
    return docs
