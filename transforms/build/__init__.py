"""Build zone: the unified, pseudonymised tables and the partnership measures.

* :mod:`transforms.build.person` - one row per person (survivorship) and attribute conflicts;
* :mod:`transforms.build.care_event` - every source event on the person's key;
* :mod:`transforms.build.pathway2` - bed-based (Pathway 2) episodes;
* :mod:`transforms.build.measures` - the partnership measures (docs/measures.md);
* :mod:`transforms.build.definitions` - what every measure, table and column means;
* :mod:`transforms.build.dictionary` - data dictionary, view SQL and COMMENT ON statements;

Pure pandas, no Airflow and no I/O (except the dictionary generator's CLI).
"""
