"""Runtime configuration, read from the environment with safe defaults.

| variable | default | meaning |
|---|---|---|
| ``CARE_DATA_DIR`` | ``./data`` | root for sources, landing, tokens, runs and reports |
| ``CARE_WAREHOUSE_URL`` | DuckDB file ``$CARE_DATA_DIR/warehouse.duckdb`` | SQLAlchemy URL of the warehouse |
| ``CARE_WAREHOUSE_PASSWORD_FILE`` | none | file holding the PostgreSQL warehouse password, for a URL or connection without one |
| ``CARE_SOURCES_DIR`` | ``$CARE_DATA_DIR/sources`` | synthetic (or real) source root |
| ``CARE_DCC_URL`` | SQLite ``$CARE_SOURCES_DIR/dcc.sqlite`` | SQLAlchemy URL of the DCC case system |
| ``CARE_DCHS_DROP_DIR`` | ``$CARE_SOURCES_DIR/dchs`` | where DCHS nightly drops arrive |
| ``CARE_KEY_FILE`` | none | pseudonymisation key file (JSON, mode 0600) |
| ``CARE_PSEUDONYMISATION_KEY`` | none | key material (hex/base64) instead of a file |
| ``CARE_LANDING_RETENTION_DAYS`` | ``7`` | days a failed run's landing zone is kept for diagnosis |
| ``CARE_DUCKDB_LOCK_WAIT_SECONDS`` | ``60`` | how long a DuckDB warehouse open waits for another process's lock |
| ``CARE_POPULATION_FILE`` | ``population.csv`` beside the DCHS drops (``$CARE_SOURCES_DIR``) | population by district and age (``docs/population.md``) |
| ``CARE_LINK_BACKEND`` | ``duckdb`` | where the nightly link step scores pairs: ``duckdb`` in the process or ``spark`` (``docs/scaling.md``) |
| ``CARE_LINK_MEMORY_LIMIT`` | ``6GB`` | DuckDB memory ceiling for linkage (it spills to disk beyond it); a local Spark session's driver memory |
| ``CARE_LINK_TEMP_DIR`` | ``$CARE_DATA_DIR/tmp/duckdb`` | where linkage spills beyond its memory limit; a local Spark session's scratch goes beside it |
| ``CARE_SPARK_MASTER`` | ``local[*]`` | the Spark master for ``CARE_LINK_BACKEND=spark`` (``spark://host:7077``, ``yarn``, ``k8s://...``) |
| ``CARE_SPARK_CONF`` | none | further Spark settings, ``key=value`` pairs separated by ``;`` |
| ``CARE_SPARK_CHECKPOINT_DIR`` | ``spark/checkpoints`` beside ``CARE_LINK_TEMP_DIR`` | Splink's Spark checkpoints (a path every executor reaches, for a cluster) |

The Airflow layer may override the warehouse URL and key from its connections; this
module never imports Airflow.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


def data_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CARE_DATA_DIR") or "./data").resolve()


def warehouse_url(env: dict | None = None) -> str:
    env = os.environ if env is None else env
    url = env.get("CARE_WAREHOUSE_URL")
    if url:
        return with_password_file(url, env)
    return f"duckdb:///{data_dir(env) / 'warehouse.duckdb'}"


def with_password_file(url: str, env: dict | None = None) -> str:
    """``url`` with the password read from the file ``CARE_WAREHOUSE_PASSWORD_FILE``
    names (a container secret), when it names one and the URL carries no password.

    The password then never sits in an environment variable, where ``docker inspect``
    and process listings show it. Errors name the file, never its content."""
    from sqlalchemy.engine import make_url

    env = os.environ if env is None else env
    path = env.get("CARE_WAREHOUSE_PASSWORD_FILE")
    parsed = make_url(url)
    if not path or parsed.password or parsed.get_backend_name() != "postgresql":
        return url
    try:
        password = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ValueError(
            f"CARE_WAREHOUSE_PASSWORD_FILE {path}: cannot read it ({exc.strerror})"
        ) from None
    if not password:
        raise ValueError(f"CARE_WAREHOUSE_PASSWORD_FILE {path} is empty")
    return parsed.set(password=password).render_as_string(hide_password=False)


def sources_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CARE_SOURCES_DIR") or data_dir(env) / "sources").resolve()


def dcc_url(env: dict | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("CARE_DCC_URL") or f"sqlite:///{sources_dir(env) / 'dcc.sqlite'}"


def dchs_drop_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CARE_DCHS_DROP_DIR") or sources_dir(env) / "dchs").resolve()


def _number(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of days or seconds, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


@dataclass(frozen=True)
class LinkSettings:
    """Where probabilistic linkage runs and what it may use (``CARE_LINK_*``,
    ``CARE_SPARK_*``). The link code is given these; it never reads the environment."""

    #: DuckDB's spill folder beyond ``memory_limit`` (DuckDB's own default is ``.tmp`` in
    #: whatever the working directory is); a local Spark session's scratch goes beside it
    temp_dir: Path
    #: where the nightly link step scores pairs, normalised; the link step checks it
    #: (:func:`transforms.link.backend.link_backend`). Training and the two-file command
    #: run on DuckDB either way.
    backend: str = "duckdb"
    #: DuckDB's memory ceiling for linkage, so the night stays under its 8 GB budget
    #: beside pandas; also a local Spark session's driver memory
    memory_limit: str = "6GB"
    spark_master: str = "local[*]"
    #: further Spark settings, ``(key, value)`` in the order given
    spark_conf: tuple[tuple[str, str], ...] = ()
    #: None: ``spark/checkpoints`` beside ``temp_dir``
    spark_checkpoint_dir: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> LinkSettings:
        env = os.environ if env is None else env
        conf = []
        for item in (env.get("CARE_SPARK_CONF") or "").split(";"):
            if "=" in item:
                k, v = item.split("=", 1)
                conf.append((k.strip(), v.strip()))
        return cls(
            temp_dir=Path(env.get("CARE_LINK_TEMP_DIR") or data_dir(env) / "tmp" / "duckdb"),
            backend=(env.get("CARE_LINK_BACKEND") or "duckdb").strip().lower(),
            memory_limit=env.get("CARE_LINK_MEMORY_LIMIT", "6GB"),
            spark_master=env.get("CARE_SPARK_MASTER") or "local[*]",
            spark_conf=tuple(conf),
            spark_checkpoint_dir=env.get("CARE_SPARK_CHECKPOINT_DIR") or None,
        )


@dataclass(frozen=True)
class Settings:
    """Everything a pipeline step needs to find its inputs and outputs."""

    data_dir: Path
    warehouse_url: str
    dcc_url: str
    dchs_drop_dir: Path
    extra: dict = field(default_factory=dict)
    #: a failed run's landing zone (clear identifiers) is deleted after this many days
    landing_retention_days: float = 7
    duckdb_lock_wait_seconds: float = 60
    link: LinkSettings = field(default_factory=LinkSettings.from_env)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> Settings:
        env_ = os.environ if env is None else env
        values = {
            "data_dir": data_dir(env),
            "warehouse_url": warehouse_url(env),
            "dcc_url": dcc_url(env),
            "dchs_drop_dir": dchs_drop_dir(env),
            "landing_retention_days": _number(env_, "CARE_LANDING_RETENTION_DAYS", 7),
            "duckdb_lock_wait_seconds": _number(env_, "CARE_DUCKDB_LOCK_WAIT_SECONDS", 60),
            "link": LinkSettings.from_env(env),
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values)

    @property
    def ground_truth(self) -> Path | None:
        """Synthetic sources' ``truth.parquet`` (who is who), when there is one.

        ``CARE_GROUND_TRUTH`` names it; otherwise it is looked for beside the DCHS drops.
        Real sources have none, and the linkage report then shows no accuracy figures.
        """
        named = self.extra.get("ground_truth") or os.environ.get("CARE_GROUND_TRUTH")
        path = Path(named) if named else self.dchs_drop_dir.parent / "truth.parquet"
        return path if path.exists() else None

    @property
    def population_file(self) -> Path | None:
        """The population by district and single year of age (``docs/population.md``),
        the denominators of the rates per 100,000, when there is one.

        ``CARE_POPULATION_FILE`` names it; otherwise it is ``population.csv`` beside the
        DCHS drops (the sources folder, where the synthetic generator writes it). None
        when the file is not there.
        """
        named = self.extra.get("population_file") or os.environ.get("CARE_POPULATION_FILE")
        path = Path(named) if named else self.dchs_drop_dir.parent / "population.csv"
        if path.is_file():
            return path
        if named:
            log.warning("population file %s (CARE_POPULATION_FILE) not found", path)
        return None

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def tokens_dir(self) -> Path:
        return self.data_dir / "tokens"

    @property
    def dashboard_copy(self) -> Path | None:
        """The read-only copy of a DuckDB warehouse that dashboards open (None for a
        server warehouse): refreshed after each publish, so no reader can hold the
        pipeline's own file open and block the next publish."""
        from sqlalchemy.engine import make_url

        url = make_url(self.warehouse_url)
        if url.get_backend_name() != "duckdb" or url.database in (None, "", ":memory:"):
            return None
        path = Path(url.database)
        return path.with_name(f"{path.stem}_dashboard{path.suffix or '.duckdb'}")
