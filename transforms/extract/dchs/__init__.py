"""Extract DCHS (SystmOne-like) nightly drops, checked against their manifests.

A drop is ``<drop_dir>/YYYY-MM-DD/`` (a real directory, named by a real date) with four
CSV files and ``manifest.json``. Rows in a later drop replace rows in an earlier one
(the downstream upsert keeps the last row of a key in landing order), so drops are
landed in date order and nothing is ever applied out of that order:

* anything else in the drop folder (a bad name such as ``20261103``, a symlinked folder,
  a file) is rejected (``bad_name`` / ``not_a_directory``) every night it is there;
* a drop already ingested with the same manifest is skipped; the same manifest
  delivered again under another date is a repeat, skipped;
* a drop dated on or before the newest ingested drop and not itself ingested is held
  (``late``); an ingested date whose manifest has changed is held (``changed``). Neither
  holds back new drops. A held drop is applied only once an operator accepts it
  (``python -m transforms.ops.drops accept``): then it is landed, followed in date order
  by every ingested drop dated after it (re-verified, ``replay``) so their later
  versions win again, then tonight's new drops. If a drop the replay needs no longer
  verifies, the correction waits (``replay_failed``);
* new drops (dated after the newest ingested) are verified in date order; the first
  malformed one is rejected (``malformed``) and every later new drop waits behind it
  (``held_behind``).

Every check happens in :func:`transforms.extract.dchs.verify.verify_drop`, before any row
lands, and every malformed input is a rejection naming the file, the row where known,
and the rule, never a value. Files are opened without following symbolic links.

The modules, in the order a night uses them:

* ``folders``: which entries of the drop folder are drops, by name and kind;
* ``files``: a drop's files, read without following symbolic links;
* ``csv_text``: one CSV file as text columns, or a rejection naming file, row and rule;
* ``verify``: a drop checked against its manifest;
* ``choose``: which drops land tonight, and in which order (held, late, replayed);
* ``land``: the chosen drops written to the landing zone;
* ``extract``: the night's DCHS extract, from the drop folder to the landing zone.
"""
