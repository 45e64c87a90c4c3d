"""measure_fidelity: the same measures under true and under linked identities."""

from __future__ import annotations

import pandas as pd
import pytest
from build_fixtures import AS_OF, POPULATION, Q2, scenario

from transforms.ops.fidelity import (
    FIDELITY_COLUMNS,
    compare_metrics,
    measure_fidelity,
    summarise_fidelity,
    truth_keys,
    within_target,
)


@pytest.fixture(scope="module")
def inputs():
    keyed, events = scenario()
    records = keyed.drop(columns=["person_key", "link_probability"])
    truth = pd.DataFrame(
        {
            "source": keyed["source"],
            "source_record_id": keyed["source_record_id"],
            "true_person_id": keyed["person_key"].str.removeprefix("PK_"),
        }
    )
    return records, events, truth


@pytest.fixture(scope="module")
def split_b(inputs):
    """The pipeline failed to link B's DCC record (which holds the death) to DCHS."""
    records, events, truth = inputs
    index = truth_keys(truth).rename(columns={"person_key": "k"})
    index["person_key"] = "L" + index.pop("k")
    index.loc[index["source_record_id"] == "MB", "person_key"] = "L_B_dcc"
    return measure_fidelity(
        records, events, index, truth, as_of=AS_OF, population=POPULATION, breakdowns=None
    )


def test_identical_identities_give_no_difference(scenario_tables):
    metric = scenario_tables["metric"]
    fid = compare_metrics(metric, metric.sample(frac=1, random_state=1))
    assert list(fid.columns) == FIDELITY_COLUMNS
    assert set(fid["breakdown"]) == {"all"}
    compared = fid.dropna(subset=["value_truth"])
    assert len(compared) > 20
    assert (compared["difference"] == 0).all()
    assert within_target(fid) == (True, 0.0)


def test_a_missed_link_moves_the_91_day_measure_by_a_known_amount(split_b):
    """B's death is recorded by DCC only: unlinked, B looks at home on day 91."""
    fid = split_b.set_index(["measure_id", "period_start", "period_end", "breakdown"])
    at_home = fid.loc[("still_at_home_91", *Q2, "all")]
    assert at_home["value_truth"] == pytest.approx(3 / 7)
    assert at_home["value_linked"] == pytest.approx(4 / 7)
    assert at_home["difference"] == pytest.approx(100 / 7)  # percentage points
    assert at_home["difference_unit"] == "pp"
    known = fid.loc[("tio_known_to_both", AS_OF, AS_OF, "all")]
    assert known["difference"] == pytest.approx(100 * (6 / 21 - 7 / 20))
    assert known["denominator_linked"] == 21
    # nothing else that B does not touch moves
    los = fid.loc[("pathway2_los_mean", *Q2, "all")]
    assert los["difference"] == 0 and los["difference_unit"] == "days"


def test_summary_and_target(split_b):
    summary = summarise_fidelity(split_b[split_b["breakdown"] == "all"]).set_index("measure_id")
    assert summary.loc["still_at_home_91", "max_abs_difference"] == pytest.approx(100 / 7)
    assert summary.loc["pathway2_los_median", "max_abs_difference"] == 0
    met, worst = within_target(split_b, target=0.5)
    assert not met and worst == pytest.approx(100 / 7)
