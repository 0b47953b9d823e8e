"""The text of a rendered PDF read back page by page with poppler's pdftotext (installed with
the test dependencies): a C reader that takes a second over a hundred dense pages where
pypdf's text extraction takes several. pypdf still reads the rest (metadata, attachments,
bookmarks, page sizes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def page_texts(pdf: bytes | Path) -> list[str]:
    """The text of each page of ``pdf`` (its bytes, or a file), in the order the page draws
    it (``-raw``: the order pypdf reads it in too; lines as the layout wrapped them)."""
    source, data = (str(pdf), None) if isinstance(pdf, Path) else ("-", pdf)
    try:
        result = subprocess.run(
            ["pdftotext", "-raw", "-enc", "UTF-8", source, "-"],
            input=data,
            capture_output=True,
            check=True,
            timeout=120,
        )
    except FileNotFoundError:
        pytest.fail("pdftotext is missing: install poppler-utils (scripts/test does)")
    *pages, rest = result.stdout.decode().split("\f")  # every page ends with a form feed
    assert rest == "", "pdftotext's output does not end with a page"
    return pages


def words(text: str) -> str:
    """``text`` with every run of white space as one space (labels and cells wrap)."""
    return " ".join(text.split())


def pdf_words(pdf: bytes | Path) -> str:
    """The text of every page, white space collapsed."""
    return " ".join(words(page) for page in page_texts(pdf))
