"""``python -m transforms.link LEFT RIGHT --out OUT``: see :mod:`transforms.link.cli`."""

from __future__ import annotations

import sys

from transforms.link.cli import main

if __name__ == "__main__":
    sys.exit(main())
