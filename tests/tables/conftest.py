"""One build of the hand-built scenario, shared by the measure, view and fidelity tests."""

from __future__ import annotations

import pytest
from build_fixtures import AS_OF, POPULATION, scenario

from transforms.ops.fidelity import build_all


@pytest.fixture(scope="session")
def scenario_tables() -> dict:
    keyed, events = scenario()
    keys = keyed[["source", "source_record_id", "person_key", "link_probability"]]
    records = keyed.drop(columns=["person_key", "link_probability"])
    return build_all(records, events, keys, as_of=AS_OF, population=POPULATION)
