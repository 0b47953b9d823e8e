"""The read-only JSON API under /api/v1, for the sponsor's scripts, with personal tokens."""
