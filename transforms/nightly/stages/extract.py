"""Extract: tonight's source changes into the run's landing zone, as sent.

DCC is read on its ``last_updated`` watermark; DCHS drops not yet ingested are checked
against their manifests and landed (late, changed and malformed drops are held, with a
named reason). The two extracts run side by side."""

from __future__ import annotations

from datetime import datetime

from transforms.nightly import artifacts
from transforms.nightly.context import RunContext
from transforms.nightly.results import Landed, NightPlan
from transforms.nightly.timing import timed

DCC_TABLES = {"dcc_person": "person", "dcc_event": "event"}
DCHS_TABLES = {
    "dchs_patient": "patient",
    "dchs_referral": "referral",
    "dchs_care_contact": "care_contact",
    "dchs_inpatient_spell": "inpatient_spell",
}


def _landed_files(ctx: RunContext, tables: dict[str, str]) -> dict[str, str]:
    return {name: str(artifacts.path_of(ctx, artifacts.LANDING[name])) for name in tables}


@timed("extract_dcc")
def extract_dcc(ctx: RunContext, plan: NightPlan) -> Landed:
    """DCC person and event rows changed since the watermark, up to the night's cut-off."""
    from transforms.extract.dcc import extract_dcc as extract

    since = datetime.fromisoformat(plan.dcc_watermark) if plan.dcc_watermark else None
    result = extract(
        ctx.settings.dcc_url, since=since, until=ctx.until, landing_dir=ctx.landing_dir
    )
    if result["watermark"] is None:  # nothing new: the watermark stays
        result["watermark"] = plan.dcc_watermark
    summary = artifacts.write_json(ctx, artifacts.DCC_EXTRACT, result)
    return Landed(
        source="dcc",
        files=_landed_files(ctx, DCC_TABLES),
        rows={f"dcc_{k}": int(v) for k, v in result["rows"].items()},
        summary_file=str(summary),
        watermark=result["watermark"],
    )


@timed("extract_dchs")
def extract_dchs(ctx: RunContext, plan: NightPlan) -> Landed:
    """The DCHS drops due by tonight and not yet ingested (or accepted as corrections)."""
    from transforms.extract.dchs.extract import extract_dchs as extract

    result = extract(
        ctx.settings.dchs_drop_dir,
        until=ctx.night,
        ingested=plan.ingested_drops,
        accepted=plan.accepted_drops,
        landing_dir=ctx.landing_dir,
        full_refresh=plan.full_refresh,
    )
    summary = artifacts.write_json(ctx, artifacts.DCHS_EXTRACT, result)
    return Landed(
        source="dchs",
        files=_landed_files(ctx, DCHS_TABLES),
        rows={f"dchs_{k}": int(v) for k, v in result["rows"].items()},
        summary_file=str(summary),
        drops=len(result["drops"]),
        held=len(result["rejected"]),
    )
