"""Extraction from the two source systems into the identifiable landing zone."""
