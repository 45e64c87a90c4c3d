"""The topology's own PostgreSQL databases: Airflow's metadata database (also the Celery
result backend) and a warehouse with the roles applied and a ``pipeline_writer`` login,
made fresh at the start and dropped at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Databases:
    admin_url: str  # a superuser URL on the server, to create and drop them
    meta_db: str
    warehouse_db: str
    pipeline_login: str
    pipeline_password: str  # for servers that check passwords
    created: list[str] = field(default_factory=list)
    login_created: bool = False

    def url(self, database: str, username: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.admin_url).set(database=database)
        if username:
            url = url.set(username=username, password=None)
        return url.render_as_string(hide_password=False)

    @property
    def meta_url(self) -> str:
        return self.url(self.meta_db).replace("postgresql://", "postgresql+psycopg://", 1)

    @property
    def warehouse_admin_url(self) -> str:
        return self.url(self.warehouse_db)

    def _admin_engine(self):
        from sqlalchemy import create_engine

        return create_engine(self.admin_url, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        """Both databases, then the warehouse's schema, roles and the pipeline's login;
        each is recorded as soon as it exists, so :meth:`drop` removes what was made."""
        from sqlalchemy import text

        from transforms.warehouse.db import make_engine
        from transforms.warehouse.roles import apply_roles, ensure_login

        admin = self._admin_engine()
        try:
            with admin.connect() as conn:
                for name in (self.meta_db, self.warehouse_db):
                    conn.execute(text(f'create database "{name}"'))
                    self.created.append(name)
        finally:
            admin.dispose()
        warehouse = make_engine(self.warehouse_admin_url)
        try:
            apply_roles(warehouse)  # schema + roles, as the compose warehouse-init job does
            self.login_created = True
            ensure_login(
                warehouse,
                self.pipeline_login,
                member_of="pipeline_writer",
                password=self.pipeline_password,
            )
        finally:
            warehouse.dispose()
        log.info("databases %s (metadata) and %s (warehouse)", self.meta_db, self.warehouse_db)

    def drop(self) -> None:
        """Drop what :meth:`create` made; a failure is logged, never raised."""
        if not (self.created or self.login_created):
            return
        from sqlalchemy import text

        admin = self._admin_engine()
        try:
            with admin.connect() as conn:
                for name in reversed(self.created):
                    conn.execute(text(f'drop database if exists "{name}" with (force)'))
                if self.login_created:
                    conn.execute(text(f'drop role if exists "{self.pipeline_login}"'))
        except Exception:
            log.exception("could not drop the topology's databases")
        finally:
            admin.dispose()
        self.created = []
        self.login_created = False

    def warehouse_check(self, night: str | None = None) -> dict:
        """What the warehouse holds: published runs (for ``night``) and people."""
        from sqlalchemy import text

        from transforms.warehouse.db import make_engine

        engine = make_engine(self.warehouse_admin_url)
        try:
            with engine.connect() as conn:
                published = conn.execute(
                    text(
                        "select count(*) from audit.pipeline_run where status = 'published'"
                        + (" and night = :n" if night else "")
                    ),
                    {"n": night} if night else {},
                ).scalar_one()
                persons = conn.execute(text("select count(*) from shared_care.person")).scalar_one()
                failures = conn.execute(
                    text("select count(*) from audit.task_failure")
                ).scalar_one()
        finally:
            engine.dispose()
        return {"published_runs": published, "persons": persons, "task_failures": failures}
