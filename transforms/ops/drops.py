"""Held DCHS drops: list them, and accept one as a correction.

    python -m transforms.ops.drops list
    python -m transforms.ops.drops accept 2026-10-31 --by "A. Operator" --reason "re-sent by DCHS"

``list`` prints the rejections the latest published run recorded
(``audit.drop_rejection``) and the acceptances not yet applied. ``accept`` re-verifies the
drop folder (well-formed, files matching the manifest) and records
``audit.drop_acceptance``; the next night lands the drop, then replays every drop
ingested after it so their later rows win again. It refuses a date with no drop folder,
a malformed drop, a drop whose manifest is already ingested, and a drop that is not held
(dated after the newest ingested drop: it is taken as a new drop anyway).

The warehouse and the drop folder come from the environment (``transforms.config``).
Exit codes: 0 done, 1 refused (the message says why), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy import text

from transforms.config import Settings
from transforms.extract.dchs.folders import drop_date_of
from transforms.extract.dchs.verify import verify_drop
from transforms.extract.errors import DropIntegrityError
from transforms.warehouse.db import make_engine
from transforms.warehouse.schema_version import ensure_current_schema

REFUSED = 1


def _rows(conn, sql: str, **params) -> list:
    return conn.execute(text(sql), params).fetchall()


def list_pending(conn) -> tuple[str | None, list, list]:
    """``(latest published run, its rejections, acceptances not yet ingested)``."""
    run = conn.execute(
        text(
            "select run_id from audit.pipeline_run where status = 'published' "
            "order by finished_at desc limit 1"
        )
    ).scalar()
    rejections = (
        _rows(
            conn,
            "select drop_date, kind, reason from audit.drop_rejection where run_id = :r "
            "order by drop_date",
            r=run,
        )
        if run is not None
        else []
    )
    acceptances = _rows(
        conn,
        "select a.drop_date, a.manifest_sha256, a.accepted_by, a.accepted_at, a.reason "
        "from audit.drop_acceptance a left join audit.dchs_drop d "
        "on d.drop_date = a.drop_date and d.manifest_sha256 = a.manifest_sha256 "
        "where d.drop_date is null order by a.drop_date, a.accepted_at",
    )
    return run, rejections, acceptances


def _list(engine) -> int:
    with engine.connect() as conn:
        run, rejections, acceptances = list_pending(conn)
    if run is None:
        print("no published run yet: no rejections recorded")
    elif not rejections:
        print(f"run {run}: no DCHS drop rejected")
    else:
        print(f"run {run}: {len(rejections)} DCHS drop rejection(s)")
        for day, kind, reason in rejections:
            print(f"  {day}  {kind or '-'}  {reason}")
    if not acceptances:
        print("no acceptance waiting to be applied")
    else:
        print(f"{len(acceptances)} acceptance(s) waiting for the next night")
        for day, sha, by, at, reason in acceptances:
            print(f"  {day}  manifest {sha[:12]}  accepted by {by} at {at}: {reason}")
    return 0


def _accept(engine, settings: Settings, day: str, by: str, reason: str) -> int:
    if drop_date_of(day) is None:
        print(f"refused: {day!r} is not a drop date (YYYY-MM-DD, a real date)", file=sys.stderr)
        return 2
    if not by.strip() or not reason.strip():
        print("refused: --by and --reason must not be empty", file=sys.stderr)
        return 2
    folder = settings.dchs_drop_dir / day
    if not folder.exists() and not folder.is_symlink():
        print(f"refused: no drop folder {folder}", file=sys.stderr)
        return REFUSED
    try:
        drop = verify_drop(folder)
    except DropIntegrityError as exc:
        print(f"refused: the drop is malformed: {exc}", file=sys.stderr)
        return REFUSED
    sha = drop.manifest_sha256
    with engine.begin() as conn:
        ingested = dict(_rows(conn, "select drop_date, manifest_sha256 from audit.dchs_drop"))
        already = sorted(d for d, s in ingested.items() if s == sha)
        if already:
            print(
                f"refused: manifest {sha[:12]} of {day} is already ingested (drop {already[0]})",
                file=sys.stderr,
            )
            return REFUSED
        newest = max((d for d in ingested if drop_date_of(d)), default=None)
        if newest is None or day > newest:
            print(
                f"refused: {day} is not held (dated after the newest ingested drop "
                f"{newest or '(none)'}); it is taken as a new drop",
                file=sys.stderr,
            )
            return REFUSED
        pending = _rows(
            conn,
            "select manifest_sha256 from audit.drop_acceptance where drop_date = :d "
            "order by accepted_at desc limit 1",
            d=day,
        )
        if pending and pending[0][0] == sha:
            print(f"{day} (manifest {sha[:12]}) is already accepted; the next night applies it")
            return 0
        conn.execute(
            text(
                "insert into audit.drop_acceptance "
                "(drop_date, manifest_sha256, accepted_by, accepted_at, reason) "
                "values (:d, :s, :b, :t, :r)"
            ),
            {
                "d": day,
                "s": sha,
                "b": by.strip(),
                "t": datetime.now(UTC).replace(tzinfo=None),
                "r": reason.strip(),
            },
        )
        later = sorted(d for d in ingested if drop_date_of(d) and d > day)
    print(
        f"accepted DCHS drop {day} (manifest {sha[:12]}, {drop.rows_total} rows) as a "
        f"correction; the next night lands it, then replays {len(later)} later drop(s)"
    )
    return 0


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m transforms.ops.drops", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="rejections of the latest run and acceptances not yet applied")
    accept = sub.add_parser("accept", help="accept a held drop as a correction")
    accept.add_argument("drop_date", help="YYYY-MM-DD, the drop folder's name")
    accept.add_argument("--by", required=True, help="who accepts it")
    accept.add_argument("--reason", required=True, help="why")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    engine = make_engine(settings.warehouse_url)
    try:
        ensure_current_schema(engine)
        if args.command == "list":
            return _list(engine)
        return _accept(engine, settings, args.drop_date, args.by, args.reason)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
