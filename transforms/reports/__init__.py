"""Static pages for people: the partnership dashboard (:mod:`transforms.reports.dashboard`)."""
