"""How many pages a PDF rendered here has (to tell the operator)."""

from __future__ import annotations

from io import BytesIO


def count_pages(pdf: bytes) -> int:
    """The page count of ``pdf``.

    :raises pypdf.errors.PdfReadError: not a PDF.
    """
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)
