"""``python -m transforms.validation [--check]``: rewrite (or check) expectations/*.json."""

from transforms.validation.suites import main

raise SystemExit(main())
