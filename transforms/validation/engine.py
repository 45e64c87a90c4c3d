"""Great Expectations plumbing: suites from ``expectations/``, runs, Data Docs.

One ephemeral GX context per Data Docs folder (per process): a pandas data source with a
whole-dataframe batch definition, suites loaded from the JSON files, and validation
results kept on disk under ``<docs_dir>/.results`` so that Data Docs built by a later
task (or process) list every suite validated. Data Docs are built incrementally: each
build renders the results not yet rendered, and the index. Results of runs older than
the latest ``KEEP_RUNS`` are pruned (their pages go with them).

Great Expectations is imported inside functions: importing it costs seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from transforms.validation.offline_docs import make_offline

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ".results"
SITE_NAME = "local_site"
KEEP_RUNS = 30
#: BASIC gives each rule's counts and up to 20 sample values (codes, booleans or numbers:
#: identifier columns reach GX only as recorded-or-not). The rows to quarantine come from
#: the same vectorised masks GX's columns were built from, and must match GX's counts
#: (:func:`check_against_masks`); SUMMARY would add sample row positions at a clear cost
#: in GX time per expectation (``bench/README.md``), COMPLETE full lists that are slow
#: and bloat Data Docs.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 20}
#: A suite runs as two GX validations: ``schema`` rules over a zero-row copy of the batch
#: (columns and dtypes), ``rows`` rules over the row batch (derived check columns and the
#: table columns a rule reads).
BATCHES = ("schema", "rows")
COLUMN_TYPES = {
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
}


def expectations_dir(suites_dir: Path | str | None = None) -> Path:
    """The folder of the suites: ``suites_dir`` when given (``Settings.expectations_dir``,
    from ``CARE_EXPECTATIONS_DIR``), else the repository's ``expectations/``."""
    return Path(suites_dir).resolve() if suites_dir else ROOT / "expectations"


def load_suite(name: str, suites_dir: Path | str | None = None) -> dict:
    path = expectations_dir(suites_dir) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"expectation suite {path} missing")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Expectation:
    """One expectation of a suite's JSON, with its rule metadata."""

    position: int
    type: str
    kwargs: dict
    meta: dict
    notes: str | None = None

    @property
    def rule(self) -> str:
        return self.meta["rule"]

    @property
    def severity(self) -> str:
        return self.meta["severity"]

    @property
    def inputs(self) -> list[str]:
        return list(self.meta.get("inputs", []))

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def description(self) -> str:
        return self.meta.get("description", "")

    @property
    def mostly_parameter(self) -> str | None:
        mostly = self.kwargs.get("mostly")
        return mostly.get("$PARAMETER") if isinstance(mostly, dict) else None

    def as_dict(self) -> dict:
        return {"type": self.type, "kwargs": self.kwargs, "meta": self.meta, "notes": self.notes}


def expectations_of(suite: dict) -> list[Expectation]:
    return [
        Expectation(i, e["type"], e.get("kwargs", {}), e.get("meta", {}), e.get("notes"))
        for i, e in enumerate(suite["expectations"])
    ]


def derived_columns_of(expectations: list[Expectation]) -> list[str]:
    out: list[str] = []
    for e in expectations:
        c = e.column
        if c and c.startswith(("ok_", "num_")) and c not in out:
            out.append(c)
    return out


# ------------------------------------------------------------------------ row masks
def unexpected_mask(frame: pd.DataFrame, exp: Expectation) -> np.ndarray | None:
    """Rows GX counts as unexpected for a column expectation, computed the same way
    (nulls are ignored except by not-null); None for table-level expectations."""
    if exp.type not in COLUMN_TYPES:
        return None
    col = frame[exp.column]
    notna = col.notna().to_numpy()
    if exp.type == "expect_column_values_to_not_be_null":
        return ~notna
    if exp.type == "expect_column_values_to_be_in_set":
        inside = col.isin(exp.kwargs["value_set"]).to_numpy(dtype=bool, na_value=False)
        return notna & ~inside
    values = col.to_numpy(dtype=float, na_value=np.nan)
    low, high = exp.kwargs.get("min_value"), exp.kwargs.get("max_value")
    outside = np.zeros(len(col), dtype=bool)
    with np.errstate(invalid="ignore"):
        if low is not None:
            outside |= values < low
        if high is not None:
            outside |= values > high
    return notna & outside


