"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ecrf.errors import DomainError, NotFound
from ecrf.extensions import db
from ecrf.reporting.imaging import build_imaging_report
from ecrf.reporting.imaging_page import imaging_pdf, scope_text
from ecrf.reporting.plans import report_plan

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
)


# --- imaging report ----------------------------------------------------------------------------

NO_IMAGING_PLAN = "This study declares no imaging report (no IMAGING plan in its reports module)."
NO_SUBJECT = "No subject {subject}."
OUT_IS_DIR = "{path} is a folder: give the PDF file to write."
OUT_NO_PARENT = "The folder {path} does not exist."
WROTE_IMAGING = "Wrote {path} ({scope}; subjects: {subjects}; paired index lesions: {lesions})."


@report_cli.command("imaging")
@click.option("--subject", default=None, help="Only this subject (e.g. BDX-002).")
@click.option("--site", default=None, help="Only this site's subjects. Default: every site.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=True, path_type=Path),
    help="The PDF file to write.",
)
def imaging_report(subject: str | None, site: str | None, out: Path) -> None:
    """Write the imaging report: uptake per lesion on both PETs, ratios, paired plot, gains."""
    plan = report_plan("IMAGING")
    if plan is None:
        raise click.ClickException(NO_IMAGING_PLAN)
    if out.is_dir():
        raise click.ClickException(OUT_IS_DIR.format(path=out))
    if not out.resolve().parent.is_dir():
        raise click.ClickException(OUT_NO_PARENT.format(path=out.resolve().parent))
    try:
        report = build_imaging_report(plan, actor=None, site_code=site, subject=subject)
        pdf = imaging_pdf(report, actor=None)
    except NotFound:
        db.session.rollback()
        raise click.ClickException(NO_SUBJECT.format(subject=(subject or "").strip())) from None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(pdf)
    partial.replace(out)
    db.session.commit()
    click.echo(
        WROTE_IMAGING.format(
            path=out,
            subjects=len(report.subjects),
            lesions=report.lesions.count,
            scope=scope_text(report),
        )
    )
