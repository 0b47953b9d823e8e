"""`ecrf report …`: the PDF reports from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.reporting.plans import report_plan
from ecrf.reporting.safety import NO_PLAN, safety_pdf
from ecrf.reporting.scope import scoped_site_ids

report_cli = AppGroup(
    "report", help="Write PDF reports (casebooks, annotated CRF, imaging, safety)."
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
        report = safety_pdf(plan, site_ids, actor=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(report.data)
    partial.replace(out)
    db.session.commit()
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