# ----------------------------------------------------------------------------- GX run
@dataclass
class RuleRun:
    """GX's verdict on one expectation (and our mask, when it is a column rule)."""

    expectation: Expectation
    success: bool
    result: dict = field(default_factory=dict)
    error: str | None = None
    mask: np.ndarray | None = None

    @property
    def unexpected(self) -> int:
        return int(self.result.get("unexpected_count") or 0)


@dataclass
class _Site:
    context: object
    batch_definitions: dict
    docs_dir: Path


_SITES: dict[Path, _Site] = {}


def safe_run_name(run_id: str) -> str:
    """A run id as a folder name (Airflow run ids contain ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(run_id)).strip("_") or "run"


def _project_config(docs_dir: Path):
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    def memory(class_name: str) -> dict:
        return {"class_name": class_name, "store_backend": {"class_name": "InMemoryStoreBackend"}}

    return DataContextConfig(
        stores={
            "expectations_store": memory("ExpectationsStore"),
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir / RESULTS_DIR),
                },
            },
            "checkpoint_store": memory("CheckpointStore"),
            "validation_definition_store": memory("ValidationDefinitionStore"),
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites={
            SITE_NAME: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )


def site(docs_dir: Path | str) -> _Site:
    """The process's GX context for ``docs_dir`` (created once)."""
    docs_dir = Path(docs_dir).resolve()
    found = _SITES.get(docs_dir)
    if found is not None:
        return found
    import great_expectations as gx

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="ephemeral", project_config=_project_config(docs_dir))
    source = context.data_sources.add_pandas("care")
    definitions = {
        part: source.add_dataframe_asset(part).add_batch_definition_whole_dataframe("whole")
        for part in BATCHES
    }
    made = _Site(context, definitions, docs_dir)
    _SITES[docs_dir] = made
    return made


def _replace_suite(context, suite) -> object:
    try:
        context.suites.delete(suite.name)
    except Exception:  # noqa: BLE001 - absent is fine; GX raises its own not-found types
        log.debug("suite %s not yet in the context", suite.name)
    return context.suites.add(suite)


def gx_suite(name: str, expectations: list[Expectation], meta: dict):
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=name, expectations=[e.as_dict() for e in expectations], meta=dict(meta)
    )
    if len(suite.expectations) != len(expectations):
        raise ValueError(
            f"suite {name}: GX accepted {len(suite.expectations)} of {len(expectations)} "
            "expectations; check the JSON in expectations/"
        )
    return suite


