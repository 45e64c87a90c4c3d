"""Child process for the kill test: publish night N of a synthetic plan, then exit 0."""

from __future__ import annotations

import sys
from datetime import date

import numpy as np
import pandas as pd

from transforms.warehouse.db import ensure_schema, make_engine
from transforms.warehouse.publish import PublishPlan, publish


def night_plan(night: int, rows: int) -> PublishPlan:
    rng = np.random.default_rng(night)
    tag = f"night-{night}"
    metric = pd.DataFrame(
        {
            "measure_id": [f"m{i}" for i in range(rows)],
            "measure_name": tag,
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 3, 31),
            "breakdown": "all",
            "numerator": rng.integers(0, 100, rows).astype(float),
            "denominator": 100.0,
            "value": rng.random(rows),
            "status": "final",
            "definition_version": tag,
            "as_of": date(2026, 11, night),
        }
    )
    conflict = pd.DataFrame(
        {
            "person_key": [f"P{i:016x}" for i in range(rows)],
            "attribute": "sex",
            "n_distinct": 2,
            "sources": tag,
            "detected_on": date(2026, 11, night),
        }
    )
    return PublishPlan(
        run_id=tag,
        replace={"shared_care.metric": metric, "shared_care.person_conflict": conflict},
        watermarks={"dcc": f"2026-11-{night:02d} 00:00:00"},
    )


if __name__ == "__main__":
    url, night, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = make_engine(url)
    ensure_schema(engine)
    publish(engine, night_plan(night, rows))
    print("published", flush=True)
