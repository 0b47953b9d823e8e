"""How many pages a PDF rendered here has (to tell the operator), without a PDF library.

WeasyPrint (pydyf) writes one flat page tree whose root says ``/Count N``; in a PDF/A file
the objects sit in compressed object streams, so the streams are inflated to find it.
"""

from __future__ import annotations

import re
import zlib

_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")
_STREAM = re.compile(rb"stream\r?\n")


def count_pages(pdf: bytes) -> int:
    """The page count of ``pdf`` (the largest ``/Count`` of a page tree node: the root's).

    :raises ValueError: no page tree found (not a PDF this package rendered).
    """
    counts = [int(a or b) for a, b in _COUNT.findall(pdf)]
    view = memoryview(pdf)
    for match in _STREAM.finditer(pdf):
        if b"/ObjStm" not in pdf[max(0, match.start() - 400) : match.start()]:
            continue  # page contents, fonts, images: no page tree there
        try:
            data = zlib.decompressobj().decompress(view[match.end() :])
        except zlib.error:
            continue
        if b"/Pages" in data:
            counts.extend(int(a or b) for a, b in _COUNT.findall(data))
    if not counts:
        raise ValueError("no page tree in this PDF")
    return max(counts)
