"""Operator and developer helpers; none of them runs in the night:

* ``drops``: the operator's command for held DCHS drops (``python -m transforms.ops.drops``);
* ``local_setup`` and ``progress``: ``make run`` and ``make ui`` on one machine (a local
  key, synthetic sources, the Airflow environment, one progress line per task);
* ``stage_runner``: the night's stages in one process, measured (benchmarks, the soak,
  the golden test);
* ``fidelity``: every measure under true against linked identities, on synthetic data;
* ``distributed``: the distributed (Celery) topology for tests and local checks; it
  starts Airflow as separate processes and talks to it over its REST API, as an operator
  would.
"""
