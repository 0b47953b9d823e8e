"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from ecrf.crf.loader import current_study
from ecrf.reporting.acrf_pdf import write_acrf

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
)


@report_cli.command("acrf")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The PDF file to write.",
)
def report_acrf(out: Path) -> None:
    """Write the blank annotated CRF of the running study definition (PDF/A-3b): every
    visit and form with item OIDs, CDASH names, SDTM annotations, code lists and checks."""
    study = current_study()
    started = time.monotonic()
    try:
        pages = write_acrf(out, study)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror or exc}.") from None
    click.echo(
        f"Wrote {out}: the annotated CRF of study definition {study.version},"
        f" {pages} pages, in {time.monotonic() - started:.0f} s."
    )
