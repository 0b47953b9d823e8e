"""Render a report to PDF with WeasyPrint: a Jinja template of this package, fed plain data.

Nothing of ``ecrf`` is imported here: callers build the report's data (dicts, lists,
strings, numbers, dates) and pass it in; the same data could come from a file. Templates
and stylesheets live beside this module (``templates/``, ``static/``) and are the only
files a report may load: the URL fetcher refuses anything else (no network, no other file
on the server), so a value typed into a form can never make the renderer fetch something.
"""

from __future__ import annotations

import gc
import mimetypes
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"
#: The archival variant of every report: PDF/A-3b allows attached files (the ODM XML).
ARCHIVAL = "pdf/a-3b"
#: While a report renders, a full collection waits for this many collections of the middle
#: generation (Python's default: 10), young objects are still collected as usual.
RENDERING_FULL_COLLECTION_EVERY = 1000


class ForbiddenResource(ValueError):
    """A report asked for a resource outside this package."""


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (PDF/A-3 allows any, e.g. the subject's ODM XML)."""

    name: str
    data: bytes
    description: str = ""
    #: PDF/A-3 "AFRelationship": Source (the data the report shows), Data, Supplement…
    relationship: str = "Source"


def package_file(url: str) -> Path:
    """The file of this package that ``url`` names.

    :raises ForbiddenResource: any other URL (network, data:, files elsewhere).
    """
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise ForbiddenResource(f"reports load only their own files, not {url!r}")
    path = Path(unquote(parsed.path)).resolve()
    if not path.is_relative_to(PACKAGE) or not path.is_file():
        raise ForbiddenResource(f"reports load only their own files, not {url!r}")
    return path


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PackageFetcher(URLFetcher):
        """WeasyPrint's fetcher, limited to :func:`package_file`."""

        def fetch(self, url, headers=None):
            path = package_file(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return PackageFetcher


def url_fetcher():
    """A fetcher for WeasyPrint that reads only this package's files."""
    return _fetcher_class()()


_collector = threading.Lock()
_rendering = 0
_thresholds = gc.get_threshold()


@contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Postpone Python's full garbage collections while WeasyPrint renders.

    A rendering keeps hundreds of thousands of boxes alive until the PDF is written, and
    each new batch of them sets off a full collection walking every object of the process
    again: 14 of them, a quarter of the CPU of the trial's hundred-page aCRF. What the
    rendering leaves behind is collected once, by the next full collection; the thresholds
    come back when the last concurrent rendering is done.
    """
    global _rendering, _thresholds
    with _collector:
        if _rendering == 0:
            _thresholds = gc.get_threshold()
            young, middle, _ = _thresholds
            gc.set_threshold(young, middle, RENDERING_FULL_COLLECTION_EVERY)
        _rendering += 1
    try:
        yield
    finally:
        with _collector:
            _rendering -= 1
            if _rendering == 0:
                gc.set_threshold(*_thresholds)


def _format_utc(value: datetime | None, zone: bool = True) -> str:
    """A UTC time to the second, e.g. "2026-12-06 10:15:02 UTC" (``zone=False``: where a
    column header already says UTC)."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if zone else "%Y-%m-%d %H:%M:%S")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a missing key is a bug in the report's data: say so
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _format_utc
    return env


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The report's HTML (also what a benchmark hands WeasyPrint as the floor)."""
    return environment().get_template(template).render(**context)


def html_to_pdf(
    html: str,
    *,
    attachments: Iterable[Attachment] = (),
    identifier: bytes | None = None,
    variant: str | None = ARCHIVAL,
) -> bytes:
    """Render finished HTML to PDF bytes (PDF/A-3b unless ``variant`` says otherwise).

    :param identifier: the PDF's file identifier; give a stable one (e.g. a hash of the
        report's data) so the same data give the same bytes.
    """
    from weasyprint import HTML
    from weasyprint import Attachment as WeasyAttachment

    fetcher = url_fetcher()
    embedded = [
        WeasyAttachment(
            string=attachment.data,
            name=attachment.name,
            description=attachment.description or None,
            relationship=attachment.relationship,
            url_fetcher=fetcher,
        )
        for attachment in attachments
    ]
    options: dict[str, Any] = {"attachments": embedded, "pdf_tags": True}
    if variant:
        options["pdf_variant"] = variant
    if identifier is not None:
        options["pdf_identifier"] = identifier
    with fewer_full_collections():
        document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(**options)


def render_pdf(
    template: str,
    context: Mapping[str, Any],
    *,
    attachments: Iterable[Attachment] = (),
    identifier: bytes | None = None,
    variant: str | None = ARCHIVAL,
) -> bytes:
    """Render ``template`` (a file of ``reports/templates``) with ``context`` to PDF bytes."""
    return html_to_pdf(
        render_html(template, context),
        attachments=attachments,
        identifier=identifier,
        variant=variant,
    )
