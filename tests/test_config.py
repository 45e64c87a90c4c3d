"""Configuration is read once, at the edge: ``transforms.config`` reads the environment,
modules take the values as arguments."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT
from transforms.config import NotifySettings, ScheduleSettings, Settings

#: The only modules under transforms/ that read the process environment, and why.
ENVIRONMENT_READERS = {
    "transforms/config.py": "the configuration surface: Settings and friends' from_env",
    "transforms/keys.py": "load_key, the key edge: key material is never kept in settings",
    "transforms/warehouse/roles.py": "an operator command line: its main() reads the "
    "admin URL and the logins' passwords",
    "transforms/ops/distributed/config.py": "a test/ops tool: TopologyConfig.from_env",
    "transforms/ops/distributed/environment.py": "a test/ops tool: the processes it starts "
    "inherit the caller's environment",
    "transforms/ops/distributed/topology.py": "a test/ops tool: the synthetic sources are "
    "generated with the caller's environment",
}
#: Where the pseudonymisation key may be loaded: the edges (Airflow glue, command lines).
KEY_LOADERS = {"transforms/keys.py", "transforms/two_file/command.py", "dags/airflow_glue.py"}


def environment_reads(path: Path) -> list[int]:
    """Lines that touch ``os.environ`` / ``os.getenv`` (or import them from ``os``)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "environb", "getenv", "getenvb")
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & {"environ", "environb", "getenv", "getenvb"}:
                lines.append(node.lineno)
    return lines


def calls_of(path: Path, name: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                lines.append(node.lineno)
    return lines


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_only_the_edges_read_the_environment():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in python_files("transforms")
        if (lines := environment_reads(path))
    }
    unexpected = {path: lines for path, lines in found.items() if path not in ENVIRONMENT_READERS}
    assert unexpected == {}, "read the variable in transforms/config.py and pass the value"
    # the scan sees reads wherever they stand
    assert environment_reads(ROOT / "transforms" / "config.py")


def test_the_key_is_loaded_at_the_edges_only():
    found = {
        str(path.relative_to(ROOT))
        for path in python_files("transforms", "dags")
        if calls_of(path, "load_key")
    }
    assert found <= KEY_LOADERS
    assert "dags/airflow_glue.py" in found  # the scan finds the Airflow edge's call


def test_settings_read_named_files_from_the_given_environment(tmp_path):
    truth = tmp_path / "truth.parquet"
    truth.write_bytes(b"")
    env = {
        "CARE_DATA_DIR": str(tmp_path),
        "CARE_GROUND_TRUTH": str(truth),
        "CARE_EXPECTATIONS_DIR": str(tmp_path / "suites"),
    }
    settings = Settings.from_env(env)
    assert settings.ground_truth == truth
    assert settings.expectations_dir == tmp_path / "suites"
    plain = Settings.from_env({"CARE_DATA_DIR": str(tmp_path)})
    assert plain.ground_truth is None  # nothing beside the (absent) sources
    assert plain.named_population_file is None and plain.expectations_dir is None


def test_schedule_settings_defaults_and_values():
    assert ScheduleSettings.from_env({}) == ScheduleSettings(2, 300.0, 0.0)
    env = {
        "CARE_TASK_RETRIES": "0",
        "CARE_RETRY_DELAY_SECONDS": "10",
        "CARE_PUBLISH_DEADLINE_HOURS": "5",
    }
    assert ScheduleSettings.from_env(env) == ScheduleSettings(0, 10.0, 5.0)
    assert (
        ScheduleSettings.from_env({"CARE_PUBLISH_DEADLINE_HOURS": ""}).publish_deadline_hours == 0
    )


def test_notify_settings_read_and_keep_the_password_out_of_repr(tmp_path):
    assert NotifySettings.from_env({}) == NotifySettings()
    env = {
        "CARE_NOTIFY_SMTP_HOST": " mail ",
        "CARE_NOTIFY_SMTP_PORT": "2525",
        "CARE_NOTIFY_SMTP_SECURITY": "STARTTLS",
        "CARE_NOTIFY_SMTP_FROM": "a@b",
        "CARE_NOTIFY_SMTP_TO": "c@d, e@f,",
        "CARE_NOTIFY_SMTP_PASSWORD": "pa55-word",
        "CARE_NOTIFY_TIMEOUT": "3",
    }
    settings = NotifySettings.from_env(env)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "mail",
        2525,
        "starttls",
    )
    assert settings.smtp_to == ("c@d", "e@f") and settings.timeout == 3.0
    assert "pa55-word" not in repr(settings)
    # without a host the port is not read, and the password file is only named
    missing = tmp_path / "nowhere"
    quiet = NotifySettings.from_env(
        {"CARE_NOTIFY_SMTP_PORT": "x", "CARE_NOTIFY_SMTP_PASSWORD_FILE": str(missing)}
    )
    assert quiet.smtp_port is None and quiet.smtp_password_file == missing
    with pytest.raises(ValueError):
        NotifySettings.from_env({"CARE_NOTIFY_TIMEOUT": "soon"})
