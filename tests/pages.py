"""Comparing two pages as a person sees them: the parts that change with every response
(the CSRF token, signed with the time; the print stamp's time) are masked."""

from __future__ import annotations

import re

_VARYING = (
    (re.compile(rb'(name="csrf-token" content=")[^"]*"'), rb'\1..."'),
    (re.compile(rb'(name="csrf_token" value=")[^"]*"'), rb'\1..."'),
    (re.compile(rb"(page generated )[^<]*"), rb"\1..."),
)


def masked(page: bytes) -> bytes:
    """``page`` with its per-response parts replaced by "..."."""
    for pattern, replacement in _VARYING:
        page = pattern.sub(replacement, page)
    return page
