"""Operations helpers: the distributed (Celery) topology for tests and local checks
(``topology``), and the operator's command for held DCHS drops (``drops``).

No Airflow import here: the topology starts Airflow as separate processes and talks to
it over its REST API, exactly as an operator would.
"""
