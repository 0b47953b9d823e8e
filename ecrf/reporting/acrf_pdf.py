"""The blank annotated CRF as PDF/A-3b: rendered from the running definition, and kept in
the instance folder so that the web download renders it once per definition and layout.

Laying out a trial's aCRF takes tens of seconds of CPU (about a hundred dense pages): far
beyond a page load and a gunicorn worker's timeout. The download therefore renders it in
the background the first time (once per host: a lock file in the folder) and says so; it
is a shared, blank document that changes only with the definition or the layout.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from ecrf.db import utcnow
from ecrf.records.loader import LoadedStudy
from ecrf.reporting.acrf import acrf_data
from ecrf.reporting.plans import report_plan
from reports.pages import count_pages
from reports.render import STATIC, html_to_pdf, render_html

log = logging.getLogger(__name__)

TEMPLATE = "acrf.html"
#: Sub-folder of the instance folder holding the rendered aCRF.
CACHE_FOLDER = "reports"
#: A rendering silent for this long died with its process: another may start.
STALE_SECONDS = 15 * 60
#: After a failed rendering, the download says so for this long before trying again.
RETRY_SECONDS = 10 * 60
#: A fixed time rendered into the HTML that keys the file (the real one changes each time).
_KEY_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_KEYS = "ecrf_acrf_keys"


def _context(study: LoadedStudy, generated_at: datetime) -> dict[str, Any]:
    plan = report_plan("ACRF")
    acrf = acrf_data(study, getattr(plan, "check_words", None))
    # No subject data is read: no audit checkpoint. The footer names the definition's
    # fingerprint instead of an account: the file is shared by everyone who downloads it.
    # The right of the header names the form on the page (acrf.css).
    page = {
        "title": acrf["header"],
        "header_left": acrf["header"],
        "header_right": "",
        "generated_at": generated_at,
        "generated_by": acrf["generated_by"],
        "checkpoint": "",
    }
    return {"page": page, "acrf": acrf, "lang": "en"}


def layout_key(study: LoadedStudy) -> str:
    """What the document depends on: the definition and the report plan (through the HTML
    they give), the templates and the stylesheets. Computed once per process."""
    keys = current_app.extensions.setdefault(_KEYS, {})
    if study.digest not in keys:
        digest = hashlib.sha256(render_html(TEMPLATE, _context(study, _KEY_TIME)).encode())
        for stylesheet in sorted(STATIC.glob("*.css")):
            digest.update(stylesheet.read_bytes())
        keys[study.digest] = digest.hexdigest()
    return keys[study.digest]


def render_acrf(study: LoadedStudy) -> bytes:
    """The aCRF of ``study`` as PDF/A-3b bytes."""
    html = render_html(TEMPLATE, _context(study, utcnow()))
    return html_to_pdf(html, identifier=layout_key(study)[:32].encode())


def write_acrf(study: LoadedStudy, path: Path) -> int:
    """Render the aCRF of ``study`` into ``path`` (replaced whole, never left half
    written); its pages.

    :raises OSError: ``path`` cannot be written (checked before rendering, too).
    """
    check_writable(path)
    pdf = render_acrf(study)
    write_atomically(path, pdf)
    return count_pages(pdf)


def download_name(study: LoadedStudy) -> str:
    return f"aCRF-{study.study.oid}-{study.version}.pdf"


# --- the shared file of the web download -------------------------------------------------


@dataclass(frozen=True)
class SharedAcrf:
    """Where the running definition's aCRF is (``ready``), or why it is not yet."""

    path: Path
    ready: bool
    #: The last rendering failed (less than RETRY_SECONDS ago): not retried before.
    failed: bool = False


def shared_acrf(study: LoadedStudy) -> SharedAcrf:
    """The aCRF of ``study`` in the instance folder; when it is not there, its rendering is
    started in the background unless one is running already on this host."""
    folder = Path(current_app.instance_path) / CACHE_FOLDER
    path = folder / f"acrf-{study.digest[:12]}-{layout_key(study)[:16]}.pdf"
    if path.is_file():
        return SharedAcrf(path, ready=True)
    folder.mkdir(parents=True, exist_ok=True)
    failed = path.with_suffix(".failed")
    if _younger_than(failed, RETRY_SECONDS):
        return SharedAcrf(path, ready=False, failed=True)
    lock = path.with_suffix(".rendering")
    if _take(lock):
        failed.unlink(missing_ok=True)
        app = current_app._get_current_object()
        threading.Thread(
            target=_render_shared, args=(app, study, path, lock), name="acrf", daemon=True
        ).start()
    return SharedAcrf(path, ready=False)


def _render_shared(app: Flask, study: LoadedStudy, path: Path, lock: Path) -> None:
    try:
        with app.app_context():
            started = time.monotonic()
            pdf = render_acrf(study)
            write_atomically(path, pdf)
            log.info("aCRF rendered in %.1f s: %s", time.monotonic() - started, path.name)
        for other in path.parent.glob("acrf-*.pdf"):
            if other != path:  # an earlier definition's or layout's
                other.unlink(missing_ok=True)
    except Exception:
        log.exception("the aCRF could not be rendered")
        path.with_suffix(".failed").touch()
    finally:
        lock.unlink(missing_ok=True)


def _take(lock: Path) -> bool:
    """Create ``lock`` exclusively (True: this process renders); a stale one is replaced."""
    if _younger_than(lock, STALE_SECONDS) is False and lock.exists():
        lock.unlink(missing_ok=True)
    try:
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    return True


def _younger_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except FileNotFoundError:
        return False


# --- files ---------------------------------------------------------------------------------


def check_writable(path: Path) -> None:
    """Fail before the rendering when ``path`` cannot be written.

    :raises OSError: no such folder, a folder in the way, or no right to write.
    """
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"there is no folder {folder}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"{path} cannot be written (no permission)")


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside ``path`` and rename: a reader (another worker) never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".acrf-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