def run_suite(
    docs_dir: Path | str,
    name: str,
    meta: dict,
    expectations: list[Expectation],
    frames: dict[str, pd.DataFrame],
    parameters: dict,
    run_id: str,
) -> list[RuleRun]:
    """Validate with GX: each part of the suite (``meta.batch``) over its frame in
    ``frames``. Results are stored under the suite's name for Data Docs."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    where = site(docs_dir)
    context = where.context
    run = RunIdentifier(run_name=safe_run_name(run_id), run_time=dt.datetime.now(dt.UTC))
    runs: list[RuleRun] = []
    for part in BATCHES:
        chosen = [e for e in expectations if e.meta.get("batch", "rows") == part]
        if not chosen:
            continue
        suite = _replace_suite(context, gx_suite(name, chosen, meta))
        try:
            context.validation_definitions.delete(name)
        except Exception:  # noqa: BLE001 - absent is fine
            log.debug("validation definition %s not yet in the context", name)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=where.batch_definitions[part], suite=suite)
        )
        result = definition.run(
            batch_parameters={"dataframe": frames[part]},
            expectation_parameters=parameters,
            result_format=RESULT_FORMAT,
            run_id=run,
        )
        by_id = {e.id: chosen[i] for i, e in enumerate(suite.expectations)}
        for r in result.results:
            exp = by_id[r.expectation_config.id]
            info = r.exception_info or {}
            raised = bool(info.get("raised_exception")) if isinstance(info, dict) else False
            error = None
            if raised:
                message = str(info.get("exception_message") or "")
                error = message.split(":", 1)[0][:80] or "exception"
            runs.append(RuleRun(exp, bool(r.success) and not raised, dict(r.result or {}), error))
    runs.sort(key=lambda rr: rr.expectation.position)
    return runs


def check_against_masks(name: str, runs: list[RuleRun]) -> None:
    """Our row masks must agree with GX's counts (and its sample row positions)."""
    for rr in runs:
        if rr.mask is None or rr.error:
            continue
        ours = int(rr.mask.sum())
        if ours != rr.unexpected:
            raise RuntimeError(
                f"{name}.{rr.expectation.rule}: GX counted {rr.unexpected} unexpected rows, "
                f"the quarantine mask {ours}; the validator is inconsistent, nothing is "
                "quarantined on its word"
            )
        sample = rr.result.get("partial_unexpected_index_list") or []
        positions = [s for s in sample if isinstance(s, (int, np.integer))]
        if positions and not rr.mask[np.asarray(positions, dtype=np.int64)].all():
            raise RuntimeError(
                f"{name}.{rr.expectation.rule}: GX's sample rows are not in the quarantine mask"
            )


# -------------------------------------------------------------------------- Data Docs
def build_data_docs(docs_dir: Path | str, suites_dir: Path | str | None = None) -> Path:
    """Render Data Docs under ``docs_dir`` (every suite in ``suites_dir``, every kept
    result); the index.

    The site renders offline and each validation section explains its rules in words
    (:func:`transforms.validation.offline_docs.make_offline`)."""
    where = site(docs_dir)
    context = where.context
    suite_ids = []
    specs: dict[str, list[Expectation]] = {}
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    for path in sorted(expectations_dir(suites_dir).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        specs[spec["name"]] = expectations_of(spec)
        _replace_suite(context, gx_suite(spec["name"], expectations_of(spec), spec.get("meta", {})))
        suite_ids.append(ExpectationSuiteIdentifier(name=spec["name"]))
    store = context.validation_results_store
    keys = _prune(store, list(store.list_keys()))
    pending = [k for k in keys if not _page(where.docs_dir, k).exists()]
    context.build_data_docs(
        site_names=[SITE_NAME], resource_identifiers=[*suite_ids, *pending], build_index=True
    )
    index = where.docs_dir / "index.html"
    if not index.exists():
        raise RuntimeError(f"Data Docs were not written to {index}")
    make_offline(where.docs_dir, specs)
    log.info("Data Docs: %s (%d results, %d newly rendered)", index, len(keys), len(pending))
    return index


def _page(docs_dir: Path, key) -> Path:
    parts = key.to_tuple()
    return docs_dir.joinpath("validations", *parts[:-1], f"{parts[-1]}.html")


def _prune(store, keys: list) -> list:
    """Drop results of all but the latest ``KEEP_RUNS`` runs; returns the kept keys."""
    latest: dict[str, str] = {}
    for k in keys:
        name, when = k.run_id.run_name or "", str(k.run_id.run_time)
        latest[name] = max(latest.get(name, ""), when)
    keep = set(sorted(latest, key=lambda n: latest[n], reverse=True)[:KEEP_RUNS])
    kept = []
    for k in keys:
        if (k.run_id.run_name or "") in keep:
            kept.append(k)
        else:
            store.remove_key(k)
    return kept
