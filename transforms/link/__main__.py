"""``python -m transforms.link LEFT RIGHT --out OUT``: the two-file linkage command,
:mod:`transforms.two_file.command` (the command keeps this name for its users)."""

from __future__ import annotations

import sys

from transforms.two_file.command import main

if __name__ == "__main__":
    sys.exit(main())
