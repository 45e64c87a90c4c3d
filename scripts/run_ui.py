"""`make ui`: the Airflow UI on the embedded defaults, ready for a first trigger.

It makes everything a first trigger needs: the demo key (mode 0600) and synthetic
sources under CARE_DATA_DIR, the Airflow home, a free port with the execution API URL
to match, and an admin password of its own. Then it runs ``airflow standalone`` until
Ctrl-C. The DAG starts paused: "Trigger" with "Unpause on trigger" creates one run for
the latest 02:00 as well, and both succeed.

Environment: CARE_DATA_DIR (./data), CARE_UI_PORT (first free from 8080),
CARE_SYNTHETIC_PEOPLE (20000), CARE_NIGHTS (3), CARE_SEED (42).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms.config import Settings  # noqa: E402
from transforms.ops.local_setup import airflow_env, ensure_local_key, ensure_sources  # noqa: E402

ADMIN = "admin"


def free_port(start: int) -> int:
    for port in range(start, start + 100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit(f"no free port in {start}-{start + 99}; set CARE_UI_PORT")


def ui_env(settings: Settings, env: dict, port: int) -> dict:
    """Everything ``airflow standalone`` and its tasks need, on the embedded defaults."""
    out = {**env, **airflow_env(settings.data_dir, ROOT / "dags", env)}
    out.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "CARE_DATA_DIR": str(settings.data_dir),
        }
    )
    return out


def admin_password(airflow_home: Path) -> str:
    """The simple auth manager's password for ``admin``: kept if set, else a new one."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    if path.exists():
        known = json.loads(path.read_text())
        if known.get(ADMIN):
            return known[ADMIN]
    password = secrets.token_urlsafe(12)
    path.write_text(json.dumps({ADMIN: password}) + "\n")
    path.chmod(0o600)
    return password


def main() -> int:
    env = dict(os.environ)
    env.setdefault("CARE_DATA_DIR", str(ROOT / "data"))
    settings = Settings.from_env(env)
    env.update(ensure_local_key(settings.data_dir, env))
    ensure_sources(
        settings,
        people=int(env.get("CARE_SYNTHETIC_PEOPLE", "20000")),
        nights=int(env.get("CARE_NIGHTS", "3")),
        seed=int(env.get("CARE_SEED", "42")),
        env=env,
    )
    port = int(env.get("CARE_UI_PORT") or free_port(8080))
    env = ui_env(settings, env, port)
    password = admin_password(Path(env["AIRFLOW_HOME"]))
    print(f"Airflow UI: http://localhost:{port}  (user {ADMIN}, password {password})")
    print("DAG shared_care_record: Trigger it; its runbook is on its page. Ctrl-C stops.")
    os.execvpe("airflow", ["airflow", "standalone"], env)  # noqa: S606 - our own fixed command
    return 0


if __name__ == "__main__":
    sys.exit(main())
