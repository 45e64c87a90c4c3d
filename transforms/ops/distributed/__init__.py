"""The production topology from real processes, without Docker.

What ``docker-compose.yml`` runs, started here as local processes: Airflow's api-server,
scheduler, dag-processor, triggerer and a Celery worker, with the CeleryExecutor, Redis
as broker, and a fresh PostgreSQL database as Airflow metadata database and Celery result
backend. The warehouse is another fresh PostgreSQL database with the roles applied, and
the pipeline logs in to it as a ``pipeline_writer`` login, as in production.

Each component runs in its own process group (session) with the virtualenv's ``bin`` on
``PATH``; stopping sends SIGTERM to the group, then SIGKILL (Airflow's worker processes
ignore SIGTERM from outside). Every process carries ``CARE_TOPOLOGY_ID`` in its
environment, so anything left behind is found by that id and stopped too.

Nothing here imports Airflow: the topology is driven through the CLI and the REST API
(``/api/v2``, token from ``POST /auth/token`` with the simple auth manager), as an
operator would. Used by ``scripts/run_distributed.py`` and the browser test.

* ``config``: what to start, and where PostgreSQL and Redis are;
* ``topology``: the run-through: set up, start, wait until ready, stop and clean up;
* ``processes``: the Airflow components as process groups, and stopping them whole;
* ``environment``: the Airflow and pipeline settings every component shares;
* ``databases``: the metadata and warehouse databases and the pipeline's login;
* ``broker``: Redis, checked before the start and rid of our queue afterwards;
* ``api_client``: Airflow's REST API: health, the DAG, triggering and waiting for runs;
* ``reports``: what a run did, task by task, with the failed tasks' last log lines;
* ``errors``: what goes wrong.
"""
