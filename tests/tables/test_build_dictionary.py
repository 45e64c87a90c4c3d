"""The data dictionary, views and comments are generated from the definitions and cannot
drift."""

from __future__ import annotations

from transforms.tables.ddl_columns import ddl_columns
from transforms.tables.dictionary import main, render_markdown, stale_files
from transforms.tables.generated import VIEWS_DIR
from transforms.tables.measure_catalogue import MEASURES, measure
from transforms.tables.measure_rules import POPULATION_NOTE
from transforms.tables.metric_views import VIEW_COLUMNS, history_view_sql, view_sql
from transforms.tables.survivorship import SURVIVORSHIP
from transforms.tables.table_docs import TABLE_BY_NAME, TABLES
from transforms.tables.warehouse_comments import comment_statements


def test_generated_files_are_up_to_date():
    stale = stale_files()
    assert not stale, f"run `python -m transforms.tables.dictionary`: stale {stale}"
    assert main(["--check"]) == 0


def test_every_warehouse_column_is_documented_and_nothing_else():
    ddl = ddl_columns()
    assert set(ddl) == {t.name for t in TABLES}, "a table without (or with stale) docs"
    for table in TABLES:
        assert list(table.columns) == [c for c, _ in ddl[table.name]], table.name
        assert all(text.strip() for text in table.columns.values()), table.name


def test_one_view_file_per_measure_and_the_trend_view():
    stems = {p.stem for p in VIEWS_DIR.glob("*.sql")}
    assert stems == {m.measure_id for m in MEASURES} | {"metric_history"}
    sql = view_sql(measure("still_at_home_91"))
    assert "create or replace view shared_care.v_metric_still_at_home_91 as" in sql
    assert "where measure_id = 'still_at_home_91'" in sql
    assert sql.count(";") == 1  # ensure_schema splits files on ';'


def test_comments_are_quoted_and_cover_every_column():
    statements = comment_statements()
    n_columns = sum(len(t.columns) for t in TABLES)
    n_view_columns = len(VIEW_COLUMNS) * len(MEASURES)
    assert len(statements) == (
        len(TABLES) + n_columns + len(MEASURES) + n_view_columns + 1  # + trend view
    )
    assert all(s.count("'") % 2 == 0 for s in statements)
    only = comment_statements({"shared_care.person": {"sex"}})
    assert only == [
        f"comment on table shared_care.person is '{TABLE_BY_NAME['shared_care.person'].description}'",
        "comment on column shared_care.person.sex is "
        "'M, F, X (other/indeterminate) or U (unknown): most recent known value.'",
    ]


def test_dictionary_names_every_measure_rule_and_parameter():
    text = render_markdown()
    for m in MEASURES:
        assert f"### `{m.measure_id}`" in text and m.view in text
    assert "still at home 91 days" in text.lower() and "survivorship rules" in text
    for rule in SURVIVORSHIP.values():
        assert rule.replace("|", "\\|") in text
    assert POPULATION_NOTE in text


def test_the_trend_view_reads_the_history_with_every_measure_unit():
    sql = history_view_sql()
    assert "create or replace view shared_care.v_metric_history as" in sql
    assert "from shared_care.metric_history" in sql and "run_id" in sql
    for m in MEASURES:
        assert f"when '{m.measure_id}' then '{m.unit}'" in sql
    assert sql.count(";") == 1  # ensure_schema splits files on ';'
    doc = TABLE_BY_NAME["shared_care.metric_history"]
    assert list(doc.columns) == [*TABLE_BY_NAME["shared_care.metric"].columns, "run_id"]
