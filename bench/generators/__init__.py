"""Two-file generators that differ from ``transforms.synthetic``, from
``bench/two_file_benchmark.py`` and from FEBRL 4 (names, error kinds, overlap).

Each module has ``generate(people, seed, **options) -> (left, right, truth)``: two
frames in the command's input columns and the true ``record_id_l, record_id_r`` pairs;
deterministic by seed. ``bench/two_file_vs_splink.py`` runs them.
"""

GENERATORS = ("syllables", "common_names")
