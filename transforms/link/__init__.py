"""Probabilistic linkage of pseudonymised person records (Splink 5 on DuckDB), its CLI and report."""
