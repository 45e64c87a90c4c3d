"""Build zone: the unified, pseudonymised tables and the partnership measures.

* :mod:`transforms.build.person` - one row per person (survivorship) and attribute conflicts,
  from :mod:`transforms.build.person_records`;
* :mod:`transforms.build.values` - days, ages, bands and record keys every table derives alike;
* :mod:`transforms.build.care_event` - every source event on the person's key;
* :mod:`transforms.build.pathway2` - bed-based (Pathway 2) episodes;
* :mod:`transforms.build.measures` - the partnership measures (docs/measures.md);
* :mod:`transforms.build.measure_rules` - the measures' windows, codes and vocabularies;
* :mod:`transforms.build.measure_catalogue` - what every measure counts, and its version;
* :mod:`transforms.build.survivorship` - the person table's survivorship rules, in words;
* :mod:`transforms.build.table_docs` - what every warehouse table and column means;
* :mod:`transforms.build.metric_views` - the measure views and the trend view;
* :mod:`transforms.build.warehouse_comments` - COMMENT ON statements for the warehouse;
* :mod:`transforms.build.dictionary` - writes the data dictionary and the other generated files;

Pure pandas, no Airflow and no I/O (except the dictionary generator's CLI).
"""
