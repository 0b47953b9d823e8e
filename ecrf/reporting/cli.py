"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

from flask.cli import AppGroup

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
)
