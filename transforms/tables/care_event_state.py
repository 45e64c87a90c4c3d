"""The care events in the tokens state: a base table and the changes since it.

``shared_care.care_event`` has about ten million rows at 800,000 people, and an
incremental night rebuilds about 1% of them. Rewriting the whole table into every
night's tokens folder would cost every night the price of all of it, so the state is
three files:

* ``care_event.parquet``, the **base**: every row, as of the last full night or the
  last compaction. Nights after it hard-link the same file into their own folder (no
  copy: a folder of an earlier night may be removed, the link keeps the data);
* ``care_event.replaced.parquet``: every event id rebuilt since the base (``event_id``);
* ``care_event.delta.parquet``: the latest rebuilt rows of those ids. An id in
  ``replaced`` with no row here was rebuilt away (its record left the index).

The table is ``base`` minus ``replaced`` plus ``delta``. An incremental night adds its
replaced ids and swaps its rebuilt rows into the delta. When the delta holds more than
:data:`COMPACT_FRACTION` of the base's rows, the night compacts: it writes the whole
table as a new base and starts an empty delta. A full night writes a new base.

A folder with only ``care_event.parquet`` (such as one written by an earlier release)
is a base with nothing replaced. ``tests/tables/test_care_event_state.py`` checks that every night
of a chain reads as the whole table a full rewrite gives.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from transforms.frames import sql_text, typed_like, write_query

log = logging.getLogger(__name__)

BASE = "care_event.parquet"
DELTA = "care_event.delta.parquet"
REPLACED = "care_event.replaced.parquet"
#: A delta of this share of the base's rows or more is folded into a new base.
COMPACT_FRACTION = 0.2


@dataclass(frozen=True)
class CareEventState:
    """Where one night's care events are (``folder``: a tokens folder)."""

    folder: Path

    @property
    def base(self) -> Path:
        return self.folder / BASE

    @property
    def delta(self) -> Path:
        return self.folder / DELTA

    @property
    def replaced(self) -> Path:
        return self.folder / REPLACED

    @property
    def has_changes(self) -> bool:
        return self.replaced.exists()


def _connect():
    import duckdb

    return duckdb.connect()


def _table_sql(state: CareEventState, where: str = "true") -> str:
    """SQL for the whole table (rows matching ``where``), base minus replaced plus
    delta, in the base's column order."""
    base = f"select * from read_parquet({sql_text(state.base)}) where {where}"
    if not state.has_changes:
        return base
    return f"""
        select b.* from ({base}) b
        anti join read_parquet({sql_text(state.replaced)}) r using (event_id)
        union all by name
        select * from read_parquet({sql_text(state.delta)}) where {where}
    """


def _remove_changes(folder: Path) -> None:
    for name in (DELTA, REPLACED):
        (folder / name).unlink(missing_ok=True)


def write_base(rows: pd.DataFrame, folder: Path) -> int:
    """A full night: ``rows`` are the whole table, the new base; no changes."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (BASE + ".tmp")
    rows.to_parquet(tmp, index=False)
    tmp.replace(folder / BASE)
    _remove_changes(folder)
    return len(rows)


def _link_base(previous: CareEventState, folder: Path) -> None:
    """The previous base in ``folder`` without copying it (a hard link; a copy where
    the file system has none)."""
    target = folder / BASE
    if target.exists() and os.path.samefile(target, previous.base):
        return
    tmp = folder / (BASE + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(previous.base, tmp)
    except OSError:
        import shutil

        shutil.copyfile(previous.base, tmp)
    tmp.replace(target)


def refresh(
    previous: CareEventState, rebuilt: pd.DataFrame, replaced_ids: pd.Series, folder: Path
) -> int:
    """Tonight's state in ``folder``: ``previous`` with the events ``replaced_ids``
    (every event rebuilt tonight, including any the rebuild had to leave out) replaced
    by the ``rebuilt`` rows. Returns the table's rows. ``folder`` may be
    ``previous.folder`` (a re-run of the night)."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    con = _connect()
    try:
        con.register("rebuilt", typed_like(rebuilt, previous.base))
        con.register("tonight", pd.DataFrame({"event_id": replaced_ids.astype(str)}))
        old_delta = "select * from rebuilt limit 0"
        old_replaced = "select event_id from tonight limit 0"
        if previous.has_changes:
            old_delta = f"select * from read_parquet({sql_text(previous.delta)})"
            old_replaced = f"select event_id from read_parquet({sql_text(previous.replaced)})"
        con.execute(
            f"""
            create temp table delta as
            select d.* from ({old_delta}) d anti join tonight t using (event_id)
            union all by name select * from rebuilt;
            create temp table replaced as
            select distinct event_id from (
                ({old_replaced}) union all (select event_id from tonight)
            );
            """
        )
        base_rows = pq.ParquetFile(previous.base).metadata.num_rows
        delta_rows = con.execute("select count(*) from delta").fetchone()[0]
        if delta_rows >= COMPACT_FRACTION * base_rows:
            return _compact(con, previous, folder, delta_rows)
        removed = con.execute(
            f"select count(*) from read_parquet({sql_text(previous.base)}) b "
            "semi join replaced r using (event_id)"
        ).fetchone()[0]
        order = ", ".join(f'"{c}"' for c in pq.read_schema(previous.base).names)
        # tonight's files are written before the base is linked: a re-run reads the
        # previous delta from the folder it writes
        write_query(con, f"select {order} from delta", folder / DELTA, like=previous.base)
        write_query(con, "select event_id from replaced", folder / REPLACED)
    finally:
        con.close()
    _link_base(previous, folder)
    rows = base_rows - removed + delta_rows
    log.info(
        "care events: %d rows (base %d, %d replaced since it, delta %d)",
        rows,
        base_rows,
        removed,
        delta_rows,
    )
    return int(rows)


def _compact(con, previous: CareEventState, folder: Path, delta_rows: int) -> int:
    """Fold the delta into a new base in ``folder`` (``con`` holds ``delta`` and
    ``replaced`` tables)."""
    import pyarrow.parquet as pq

    order = ", ".join(f'"{c}"' for c in pq.read_schema(previous.base).names)
    rows = write_query(
        con,
        f"""
        select {order} from read_parquet({sql_text(previous.base)}) b
        anti join replaced r using (event_id)
        union all by name
        select {order} from delta
        """,
        folder / BASE,
        like=previous.base,
    )
    _remove_changes(folder)
    log.info("care events: %d rows, compacted into a new base (delta was %d)", rows, delta_rows)
    return int(rows)


def read_table(state: CareEventState, *, contacts: bool = True) -> pd.DataFrame:
    """The whole table (or, ``contacts=False``, every row that is not a DCHS care
    contact: what Pathway 2 stays and the measures read), typed as the base file."""
    import pyarrow.parquet as pq

    if not state.has_changes:
        from transforms.tables.incremental import without_contacts

        return pd.read_parquet(state.base) if contacts else without_contacts(state.base)
    where = "true" if contacts else "(event_type is null or event_type <> 'contact')"
    con = _connect()
    try:
        table = con.sql(_table_sql(state, where)).to_arrow_table()
    finally:
        con.close()
    return table.cast(pq.read_schema(state.base)).to_pandas()
