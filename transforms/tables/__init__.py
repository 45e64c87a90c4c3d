"""Build zone: the unified, pseudonymised tables and the partnership measures.

* :mod:`transforms.tables.person` - one row per person (survivorship) and attribute conflicts,
  from :mod:`transforms.tables.person_records`;
* :mod:`transforms.tables.values` - days, ages, bands and record keys every table derives alike;
* :mod:`transforms.tables.care_event` - every source event on the person's key;
* :mod:`transforms.tables.pathway2` - bed-based (Pathway 2) episodes;
* :mod:`transforms.tables.measures` - the partnership measures (docs/measures.md);
* :mod:`transforms.tables.measure_rules` - the measures' windows, codes and vocabularies;
* :mod:`transforms.tables.measure_catalogue` - what every measure counts, and its version;
* :mod:`transforms.tables.survivorship` - the person table's survivorship rules, in words;
* :mod:`transforms.tables.table_docs` - what every warehouse table and column means;
* :mod:`transforms.tables.metric_views` - the measure views and the trend view;
* :mod:`transforms.tables.warehouse_comments` - COMMENT ON statements for the warehouse;
* :mod:`transforms.tables.dictionary` - writes the data dictionary and the other generated files;

Pure pandas, no Airflow and no I/O (except the dictionary generator's CLI).
"""
