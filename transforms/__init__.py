"""Shared care record pipeline logic: importable, testable without Airflow."""
