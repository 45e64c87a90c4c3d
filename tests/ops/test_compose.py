"""docker-compose.yml has the Airflow 3 production shape, and commits no secret.

Parsed as YAML (anchors and merges resolved): no Docker needed. If a ``docker`` CLI is
present, ``docker compose config`` validates it against the Compose specification too.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.ops.helpers import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "docker" / "Dockerfile"

AIRFLOW_COMPONENTS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
AIRFLOW_SERVICES = [*AIRFLOW_COMPONENTS, "airflow-init"]
LONG_RUNNING = [*AIRFLOW_COMPONENTS, "airflow-db", "warehouse-db", "redis"]
SHARED = ["AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|FERNET|_KEY$|TOKEN|WEBHOOK_URL)", re.IGNORECASE)
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command(service: dict) -> str:
    cmd = service.get("command") or ""
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def walk_strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def test_every_component_of_the_production_shape_is_there(services):
    for name, cmd in AIRFLOW_COMPONENTS.items():
        assert name in services, name
        assert command(services[name]) == cmd, name
    assert command(services["airflow-init"]) == "db migrate"
    for name in ("redis", "airflow-db", "warehouse-db", "warehouse-init"):
        assert name in services, name
    # Redis after 7.2 is not under an open-source licence: 7.2 (as Airflow's own file), or Valkey
    image, _, tag = services["redis"]["image"].partition(":")
    assert (image == "redis" and tag.startswith("7.2")) or image.endswith("valkey/valkey"), image
    assert services["airflow-db"]["image"].startswith("postgres:")
    assert services["warehouse-db"]["image"].startswith("postgres:")


def test_metadata_and_warehouse_are_separate_postgres_servers(services):
    meta, warehouse = services["airflow-db"], services["warehouse-db"]
    assert meta["volumes"] != warehouse["volumes"]
    assert meta["environment"]["POSTGRES_DB"] != warehouse["environment"]["POSTGRES_DB"]
    env = environment(services["airflow-scheduler"])
    assert "@airflow-db:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert "@airflow-db:5432/" in env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert re.match(
        r"redis://:\$\{REDIS_PASSWORD[^}]*\}@redis:6379/", env["AIRFLOW__CELERY__BROKER_URL"]
    )
    worker = environment(services["airflow-worker"])
    assert '"host": "warehouse-db"' in worker["AIRFLOW_CONN_WAREHOUSE"]


def test_all_airflow_services_share_image_dags_secret_and_execution_api(services):
    images = {services[s]["image"] for s in AIRFLOW_SERVICES}
    assert len(images) == 1, images
    builds = {str(services[s].get("build")) for s in AIRFLOW_SERVICES}
    assert len(builds) == 1
    envs = {s: environment(services[s]) for s in AIRFLOW_SERVICES}
    for key in [*SHARED, "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__EXECUTOR",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL",
                "AIRFLOW__CORE__FERNET_KEY"]:  # fmt: skip
        values = {name: env.get(key) for name, env in envs.items()}
        assert None not in values.values(), (key, values)
        assert len(set(values.values())) == 1, (key, values)
    scheduler = envs["airflow-scheduler"]
    assert scheduler["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert scheduler["AIRFLOW__API_AUTH__JWT_SECRET"].startswith(
        "${AIRFLOW__API_AUTH__JWT_SECRET:?"
    )
    assert (
        "airflow-apiserver:8080/execution/" in scheduler["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    )
    # the execution API URL points at the api-server's container port
    assert any(str(p).endswith(":8080") for p in services["airflow-apiserver"]["ports"])
    dags = scheduler["AIRFLOW__CORE__DAGS_FOLDER"]
    assert f"ENV AIRFLOW__CORE__DAGS_FOLDER={dags}" in DOCKERFILE.read_text()


def test_image_matches_the_installed_airflow(services):
    installed = importlib.metadata.version("apache-airflow")
    build = services["airflow-scheduler"]["build"]
    assert build["dockerfile"] == "docker/Dockerfile"
    assert build["args"]["AIRFLOW_VERSION"] == installed
    assert f"ARG AIRFLOW_VERSION={installed}" in DOCKERFILE.read_text()
    assert services["airflow-scheduler"]["image"].endswith(f":{installed}}}") or services[
        "airflow-scheduler"
    ]["image"].endswith(installed + "}")


def test_healthchecks_and_startup_order(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert (
        environment(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"]
        == "true"
    )
    assert "DagProcessorJob" in " ".join(services["airflow-dag-processor"]["healthcheck"]["test"])
    assert "TriggererJob" in " ".join(services["airflow-triggerer"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["airflow-worker"]["healthcheck"]["test"])
    for name in AIRFLOW_COMPONENTS:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["airflow-db"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
    worker_deps = services["airflow-worker"]["depends_on"]
    assert worker_deps["warehouse-init"]["condition"] == "service_completed_successfully"
    assert worker_deps["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["airflow-init"]["restart"] == "no"


def test_volumes_are_declared_and_data_persists(compose, services):
    declared = set(compose["volumes"])
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = str(mount).split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, (name, source)
    assert any("/var/lib/postgresql/data" in v for v in services["airflow-db"]["volumes"])
    assert any("/var/lib/postgresql/data" in v for v in services["warehouse-db"]["volumes"])
    for name in AIRFLOW_COMPONENTS:
        assert "airflow-logs:/opt/airflow/logs" in services[name]["volumes"], name
    worker = services["airflow-worker"]
    assert "care-data:/opt/care/data" in worker["volumes"]
    assert int(str(worker["deploy"]["replicas"]).split(":-")[-1].rstrip("}")) >= 2


def test_the_key_is_a_file_secret_for_workers_only(compose, services):
    assert services["airflow-worker"]["secrets"] == [
        "pseudonymisation_key",
        "warehouse_pipeline_password",
    ]
    env = environment(services["airflow-worker"])
    assert env["CARE_KEY_FILE"] == "/run/secrets/pseudonymisation_key"
    assert "pseudonymisation_key" in compose["secrets"]
    assert services["warehouse-init"]["secrets"] == ["warehouse_pipeline_password"]
    for name, service in services.items():
        if name not in ("airflow-worker", "warehouse-init"):
            assert "secrets" not in service, name
            assert "CARE_KEY_FILE" not in environment(service), name
            assert "AIRFLOW_CONN_WAREHOUSE" not in environment(service), name
        assert "CARE_PSEUDONYMISATION_KEY" not in environment(service), name


def test_the_warehouse_password_is_a_file_secret_not_an_environment_variable(
    compose, services, env_example
):
    """``docker inspect`` shows a container's environment: the pipeline login's password
    is in none; workers read it from the file ``CARE_WAREHOUSE_PASSWORD_FILE`` names."""
    secret = "/run/secrets/warehouse_pipeline_password"
    assert compose["secrets"]["warehouse_pipeline_password"]["file"].endswith(
        "./secrets/warehouse_pipeline_password}"
    )
    worker = environment(services["airflow-worker"])
    connection = json.loads(
        re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", r"\2", worker["AIRFLOW_CONN_WAREHOUSE"])
    )
    assert "password" not in connection
    assert connection["login"] == "care_pipeline" and connection["host"] == "warehouse-db"
    assert worker["CARE_WAREHOUSE_PASSWORD_FILE"] == secret
    assert "warehouse_pipeline_password" in services["airflow-worker"]["secrets"]
    # warehouse-init sets the login's password from the same file, in its process only
    assert f"$(cat {secret})" in command(services["warehouse-init"]).replace("$$", "$")
    for name, service in services.items():
        for key, value in environment(service).items():
            assert "WAREHOUSE_PIPELINE_PASSWORD" not in key + value, name
    assert "WAREHOUSE_PIPELINE_PASSWORD" not in env_example


def test_the_cli_and_flower_profiles_of_airflows_own_file(services):
    """``airflow-cli`` (profile ``debug``) and ``flower`` (profile ``flower``) start only
    when asked for, with the shared configuration and no pipeline secret."""
    cli, flower = services["airflow-cli"], services["flower"]
    assert cli["profiles"] == ["debug"] and flower["profiles"] == ["flower"]
    assert command(cli) == "bash -c airflow"
    assert command(flower) == "celery flower"
    assert flower["ports"] == ["${FLOWER_BIND:-127.0.0.1}:${FLOWER_PORT:-5555}:5555"]
    assert "5555" in " ".join(flower["healthcheck"]["test"])
    scheduler = environment(services["airflow-scheduler"])
    for service in (cli, flower):
        assert service["image"] == services["airflow-scheduler"]["image"]
        env = environment(service)
        for key in [*SHARED, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL"]:
            assert env[key] == scheduler[key], key
        assert "secrets" not in service
        assert "AIRFLOW_CONN_WAREHOUSE" not in env and "CARE_KEY_FILE" not in env
    for name, service in services.items():
        if name not in ("airflow-cli", "flower", "demo-sources"):
            assert "profiles" not in service, f"{name} would not start by default"


def test_no_secret_value_is_committed(compose):
    """Every secret-looking setting is an interpolation from .env, never a literal."""
    offenders = []
    for path, value in walk_strings(compose):
        key = path.rsplit(".", 1)[-1]
        if (
            re.fullmatch(r"[A-Z][A-Z0-9_]*", key)
            and SECRET_NAME.search(key)
            and not key.endswith("_FILE")
        ):
            if value and not INTERPOLATION.fullmatch(value.strip()):
                offenders.append((path, value))
        # credentials inside URLs must be interpolated too
        for match in re.finditer(r"://([^:/@\s]*):([^@\s]+)@", value):
            if not match.group(2).startswith("${"):
                offenders.append((path, "URL with a literal password"))
        if '"password":' in value and not re.search(r'"password": "\$\{[A-Z_]+:\?', value):
            offenders.append((path, "connection JSON with a literal password"))
    assert offenders == []


def test_every_required_variable_is_in_the_example_and_no_example_secret_is_set(env_example):
    text = COMPOSE.read_text()
    required = {m.group(1) for m in INTERPOLATION.finditer(text) if m.group(2) == ":?"}
    assert required, "compose should require its secrets"
    missing = required - set(env_example)
    assert not missing, f".env.example lacks {sorted(missing)}"
    for key, value in env_example.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example sets {key}; leave secrets empty"
    shared = {k: env_example.get(k) for k in SHARED}
    assert shared["AIRFLOW__API_AUTH__JWT_SECRET"] == ""
    assert shared["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].endswith("/execution/")


def test_env_and_secrets_stay_out_of_git_and_the_image():
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    dockerignore = (ROOT / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
    for entry in (".env", "secrets/", "data/", ".venv/"):
        assert entry in dockerignore, entry
    if shutil.which("git") and (ROOT / ".git").exists():
        tracked = subprocess.run(
            ["git", "ls-files", ".env", "secrets"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split()
        assert tracked == [], f"committed secrets: {tracked}"


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="no `docker compose` on this machine")
def test_docker_compose_config_accepts_it(tmp_path, env_example):
    env_file = tmp_path / "test.env"
    filled = {k: (v or "x" * 32) for k, v in env_example.items()}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in filled.items()))
    proc = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
