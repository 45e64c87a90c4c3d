"""The night's stages, one module each, in the order they run:

``prepare`` → ``extract`` → ``validate`` → ``pseudonymise`` → ``link`` → ``build`` →
``publish``. Each takes the run's context and the results of the stages before it
(``transforms.nightly.results``), writes its files (``transforms.nightly.artifacts``)
and returns a result naming them. None imports Airflow: ``dags/shared_care_record.py``
wires them into tasks, and ``transforms.ops.stage_runner`` runs them in one process.
"""
