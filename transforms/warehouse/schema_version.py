"""Apply the warehouse DDL only when it is not already in place.

``ensure_schema`` + ``apply_comments`` are idempotent, but running them every night is
not free: on DuckDB the ``create or replace view`` statements are a catalogue change,
and the first close after a full night's publish then checkpoints the whole file
(~5 s at 800,000 people, ``bench/README.md``). So the nightly prepare step applies them
only when the schema is not current:

* ``audit.schema_version`` holds the fingerprint of what was applied last: a hash of
  every file under ``sql/ddl`` and ``sql/views`` and of the data dictionary's COMMENT
  statements; and
* every table, column and measure view those files define exists.

On PostgreSQL the warehouse roles' grants (``sql/postgres/roles.sql``, part of the
fingerprint) are applied with the schema, as far as the pipeline's login may
(:func:`transforms.warehouse.roles.apply_grants` logs what it could not grant).

Any change to the DDL, the views or the dictionary changes the fingerprint, and a table
or view dropped by hand fails the second check: either way the DDL runs again.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from transforms.warehouse.db import SQL_DIR, ensure_schema, schema_files
from transforms.warehouse.roles import ROLES_SQL, apply_grants

log = logging.getLogger(__name__)


def schema_fingerprint() -> str:
    """A hash of the DDL, the measure views and the data dictionary's comments."""
    from transforms.tables.warehouse_comments import comment_statements

    digest = hashlib.sha256()
    for path in schema_files():
        digest.update(str(path.relative_to(SQL_DIR)).encode() + b"\0" + path.read_bytes())
    for statement in comment_statements():
        digest.update(statement.encode() + b"\0")
    digest.update(ROLES_SQL.read_bytes())  # a change of grants is applied like the DDL
    return digest.hexdigest()[:32]


def missing_objects(conn) -> list[str]:
    """Tables, columns, measure views and the trend view the DDL defines that the
    warehouse lacks."""
    from transforms.tables.ddl_columns import ddl_columns
    from transforms.tables.measure_catalogue import MEASURES
    from transforms.tables.metric_views import HISTORY_VIEW
    from transforms.tables.warehouse_comments import existing_columns

    existing = existing_columns(conn)
    missing = []
    for table, columns in ddl_columns().items():
        have = existing.get(table)
        if have is None:
            missing.append(table)
            continue
        missing += [f"{table}.{name}" for name, _ in columns if name not in have]
    missing += [v for v in [*(m.view for m in MEASURES), HISTORY_VIEW] if v not in existing]
    return missing


def schema_is_current(engine: Engine, fingerprint: str) -> bool:
    with engine.connect() as conn:
        missing = missing_objects(conn)
        if missing:
            if "audit.schema_version" not in missing:
                log.info("warehouse schema lacks %s: applying the DDL", ", ".join(missing[:5]))
            return False
        recorded = conn.execute(
            text("select fingerprint from audit.schema_version order by applied_at desc limit 1")
        ).scalar()
    return recorded == fingerprint


def ensure_current_schema(engine: Engine) -> bool:
    """Apply the DDL, the views and the comments unless they are current; True when
    they were applied."""
    from transforms.tables.warehouse_comments import apply_comments

    fingerprint = schema_fingerprint()
    if schema_is_current(engine, fingerprint):
        log.info("warehouse schema current (fingerprint %s): DDL not re-applied", fingerprint)
        return False
    ensure_schema(engine)
    apply_comments(engine)
    apply_grants(engine)  # PostgreSQL: the roles can read what was just built
    with engine.begin() as conn:
        conn.execute(text("delete from audit.schema_version"))
        conn.execute(
            text("insert into audit.schema_version (fingerprint, applied_at) values (:f, :t)"),
            {"f": fingerprint, "t": datetime.now(UTC).replace(tzinfo=None)},
        )
    log.info("warehouse schema applied (fingerprint %s)", fingerprint)
    return True
