"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from ecrf import transaction
from ecrf.errors import DomainError, NotFound
from ecrf.records.loader import current_study
from ecrf.reporting.acrf_pdf import write_acrf
from ecrf.reporting.imaging import build_imaging_report
from ecrf.reporting.imaging_page import imaging_pdf, scope_text
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety import NO_PLAN, safety_pdf
from ecrf.reporting.scope import scoped_site_ids

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
)

UNWRITABLE = "Cannot write {path}: {reason}."


def write_file(path: Path, content: bytes) -> None:
    """Write a report's file whole (aside, then renamed), or stop with a clear message."""
    partial = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(content)
        partial.replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise click.ClickException(
            UNWRITABLE.format(path=path, reason=error.strerror or error)
        ) from None


@report_cli.command("casebook")
@click.argument("subject")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False), help="The PDF file to write."
)
def casebook_command(subject: str, out: str) -> None:
    """Write the casebook of SUBJECT (such as BDX-001): PDF/A-3b, its ODM file attached."""
    from ecrf.reporting.casebook_pdf import render_casebook
    from ecrf.reporting.scope import subject_for_report

    try:
        found = subject_for_report(subject.strip().upper(), None)
    except NotFound:
        raise click.ClickException(f"There is no subject {subject}.") from None
    rendered = render_casebook(current_study(), found, actor=None)
    transaction.perform(lambda: write_file(Path(out), rendered.pdf))
    click.echo(f"Casebook of {found.identifier} written to {out} ({len(rendered.pdf):,} bytes).")


COPY_WRITTEN = (
    "Investigator's copy of {scope} written to {path}: {count} casebooks ({size:,} bytes)."
)
COPY_PROGRESS = "  {done}/{total} casebooks"


@report_cli.command("casebooks")
@click.option("--site", "site_code", help="Only this site's subjects (code); default: every site.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The zip file to write.",
)
def casebooks_command(site_code: str | None, out: Path) -> None:
    """Write the investigator's copy: every casebook of a site (or all sites) as PDF/A-3b
    files, with a manifest and the SHA-256 of each file, in one zip file."""
    import shutil
    import tempfile

    from ecrf.reporting.casebook_jobs import write_site_casebooks

    try:
        site_ids = scoped_site_ids(None, site_code)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / out.stem
        write_site_casebooks(
            folder,
            site_ids=site_ids,
            actor=None,
            progress=lambda done, total: click.echo(
                COPY_PROGRESS.format(done=done, total=total), err=True
            ),
        )
        archive = Path(shutil.make_archive(str(Path(tmp) / "copy"), "zip", root_dir=folder))
        write_file(out, archive.read_bytes())
        count = len(list(folder.glob("*/*.pdf")))
    click.echo(
        COPY_WRITTEN.format(
            scope=(site_code or "").strip().upper() or ALL_SITES_SCOPE,
            path=out,
            count=count,
            size=out.stat().st_size,
        )
    )


# --- ecrf report safety ---------------------------------------------------------------------

SAFETY_WRITTEN = (
    "Safety report of {scope} written to {path} ({events} adverse events, {serious} serious;"
    " {size} kB)."
)
NOT_A_FOLDER = "The folder of {path} does not exist."
ALL_SITES_SCOPE = "all sites"


@report_cli.command("safety")
@click.option("--site", "site_code", help="Only the subjects of this site (code).")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The PDF file to write (replaced if it exists).",
)
def report_safety(site_code: str | None, out: Path) -> None:
    """The safety report as an archival PDF: adverse events by grade, seriousness and
    relationship, laboratory shift tables, serious events with their 24 h report clock,
    and the listing of every adverse event (every site unless --site)."""
    plan = report_plan("SAFETY")
    if plan is None:
        raise click.ClickException(NO_PLAN)
    if not out.parent.is_dir():
        raise click.ClickException(NOT_A_FOLDER.format(path=out))
    try:
        site_ids = scoped_site_ids(None, site_code)
        report = safety_pdf(current_study(), plan, site_ids, actor=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    transaction.perform(lambda: write_file(out, report.data))
    click.echo(
        SAFETY_WRITTEN.format(
            scope=ALL_SITES_SCOPE
            if report.report["scope"]["all"]
            else report.report["scope"]["label"],
            path=out,
            events=report.report["events"]["count"],
            serious=len(report.report["serious"]["rows"]),
            size=max(1, round(len(report.data) / 1024)),
        )
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
        report = build_imaging_report(
            current_study(), plan, actor=None, site_code=site, subject=subject
        )
        pdf = imaging_pdf(report, actor=None)
    except NotFound:
        raise click.ClickException(NO_SUBJECT.format(subject=(subject or "").strip())) from None
    except DomainError as error:
        raise click.ClickException(error.message) from None
    transaction.perform(lambda: write_file(out, pdf))
    click.echo(
        WROTE_IMAGING.format(
            path=out,
            subjects=len(report.subjects),
            lesions=report.lesions.count,
            scope=scope_text(report),
        )
    )


# --- the blank annotated CRF ------------------------------------------------------------


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
        pages = write_acrf(study, out)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror or exc}.") from None
    click.echo(
        f"Wrote {out}: the annotated CRF of study definition {study.version},"
        f" {pages} pages, in {time.monotonic() - started:.0f} s."
    )
