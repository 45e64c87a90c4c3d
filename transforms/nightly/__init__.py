"""One night of the pipeline as plain functions; the DAG calls each as a task.

Every step takes a :class:`~transforms.nightly.context.RunContext`, reads the files the
previous step wrote under the run's folder, writes its own, and returns a small JSON
dict (paths and counts) for XCom. No step returns data.
"""
