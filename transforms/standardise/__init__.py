"""Landing rows -> one clear, standardised person frame and the SOURCE_EVENT frame.

Pure pandas, no I/O. Clear identifiers exist here and in landing only; the person frame
goes straight to :func:`transforms.pseudonymise.pseudonymise_persons` and is dropped.
Free-text functions run once per *distinct* value (``pd.factorize``), not per row.
Mappings are in :mod:`transforms.vocabulary`.

Modules:

* :mod:`~transforms.standardise.series`: column helpers (text as object strings, a
  function once per distinct value, code lookups);
* :mod:`~transforms.standardise.text`: names, address text and NHS numbers to one
  canonical form;
* :mod:`~transforms.standardise.address`: postcodes, local authority districts and
  address lines;
* :mod:`~transforms.standardise.communication`: communication needs and interpreter
  languages;
* :mod:`~transforms.standardise.dates`: ISO dates and ages;
* :mod:`~transforms.standardise.person`: DCC person and DCHS patient rows ->
  ``STD_PERSON``;
* :mod:`~transforms.standardise.events`: the ``SOURCE_EVENT`` frame both sources share;
* :mod:`~transforms.standardise.dcc_events`: DCC events;
* :mod:`~transforms.standardise.dchs_events`: DCHS referrals, care contacts and
  inpatient spells.
"""
