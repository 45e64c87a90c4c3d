"""The data dictionary and the other generated files, written from the definitions.

    python -m transforms.tables.dictionary           # (re)write the generated files
    python -m transforms.tables.dictionary --check   # exit 1 if any is out of date

Generated files (never edit them by hand; change the definitions in
:mod:`transforms.tables.measure_rules`, :mod:`transforms.tables.measure_catalogue`,
:mod:`transforms.tables.survivorship`, :mod:`transforms.tables.table_docs` or
:mod:`transforms.tables.metric_views`):

* ``docs/data_dictionary.md`` - every measure, parameter, survivorship rule, table and
  column;
* ``sql/views/<measure_id>.sql`` - one view per measure, ``shared_care.v_metric_<id>``,
  and ``sql/views/metric_history.sql``, the trend view over every night
  (:mod:`transforms.tables.metric_views`);
* ``sql/postgres/comments.sql`` - the COMMENT ON statements of
  :mod:`transforms.tables.warehouse_comments`, for a DBA to run by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from transforms.tables import measure_rules
from transforms.tables.ddl_columns import ddl_columns
from transforms.tables.generated import (
    COMMENTS_PATH,
    DICTIONARY_PATH,
    GENERATED,
    ROOT,
    VIEWS_DIR,
)
from transforms.tables.measure_catalogue import MEASURES, Measure
from transforms.tables.metric_views import (
    HISTORY_VIEW,
    HISTORY_VIEW_COLUMNS,
    HISTORY_VIEW_FILE,
    VIEW_COLUMNS,
    view_files,
)
from transforms.tables.survivorship import CONFLICT_ATTRIBUTES, SURVIVORSHIP
from transforms.tables.table_docs import TABLES
from transforms.tables.warehouse_comments import comment_statements

#: The rule constants the dictionary's parameter table lists, in its order.
PARAMETERS = (
    "STILL_AT_HOME_DAYS", "ASCOF_2D_FOLLOW_UP_DAYS", "REHAB_CLUSTER_GAP_DAYS",
    "DISCHARGE_BEFORE_DAYS", "DISCHARGE_AFTER_DAYS", "PATHWAY2_MAX_GAP_DAYS",
    "CARE_HOME_AFTER_BED_DAYS", "INFERRED_ACUTE_LOS_DAYS", "ACUTE_STAY_MAX_DAYS",
    "LATE_RECORDING_DAYS", "NEW_ADMISSION_LOOKBACK_DAYS", "HOME_REHAB_CATEGORIES",
    "LONG_TERM_CARE_HOME_CATEGORIES", "CARE_HOME_DESTINATIONS",
    "NOT_COMMUNITY_DESTINATIONS",
)  # fmt: skip


def comments_sql() -> str:
    body = ";\n".join(comment_statements()) + ";\n"
    return f"-- {GENERATED}.\n-- Run after sql/ddl and sql/views (PostgreSQL).\n{body}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    lines = [
        *_conventions(),
        *_measures(),
        *_parameters(),
        *_survivorship(),
        *_tables(),
        *_views(),
    ]
    return "\n".join(lines)


def _conventions() -> list[str]:
    return [
        "# Data dictionary",
        "",
        f"<!-- {GENERATED}. Do not edit. -->",
        "",
        f"Definitions version **{measure_rules.DEFINITIONS_VERSION}**. Generated from "
        "`transforms/tables/` (`measure_rules.py`, `measure_catalogue.py`, `survivorship.py`, "
        "`table_docs.py`, `metric_views.py`); the dashboard views (`sql/views/`) and the "
        "PostgreSQL column comments come from the same definitions.",
        "",
        "## Conventions",
        "",
        "- **as_of**: the night the data is as of. Sources hold activity before that date.",
        "- **Periods**: calendar quarters (Jan-Mar, Apr-Jun, ...), financial years "
        "(1 April - 31 March), or a snapshot (period_start = period_end = as_of). A period "
        "is assigned by the date named in each measure (discharge date, episode end, "
        "service start).",
        "- **Breakdown**: `all`, or `dimension:value`.",
        "- **Units**:",
        *[f"  - `{u}`: {t}" for u, t in measure_rules.UNITS.items()],
        "- **Status**:",
        *[f"  - `{s}`: {t}" for s, t in measure_rules.STATUS.items()],
        "- **Definition version**: every metric row records the version of its measure's "
        "definition; a change of logic bumps it.",
        "- Counts are not suppressed in the warehouse; apply small-number disclosure "
        "control where figures leave the partnership.",
        "",
    ]


def _measures() -> list[str]:
    lines = [
        "## Measures",
        "",
        "| measure_id | name | unit | periods | view |",
        "|---|---|---|---|---|",
    ]
    for m in MEASURES:
        lines.append(
            f"| `{m.measure_id}` | {_md_escape(m.name)} | {m.unit} | "
            f"{', '.join(m.periods)} | `{m.view}` |"
        )
    for m in MEASURES:
        lines += _measure_section(m)
    return lines


def _measure_section(m: Measure) -> list[str]:
    lines = [
        "",
        f"### `{m.measure_id}` - {m.name}",
        "",
        m.summary,
        "",
        f"- **Version**: {m.version}",
        f"- **Unit**: {m.unit}",
        f"- **Periods**: {', '.join(m.periods)}",
        f"- **Numerator**: {m.numerator}",
        f"- **Denominator**: {m.denominator}",
        "- **Breakdowns**: " + "; ".join(f"`{b}`" for b in m.breakdowns),
        f"- **View**: `{m.view}`",
    ]
    if m.rules:
        lines += ["", "Rules:", ""]
        lines += [f"{i}. {r}" for i, r in enumerate(m.rules, 1)]
    if m.reference:
        lines += ["", f"Reference: {m.reference}"]
    if m.caveats:
        lines += ["", "Caveats:", ""]
        lines += [f"- {c}" for c in m.caveats]
    return lines


def _parameters() -> list[str]:
    lines = [
        "",
        "## Parameters",
        "",
        "| name | value |",
        "|---|---|",
    ]
    for name in PARAMETERS:
        lines.append(f"| `{name}` | `{_md_escape(repr(getattr(measure_rules, name)))}` |")
    return [*lines, "", f"Population: {measure_rules.POPULATION_NOTE}"]


def _survivorship() -> list[str]:
    return [
        "",
        "## Person: survivorship rules",
        "",
        "| attribute | rule |",
        "|---|---|",
        *[f"| {a} | {_md_escape(r)} |" for a, r in SURVIVORSHIP.items()],
        "",
        "### Conflicts (`shared_care.person_conflict.attribute`)",
        "",
        "| attribute | recorded when |",
        "|---|---|",
        *[f"| `{a}` | {_md_escape(r)} |" for a, r in CONFLICT_ATTRIBUTES.items()],
    ]


def _tables() -> list[str]:
    ddl = ddl_columns()
    lines = ["", "## Tables"]
    for table in TABLES:
        types = dict(ddl.get(table.name, []))
        lines += [
            "",
            f"### `{table.name}`",
            "",
            table.description,
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        for col, text in table.columns.items():
            lines.append(f"| `{col}` | {types.get(col, '?')} | {_md_escape(text)} |")
    return lines


def _views() -> list[str]:
    return [
        "",
        "## Measure views",
        "",
        "Each measure has a view `shared_care.v_metric_<measure_id>` over "
        "`shared_care.metric` (`sql/views/<measure_id>.sql`) with these columns:",
        "",
        "| column | meaning |",
        "|---|---|",
        *[f"| `{c}` | {_md_escape(t)} |" for c, t in VIEW_COLUMNS.items()],
        "",
        "## Metric history view",
        "",
        f"`{HISTORY_VIEW}` (`sql/views/{HISTORY_VIEW_FILE}`) shows every measure for "
        "every night published, from `shared_care.metric_history`: one row per night "
        "(`as_of`), measure, period and breakdown. The measure views show the latest "
        "night only. Columns:",
        "",
        "| column | meaning |",
        "|---|---|",
        *[f"| `{c}` | {_md_escape(t)} |" for c, t in HISTORY_VIEW_COLUMNS.items()],
        "",
        "## Comments in the warehouse",
        "",
        "`transforms.tables.warehouse_comments.apply_comments(engine)` runs "
        "`comment_statements()` for every table, column and view that exists; call it "
        "after `ensure_schema` (PostgreSQL; DuckDB accepts it too). "
        "`sql/postgres/comments.sql` holds the same statements.",
        "",
    ]


def generated_files() -> dict[Path, str]:
    files = {DICTIONARY_PATH: render_markdown(), COMMENTS_PATH: comments_sql()}
    for name, sql in view_files().items():
        files[VIEWS_DIR / name] = sql
    return files


def stale_files() -> list[Path]:
    """Generated files missing or different on disk, and stray files in sql/views."""
    files = generated_files()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    stale += [p for p in VIEWS_DIR.glob("*.sql") if p not in files]
    return stale


def write_all() -> list[Path]:
    written = []
    for path, text in generated_files().items():
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m transforms.tables.dictionary")
    ap.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = ap.parse_args(argv)
    if args.check:
        stale = stale_files()
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for p in write_all():
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
