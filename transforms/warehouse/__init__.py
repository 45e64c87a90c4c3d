"""The warehouse: schema, bulk loading and the atomic nightly publish (SQLAlchemy)."""
