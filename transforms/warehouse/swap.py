"""PostgreSQL: replace a whole table by loading a fresh copy and swapping it in.

``COPY`` into a table that already has its primary key maintains the btree one row at
a time; loading a table with no index and building the index afterwards is about twice
as fast (2 M care-event rows here: 348,569 rows/s against 650,562, ``bench/README.md``).
So a replaced table is loaded as a *shadow* table in the publish's transaction:

1. ``create table <t>__load (like <t> ...)``: columns, defaults, not-null and check
   constraints, column comments; no index;
2. ``COPY`` the rows into it (``FREEZE``: the table is new in this transaction, so the
   rows need no later visibility work);
3. build its primary key, unique constraints and indexes, under temporary names;
4. with a bounded lock wait: drop ``<t>``, rename the shadow and its indexes to the
   old names, re-apply the old table's grants and comment, and ``analyze`` it.

Everything is in the caller's transaction: until it commits, readers see the old table
with last night's rows; a failure anywhere rolls the whole swap back, shadow and all.
The swap step takes an exclusive lock on the old table for the moment between the drop
and the commit, so a dashboard query arriving then waits for the commit (and then reads
the new rows) instead of reading the old ones. ``LOCK_TIMEOUT`` bounds how long the
publish itself waits for a long-running reader before it fails and is retried.

A table that a view depends on (``shared_care.metric`` and its measure views) cannot be
dropped without its views, so it is replaced in place (``delete`` + ``COPY``) instead:
:func:`can_swap` says which.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
from sqlalchemy import Connection, text

from transforms.frames import sql_text
from transforms.warehouse.bulk import insert_frame

log = logging.getLogger(__name__)

#: How long the swap waits for readers of the old table before giving up (the publish
#: then fails, nothing is published, and the task's retry tries again).
LOCK_TIMEOUT = "60s"
SHADOW_SUFFIX = "__load"


def _split(qualified: str) -> tuple[str, str]:
    schema, name = qualified.split(".", 1)
    return schema, name


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: ``pg_get_indexdef``: CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING ...
_INDEX_DEF = re.compile(r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON (?:ONLY )?\S+ (USING .*)$", re.S)


def shadow_index(definition: str, name: str, table: str) -> str:
    """An index definition of the old table (``pg_get_indexdef``), as ``name`` on
    ``table``."""
    match = _INDEX_DEF.match(definition)
    if not match:
        raise ValueError(f"cannot rebuild index on a shadow table: {definition!r}")
    return f"{match[1]} {name} ON {table} {match[2]}"


def can_swap(conn: Connection, qualified: str) -> bool:
    """True when nothing but the table's own parts (indexes, constraints, its row type)
    depends on it, so it can be dropped and replaced by a shadow copy."""
    return not conn.execute(
        text(
            """
            select 1
            from pg_depend d
            join pg_rewrite r on r.oid = d.objid and d.classid = 'pg_rewrite'::regclass
            where d.refclassid = 'pg_class'::regclass
              and d.refobjid = cast(:t as regclass)
              and r.ev_class <> d.refobjid
            union all
            select 1 from pg_constraint c
            where c.confrelid = cast(:t as regclass) and c.conrelid <> c.confrelid
            limit 1
            """
        ),
        {"t": qualified},
    ).first()


def _parts(conn: Connection, qualified: str) -> tuple[list, list, list, str | None]:
    """The old table's index-backed constraints (name, definition), its other indexes
    (name, definition), its grants (grantee, privilege) and its comment."""
    where = {"t": qualified}
    constraints = conn.execute(
        text(
            "select conname, pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = cast(:t as regclass) and contype in ('p', 'u', 'x') "
            "order by conname"
        ),
        where,
    ).all()
    indexes = conn.execute(
        text(
            "select c.relname, pg_get_indexdef(i.indexrelid) from pg_index i "
            "join pg_class c on c.oid = i.indexrelid "
            "where i.indrelid = cast(:t as regclass) and not exists ("
            "  select 1 from pg_constraint k where k.conindid = i.indexrelid) "
            "order by c.relname"
        ),
        where,
    ).all()
    grants = conn.execute(
        text(
            "select case when a.grantee = 0 then 'public' else quote_ident(r.rolname) end, "
            "a.privilege_type "
            "from pg_class c, aclexplode(c.relacl) a left join pg_roles r on r.oid = a.grantee "
            "where c.oid = cast(:t as regclass) and a.grantee <> c.relowner "
            "order by 1, 2"
        ),
        where,
    ).all()
    comment = conn.execute(
        text("select obj_description(cast(:t as regclass), 'pg_class')"), where
    ).scalar_one()
    return constraints, indexes, grants, comment


def swap_load(conn: Connection, qualified: str, frame: pd.DataFrame) -> int:
    """Replace every row of ``qualified`` with ``frame`` through a shadow table (see the
    module docstring), inside the caller's transaction. Returns the rows written."""
    schema, name = _split(qualified)
    shadow_name = name + SHADOW_SUFFIX
    shadow = f"{_ident(schema)}.{_ident(shadow_name)}"
    target = f"{_ident(schema)}.{_ident(name)}"
    constraints, indexes, grants, comment = _parts(conn, qualified)

    conn.execute(
        text(
            f"create table {shadow} (like {target} including defaults including constraints "
            "including comments including generated including identity including storage)"
        )
    )
    written = insert_frame(conn, f"{schema}.{shadow_name}", frame, freeze=True)
    renames = []
    for i, (conname, definition) in enumerate(constraints):
        temp = f"{shadow_name}_c{i}"
        conn.execute(text(f"alter table {shadow} add constraint {_ident(temp)} {definition}"))
        renames.append((temp, conname))
    for i, (index_name, definition) in enumerate(indexes):
        temp = f"{shadow_name}_i{i}"
        conn.execute(text(shadow_index(definition, _ident(temp), shadow)))
        renames.append((temp, index_name))

    conn.execute(text(f"set local lock_timeout = '{LOCK_TIMEOUT}'"))
    conn.execute(text(f"drop table {target}"))
    conn.execute(text(f"alter table {shadow} rename to {_ident(name)}"))
    for temp, original in renames:
        # renaming a constraint's index renames the constraint with it
        conn.execute(
            text(f"alter index {_ident(schema)}.{_ident(temp)} rename to {_ident(original)}")
        )
    for grantee, privilege in grants:
        conn.execute(text(f"grant {privilege} on {target} to {grantee}"))
    if comment is not None:
        conn.execute(text(f"comment on table {target} is {sql_text(comment)}"))
    conn.execute(text("set local lock_timeout = default"))
    conn.execute(text(f"analyze {target}"))
    log.info("%s: %d rows loaded into a shadow table and swapped in", qualified, written)
    return written
