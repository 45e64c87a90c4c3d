"""The rule catalogue: every suite's expectations, written out as reviewable JSON.

``expectations/<suite>.json`` is what Great Expectations loads and runs. This module is
where those files come from: it names the suites and assembles each one from the rules
in :mod:`transforms.validation.rules`, so that code lists come from
:mod:`transforms.codes` and columns from :mod:`transforms.contracts` instead of being
copied by hand::

    python -m transforms.validation          # rewrite expectations/*.json
    python -m transforms.validation --check  # exit 1 if a file is out of date

A test fails when the committed JSON and this catalogue disagree.

Every expectation carries ``notes`` (rule, severity and description, shown in Data Docs)
and ``meta``:

| key | meaning |
|---|---|
| ``rule`` | stable rule id; what ``audit.quarantine.rule`` holds |
| ``severity`` | ``error`` (row quarantined), ``warning`` (row reported in findings, kept) or ``batch`` (a failure stops the night) |
| ``description`` | what the rule checks, also the ``audit.quarantine`` description; never holds a data value |
| ``inputs`` | the landing (or output) columns the rule reads; when one is absent the rule is skipped and the schema rule breaches |
| ``batch`` | ``schema``: checked on a zero-row copy of the batch (its columns and dtypes, no values); ``rows``: checked on the row batch |
| ``threshold`` / ``small_batch_threshold`` | for share rules: the ``mostly`` used at or above / below ``SMALL_BATCH_ROWS`` rows |

Columns whose names start ``ok_`` or ``num_`` are *derived check columns*, computed in
pandas by :mod:`transforms.validation.derive` (``ok_<rule>`` is True when the row passes,
null when the rule does not apply); the rest are the table's own columns. The row batch
Great Expectations sees holds the derived columns and the table columns a rule reads —
code columns with their values, key/date/identifier columns only as recorded-or-not — so
it never holds a clear identifier.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from transforms import contracts
from transforms.validation.rules.core import (
    SMALL_BATCH_ROWS,
    Rule,
    failing_share_rule,
    row_count_rule,
    schema_rules,
)
from transforms.validation.rules.dcc import dcc_event_rules, dcc_person_rules
from transforms.validation.rules.dchs import (
    dchs_care_contact_rules,
    dchs_inpatient_spell_rules,
    dchs_patient_rules,
    dchs_referral_rules,
)
from transforms.validation.rules.outputs import (
    care_event_rules,
    metric_rules,
    output_columns,
    output_date_columns,
    pathway2_stay_rules,
    person_rules,
)

SOURCE_SUITES = [
    "dcc_person",
    "dcc_event",
    "dchs_patient",
    "dchs_referral",
    "dchs_care_contact",
    "dchs_inpatient_spell",
]
OUTPUT_SUITES = ["person", "care_event", "pathway2_stay", "metric"]
ALL_SUITES = [*SOURCE_SUITES, *OUTPUT_SUITES]

#: Landing table -> contract columns (provenance is added to each).
SOURCE_COLUMNS = {
    "dcc_person": contracts.DCC_PERSON,
    "dcc_event": contracts.DCC_EVENT,
    "dchs_patient": contracts.DCHS_PATIENT,
    "dchs_referral": contracts.DCHS_REFERRAL,
    "dchs_care_contact": contracts.DCHS_CARE_CONTACT,
    "dchs_inpatient_spell": contracts.DCHS_INPATIENT_SPELL,
}
#: Landing table -> key columns (``audit.quarantine.source_record_id`` joins them with ':').
SOURCE_KEYS = {
    "dcc_person": ["la_person_id"],
    "dcc_event": ["event_reference"],
    "dchs_patient": ["local_patient_id"],
    "dchs_referral": ["service_request_id"],
    "dchs_care_contact": ["service_request_id", "care_contact_id"],
    "dchs_inpatient_spell": ["hospital_provider_spell_number"],
}

SOURCE_RULES = {
    "dcc_person": dcc_person_rules,
    "dcc_event": dcc_event_rules,
    "dchs_patient": dchs_patient_rules,
    "dchs_referral": dchs_referral_rules,
    "dchs_care_contact": dchs_care_contact_rules,
    "dchs_inpatient_spell": dchs_inpatient_spell_rules,
}
OUTPUT_RULES = {
    "person": person_rules,
    "care_event": care_event_rules,
    "pathway2_stay": pathway2_stay_rules,
    "metric": metric_rules,
}


def rules_for(name: str) -> list[Rule]:
    if name in SOURCE_RULES:
        columns = [*SOURCE_COLUMNS[name], *contracts.PROVENANCE]
        return [
            *schema_rules(columns, "landing contract (plus provenance)", typed=True),
            row_count_rule("landing batch"),
            failing_share_rule(),
            *SOURCE_RULES[name](),
        ]
    if name in OUTPUT_RULES:
        return [
            *schema_rules(output_columns()[name], "shared_care DDL", typed=False),
            row_count_rule("table"),
            *OUTPUT_RULES[name](),
        ]
    raise KeyError(f"no suite named {name!r}; suites are {ALL_SUITES}")


def suite_json(name: str) -> dict:
    rules = rules_for(name)
    seen = set()
    for r in rules:
        key = (r.rule, json.dumps(r.kwargs, sort_keys=True))
        if key in seen:
            raise ValueError(f"{name}: rule {r.rule} defined twice with the same kwargs")
        seen.add(key)
    kind = "source" if name in SOURCE_SUITES else "output"
    meta = {
        "table": name,
        "kind": kind,
        "generated_by": "python -m transforms.validation",
        "small_batch_rows": SMALL_BATCH_ROWS,
    }
    if kind == "source":
        meta["key"] = SOURCE_KEYS[name]
        meta["behaviour"] = (
            "error rules quarantine the row; warning rules record a finding; batch rules "
            "stop the night"
        )
    else:
        meta["behaviour"] = "any failed rule stops the night before anything is published"
        meta["columns"] = output_columns()[name]
        meta["date_columns"] = output_date_columns()[name]
    return {
        "name": name,
        "meta": meta,
        "expectations": [r.expectation() for r in rules],
    }


def render(name: str) -> str:
    return json.dumps(suite_json(name), indent=2, ensure_ascii=False) + "\n"


def default_dir() -> Path:
    """The suites' folder: ``CARE_EXPECTATIONS_DIR`` when set, else ``expectations/``."""
    from transforms.config import Settings
    from transforms.validation.engine import expectations_dir

    return expectations_dir(Settings.from_env().expectations_dir)


def write_suites(folder: Path | None = None) -> list[Path]:
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ALL_SUITES:
        path = folder / f"{name}.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def stale_suites(folder: Path | None = None) -> list[str]:
    folder = folder or default_dir()
    return [
        name
        for name in ALL_SUITES
        if not (folder / f"{name}.json").exists()
        or (folder / f"{name}.json").read_text(encoding="utf-8") != render(name)
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        stale = stale_suites()
        if stale:
            print(f"out of date: {', '.join(stale)}; run python -m transforms.validation")
            return 1
        print(f"{len(ALL_SUITES)} suites up to date")
        return 0
    for path in write_suites():
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
