"""``python -m transforms.review list|show|decide``: see :mod:`transforms.review`."""

from __future__ import annotations

import sys

from transforms.review import main

if __name__ == "__main__":
    sys.exit(main())
