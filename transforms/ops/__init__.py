"""Operations helpers: the distributed (Celery) topology for tests and local checks.

No Airflow import here: these modules start Airflow as separate processes and talk to
it over its REST API, exactly as an operator would.
"""
