"""Runtime configuration, read from the environment with safe defaults.

Modules take these values as arguments; the environment is read here, by the edges
that build the settings (the Airflow glue, the DAG file, scripts and command lines).

:class:`Settings` (:meth:`Settings.from_env`):

| variable | default | meaning |
|---|---|---|
| ``CARE_DATA_DIR`` | ``./data`` | root for sources, landing, tokens, runs and reports |
| ``CARE_WAREHOUSE_URL`` | DuckDB file ``$CARE_DATA_DIR/warehouse.duckdb`` | SQLAlchemy URL of the warehouse |
| ``CARE_WAREHOUSE_PASSWORD_FILE`` | none | file holding the PostgreSQL warehouse password, for a URL or connection without one |
| ``CARE_SOURCES_DIR`` | ``$CARE_DATA_DIR/sources`` | synthetic (or real) source root |
| ``CARE_DCC_URL`` | SQLite ``$CARE_SOURCES_DIR/dcc.sqlite`` | SQLAlchemy URL of the DCC case system |
| ``CARE_DCHS_DROP_DIR`` | ``$CARE_SOURCES_DIR/dchs`` | where DCHS nightly drops arrive |
| ``CARE_LANDING_RETENTION_DAYS`` | ``7`` | days a failed run's landing zone is kept for diagnosis |
| ``CARE_DUCKDB_LOCK_WAIT_SECONDS`` | ``60`` | how long a DuckDB warehouse open waits for another process's lock |
| ``CARE_POPULATION_FILE`` | ``population.csv`` beside the DCHS drops (``$CARE_SOURCES_DIR``) | population by district and age (``docs/population.md``) |
| ``CARE_GROUND_TRUTH`` | ``truth.parquet`` beside the DCHS drops | synthetic sources' ground truth, for the linkage report's accuracy figures |
| ``CARE_EXPECTATIONS_DIR`` | the repository's ``expectations/`` | folder of the Great Expectations suites (JSON) |
| ``CARE_LINK_BACKEND`` | ``duckdb`` | where the nightly link step scores pairs: ``duckdb`` in the process or ``spark`` (``docs/scaling.md``) |
| ``CARE_LINK_MEMORY_LIMIT`` | ``6GB`` | DuckDB memory ceiling for linkage (it spills to disk beyond it); a local Spark session's driver memory |
| ``CARE_LINK_TEMP_DIR`` | ``$CARE_DATA_DIR/tmp/duckdb`` | where linkage spills beyond its memory limit; a local Spark session's scratch goes beside it |
| ``CARE_SPARK_MASTER`` | ``local[*]`` | the Spark master for ``CARE_LINK_BACKEND=spark`` (``spark://host:7077``, ``yarn``, ``k8s://...``) |
| ``CARE_SPARK_CONF`` | none | further Spark settings, ``key=value`` pairs separated by ``;`` |
| ``CARE_SPARK_CHECKPOINT_DIR`` | ``spark/checkpoints`` beside ``CARE_LINK_TEMP_DIR`` | Splink's Spark checkpoints (a path every executor reaches, for a cluster) |

:class:`NotifySettings` (failure notifications, :mod:`transforms.notify`; nothing set
means nothing is sent):

| variable | default | meaning |
|---|---|---|
| ``CARE_NOTIFY_SMTP_HOST`` | — | SMTP server; unset means no e-mail |
| ``CARE_NOTIFY_SMTP_PORT`` | 25 (465 with ``ssl``, 587 with ``starttls``) | port |
| ``CARE_NOTIFY_SMTP_FROM`` | — | sender address (required with a host) |
| ``CARE_NOTIFY_SMTP_TO`` | — | recipients, comma-separated (required with a host) |
| ``CARE_NOTIFY_SMTP_SECURITY`` | ``none`` | ``none``, ``starttls`` or ``ssl`` |
| ``CARE_NOTIFY_SMTP_USER`` | — | login, if the server needs one |
| ``CARE_NOTIFY_SMTP_PASSWORD`` | — | its password (or ``CARE_NOTIFY_SMTP_PASSWORD_FILE``) |
| ``CARE_NOTIFY_WEBHOOK_URL`` | — | POST JSON here (``text`` field: Teams/Slack style) |
| ``CARE_NOTIFY_TIMEOUT`` | 10 | seconds per attempt |
| ``CARE_NOTIFY_ENVIRONMENT`` | — | a label for the subject, e.g. ``production`` |

:class:`ScheduleSettings` (read by the DAG file when Airflow parses it):

| variable | default | meaning |
|---|---|---|
| ``CARE_TASK_RETRIES`` | ``2`` | task retries (source and warehouse tasks get one more) |
| ``CARE_RETRY_DELAY_SECONDS`` | ``300`` | first retry delay (exponential backoff) |
| ``CARE_PUBLISH_DEADLINE_HOURS`` | ``0`` (no alert) | hours after the 02:00 start by which the night should have published |

The pseudonymisation key is never stored in these settings: :func:`transforms.keys.load_key`
reads ``CARE_PSEUDONYMISATION_KEY``, ``CARE_KEY_FILE`` (a JSON key file, mode 0600) and
``CARE_KEY_VERSION`` itself, and only the edges call it, so the key material stays in
one object handed to the steps that need it.

Read by command lines, not by these settings: ``CARE_WAREHOUSE_ADMIN_URL`` (the admin
URL of ``python -m transforms.warehouse.roles``), ``CARE_TEST_PG_URL`` and
``CARE_REDIS_URL`` (:meth:`transforms.ops.distributed.config.TopologyConfig.from_env`).

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


def _path(env: dict, name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


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
    #: a failed run's landing zone (clear identifiers) is deleted after this many days
    landing_retention_days: float = 7
    duckdb_lock_wait_seconds: float = 60
    #: files and folders named by the environment; None: the defaults beside the sources
    named_ground_truth: Path | None = None
    named_population_file: Path | None = None
    expectations_dir: Path | None = None
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
            "named_ground_truth": _path(env_, "CARE_GROUND_TRUTH"),
            "named_population_file": _path(env_, "CARE_POPULATION_FILE"),
            "expectations_dir": _path(env_, "CARE_EXPECTATIONS_DIR"),
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
        path = self.named_ground_truth or self.dchs_drop_dir.parent / "truth.parquet"
        return path if path.exists() else None

    @property
    def population_file(self) -> Path | None:
        """The population by district and single year of age (``docs/population.md``),
        the denominators of the rates per 100,000, when there is one.

        ``CARE_POPULATION_FILE`` names it; otherwise it is ``population.csv`` beside the
        DCHS drops (the sources folder, where the synthetic generator writes it). None
        when the file is not there.
        """
        named = self.named_population_file
        path = named or self.dchs_drop_dir.parent / "population.csv"
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


# ------------------------------------------------------------------- notifications
@dataclass(frozen=True)
class NotifySettings:
    """The ``CARE_NOTIFY_*`` variables, read once; :mod:`transforms.notify` builds its
    notifier from them (and checks them). Nothing set means nothing is sent.

    The SMTP password is never shown by ``repr``; a password file is only named here and
    read by the notifier, when there is an SMTP host to log in to."""

    smtp_host: str | None = None
    #: None: the security's usual port (25, 587 with ``starttls``, 465 with ``ssl``)
    smtp_port: int | None = None
    smtp_security: str = "none"
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_password_file: Path | None = None
    webhook_url: str | None = None
    timeout: float = 10.0
    environment: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> NotifySettings:
        """Raises ``ValueError`` on a timeout, or (with a host) a port, that is no number."""
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        host = text("CARE_NOTIFY_SMTP_HOST")
        port = env.get("CARE_NOTIFY_SMTP_PORT")
        recipients = (env.get("CARE_NOTIFY_SMTP_TO") or "").split(",")
        password_file = env.get("CARE_NOTIFY_SMTP_PASSWORD_FILE")
        return cls(
            smtp_host=host,
            smtp_port=int(port) if host and port else None,
            smtp_security=(env.get("CARE_NOTIFY_SMTP_SECURITY") or "none").strip().lower(),
            smtp_from=text("CARE_NOTIFY_SMTP_FROM"),
            smtp_to=tuple(r.strip() for r in recipients if r.strip()),
            smtp_user=env.get("CARE_NOTIFY_SMTP_USER") or None,
            smtp_password=env.get("CARE_NOTIFY_SMTP_PASSWORD") or None,
            smtp_password_file=Path(password_file) if password_file else None,
            webhook_url=text("CARE_NOTIFY_WEBHOOK_URL"),
            timeout=float(env.get("CARE_NOTIFY_TIMEOUT") or 10),
            environment=text("CARE_NOTIFY_ENVIRONMENT"),
        )


# ------------------------------------------------------------------------ schedule
@dataclass(frozen=True)
class ScheduleSettings:
    """How the DAG retries its tasks and when on call hears that a night is late; read
    by the DAG file when Airflow parses it."""

    task_retries: int = 2
    retry_delay_seconds: float = 300
    #: 0: no deadline alert
    publish_deadline_hours: float = 0

    @classmethod
    def from_env(cls, env: dict | None = None) -> ScheduleSettings:
        env = os.environ if env is None else env
        return cls(
            task_retries=int(env.get("CARE_TASK_RETRIES", "2")),
            retry_delay_seconds=float(env.get("CARE_RETRY_DELAY_SECONDS", "300")),
            publish_deadline_hours=float(env.get("CARE_PUBLISH_DEADLINE_HOURS") or 0),
        )
