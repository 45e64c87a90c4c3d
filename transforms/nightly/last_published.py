"""What the last published night left behind, read from the warehouse."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from transforms.warehouse.publish import read_frame


@dataclass
class LastPublished:
    dcc_watermark: str | None = None
    ingested_drops: dict[str, str] = field(default_factory=dict)  # drop_date -> manifest
    accepted_drops: dict[str, str] = field(default_factory=dict)  # operator-accepted
    tokens_path: str | None = None  # tokens-zone folder of the last published night
    last_run_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def watermark(self) -> datetime | None:
        return datetime.fromisoformat(self.dcc_watermark) if self.dcc_watermark else None


def read_last_published(engine: Engine, *, full_refresh: bool) -> LastPublished:
    """What the latest published run left: watermark, tokens state, drops ingested and
    accepted. A full refresh starts the sources afresh, but still knows which drops
    were ingested, so a late or changed drop is held then too."""
    from transforms.warehouse.lineage import read_head

    with engine.connect() as conn:
        head = read_head(conn)
    state = LastPublished(last_run_id=head.run_id)
    drops = read_frame(engine, "select drop_date, manifest_sha256 from audit.dchs_drop")
    state.ingested_drops = dict(
        zip(drops.drop_date.astype(str), drops.manifest_sha256.astype(str), strict=True)
    )
    accepted = read_frame(
        engine,
        "select drop_date, manifest_sha256 from audit.drop_acceptance order by accepted_at",
    )
    # the latest acceptance of a date stands
    state.accepted_drops = dict(
        zip(accepted.drop_date.astype(str), accepted.manifest_sha256.astype(str), strict=True)
    )
    if full_refresh or head.run_id is None:
        return state
    last = read_frame(
        engine,
        "select tokens_path from audit.pipeline_run where run_id = :r and status = 'published'",
        r=head.run_id,
    )
    state.tokens_path = last.tokens_path.iloc[0] if not last.empty else None
    wm = read_frame(engine, "select watermark from audit.watermark where source = 'dcc'")
    if not wm.empty and wm.watermark.iloc[0] is not None:
        state.dcc_watermark = str(wm.watermark.iloc[0])
    return state
