"""URL converters: numbers in paths stay within what the database columns hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: The largest value of an INTEGER column (32-bit on PostgreSQL): repeat keys, row keys,
#: entry versions and ids. A larger number in a URL names nothing that can exist.
MAX_INTEGER = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to 0..MAX_INTEGER, so a huge number is a 404, not a failed query."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_INTEGER, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def bounded_int(text: str | None) -> int | None:
    """``text`` as an integer within 0..MAX_INTEGER, or None when it is not one."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= MAX_INTEGER else None
