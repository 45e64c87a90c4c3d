"""The two-file linkage command (``python -m transforms.link LEFT RIGHT --out OUT``):
links two files of people with the nightly linkage model's comparisons, one-to-one.
Not part of the night; the nightly linkage lives in :mod:`transforms.link`."""
