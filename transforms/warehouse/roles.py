"""Warehouse roles on PostgreSQL: apply ``sql/postgres/roles.sql`` and create logins.

| role | may |
|---|---|
| ``dashboard_reader`` | read ``shared_care`` |
| ``audit_reader`` | read ``shared_care`` and ``audit`` (engineers) |
| ``identity_reader`` | read ``identity`` (restricted) |
| ``identity_reviewer`` | ``identity_reader`` + insert into ``identity.review_decision`` |
| ``pipeline_writer`` | own and write ``shared_care``, ``identity``, ``audit`` |

Roles are cluster-global and created once; grants are per database, so apply this on
every warehouse database, after the schema exists and again after every schema change
(the compose ``warehouse-init`` job does it on every start). Idempotent. The pipeline
also applies it whenever it applies the schema (:func:`apply_grants`, as far as its
own login may), so a new warehouse is readable by its roles after the first run.

A login (a person or a service) gets one group role with :func:`ensure_login`. A login
given ``pipeline_writer`` acts as ``pipeline_writer`` in that database
(``ALTER ROLE … IN DATABASE … SET role``), so what the pipeline creates is owned by
``pipeline_writer`` and the default privileges above apply to it.

Command line (run as a warehouse administrator)::

    python -m transforms.warehouse.roles --url postgresql+psycopg://admin@db/warehouse \\
        --login care_pipeline:pipeline_writer:WAREHOUSE_PIPELINE_PASSWORD \\
        --login care_dashboards:dashboard_reader:WAREHOUSE_DASHBOARD_PASSWORD

``--login NAME:ROLE[:ENV]`` takes the password from the environment variable ``ENV``
(never from the command line). The URL defaults to ``CARE_WAREHOUSE_ADMIN_URL``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from transforms.warehouse.db import SQL_DIR, describe, ensure_schema, make_engine

log = logging.getLogger(__name__)

ROLES_SQL = SQL_DIR / "postgres" / "roles.sql"
GROUP_ROLES = (
    "dashboard_reader",
    "audit_reader",
    "identity_reader",
    "identity_reviewer",
    "pipeline_writer",
)
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_DOLLAR = re.compile(r"\$[A-Za-z_0-9]*\$")


def split_sql(sql: str) -> list[str]:
    """Statements of a SQL script: split on ``;`` outside quotes, comments and ``$$`` bodies."""
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end  # drop the comment, keep the newline
            continue
        if ch == "'":
            end = i + 1
            while True:
                end = sql.find("'", end)
                if end < 0:
                    raise ValueError("unterminated string literal in SQL script")
                if sql.startswith("''", end):
                    end += 2
                    continue
                break
            buf.append(sql[i : end + 1])
            i = end + 1
            continue
        if ch == "$":
            m = _DOLLAR.match(sql, i)
            if m:
                tag = m.group(0)
                end = sql.find(tag, m.end())
                if end < 0:
                    raise ValueError(f"unterminated {tag} block in SQL script")
                buf.append(sql[i : end + len(tag)])
                i = end + len(tag)
                continue
        if ch == ";":
            stmt = "".join(buf).strip()
            if stmt:
                statements.append(stmt)
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    tail = "".join(buf).strip()
    if tail:
        statements.append(tail)
    return statements


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _run_script(conn: Connection) -> None:
    for stmt in split_sql(ROLES_SQL.read_text()):
        conn.exec_driver_sql(stmt)


def apply_roles(engine: Engine, *, ensure: bool = True, attempts: int = 3) -> bool:
    """Create the group roles (once per cluster) and this database's grants.

    Creates the warehouse schema first unless ``ensure`` is false. Returns False (and
    does nothing) on a non-PostgreSQL warehouse, e.g. the embedded DuckDB default.
    """
    if not is_postgres(engine):
        log.info("warehouse %s is not PostgreSQL: no roles to apply", engine.dialect.name)
        return False
    if ensure:
        ensure_schema(engine)
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                _run_script(conn)
            break
        except DBAPIError as exc:
            # Role membership and default privileges live in shared catalogs: two
            # databases migrating at the same instant can collide. Try again.
            if "concurrently" not in str(exc.orig) or attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
    log.info("warehouse roles applied on %s", describe(str(engine.url)))
    return True


@dataclass(frozen=True)
class GrantOutcome:
    """What :func:`apply_grants` did: statements applied, and those refused as
    ``(statement, reason)``, the statement shortened to its first line of substance."""

    login: str
    applied: int
    refused: list[tuple[str, str]] = field(default_factory=list)


_KEYWORD = re.compile(r"\b(create|grant|revoke|alter)\b", re.IGNORECASE)


def _headline(stmt: str) -> str:
    lines = [line.strip() for line in stmt.splitlines() if line.strip()]
    line = next((x for x in lines if _KEYWORD.search(x)), lines[0] if lines else "")
    return line if len(line) <= 100 else line[:97] + "..."


def apply_grants(engine: Engine, *, attempts: int = 3) -> GrantOutcome | None:
    """Apply ``sql/postgres/roles.sql`` as far as this login may, one statement at a
    time (each in a savepoint of one transaction); log what was refused.

    The nightly schema step calls it, so a warehouse is readable by its roles as soon as
    the pipeline has built it. A superuser (or a login that owns the database and may
    create roles) applies everything; any other login applies what it owns, and the
    rest is logged with the reason and left to :func:`apply_roles` run by an
    administrator. None on a warehouse that is not PostgreSQL.
    """
    if not is_postgres(engine):
        return None
    applied, refused = 0, []
    with engine.begin() as conn:
        login = conn.execute(text("select session_user")).scalar_one()
        for stmt in split_sql(ROLES_SQL.read_text()):
            for attempt in range(1, attempts + 1):
                try:
                    with conn.begin_nested():
                        conn.exec_driver_sql(stmt)
                    applied += 1
                    break
                except DBAPIError as exc:
                    reason = str(exc.orig).splitlines()[0]
                    # shared catalogs: a concurrent migration elsewhere; try again
                    if "concurrently" in reason and attempt < attempts:
                        time.sleep(0.5 * attempt)
                        continue
                    refused.append((_headline(stmt), reason))
                    break
    outcome = GrantOutcome(login=login, applied=applied, refused=refused)
    if refused:
        log.warning(
            "warehouse grants: %d of %d statements of %s could not be applied as %s, so "
            "some roles may lack access until an administrator runs "
            "`python -m transforms.warehouse.roles`: %s",
            len(refused),
            applied + len(refused),
            ROLES_SQL.name,
            login,
            "; ".join(f"{head} ({reason})" for head, reason in refused),
        )
    else:
        log.info("warehouse grants applied as %s (%d statements)", login, applied)
    return outcome


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"role name {name!r}: use lower-case letters, digits and '_' only")
    return f'"{name}"'


def _set_password(conn: Connection, name: str, password: str) -> None:
    """``ALTER ROLE … PASSWORD`` takes no bind parameters: psycopg quotes the literal."""
    from psycopg import sql

    stmt = sql.SQL("alter role {} password {}").format(sql.Identifier(name), sql.Literal(password))
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(stmt)


def ensure_login(engine: Engine, name: str, *, member_of: str, password: str | None = None) -> None:
    """A LOGIN role ``name`` holding ``member_of`` in this database. Idempotent.

    With ``pipeline_writer``, sessions of ``name`` in this database act as
    ``pipeline_writer`` so the objects the pipeline creates belong to that role.
    """
    if member_of not in GROUP_ROLES:
        raise ValueError(f"unknown group role {member_of!r}; one of {', '.join(GROUP_ROLES)}")
    if name in GROUP_ROLES:
        raise ValueError(f"{name!r} is a group role; logins need their own name")
    role = _ident(name)
    with engine.begin() as conn:
        exists = conn.execute(text("select 1 from pg_roles where rolname = :n"), {"n": name})
        if exists.first() is None:
            conn.exec_driver_sql(f"create role {role} login")
        else:
            conn.exec_driver_sql(f"alter role {role} login")
        if password:
            _set_password(conn, name, password)
        conn.exec_driver_sql(f"grant {_ident(member_of)} to {role}")
        db = conn.execute(text("select current_database()")).scalar_one()
        db_ident = conn.execute(text("select quote_ident(:d)"), {"d": db}).scalar_one()
        if member_of == "pipeline_writer":
            conn.exec_driver_sql(f"alter role {role} in database {db_ident} set role = {member_of}")
        else:
            conn.exec_driver_sql(f"alter role {role} in database {db_ident} reset role")
    log.info("login %s holds %s", name, member_of)


def _parse_login(spec: str, env: Mapping[str, str]) -> tuple[str, str, str | None]:
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"--login {spec!r}: expected NAME:ROLE[:PASSWORD_ENV]")
    name, role = parts[0], parts[1]
    password = None
    if len(parts) == 3:
        password = env.get(parts[2])
        if not password:
            raise argparse.ArgumentTypeError(
                f"--login {name}: environment variable {parts[2]} is empty"
            )
    return name, role, password


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """The command line; ``env`` (default the process environment) gives the admin URL
    and the logins' passwords, read here only."""
    env = os.environ if env is None else env
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default=env.get("CARE_WAREHOUSE_ADMIN_URL"))
    ap.add_argument(
        "--login", action="append", default=[], type=lambda spec: _parse_login(spec, env)
    )
    ap.add_argument("--no-schema", action="store_true", help="do not create the schema first")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.url:
        ap.error("give --url or set CARE_WAREHOUSE_ADMIN_URL")
    engine = make_engine(args.url)
    try:
        if not apply_roles(engine, ensure=not args.no_schema):
            return 1
        for name, role, password in args.login:
            ensure_login(engine, name, member_of=role, password=password)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
