"""`ecrf export odm` and `ecrf import odm`: CDISC ODM 1.3.2 out and in."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf import transaction
from ecrf.audit.checkpoints import write_checkpoint
from ecrf.exports.odm.importer import ImportRefused, import_odm
from ecrf.exports.odm.writer import write_odm
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site


@click.command("odm")
@with_appcontext
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The ODM XML file to write.",
)
@click.option("--site", "site_code", help="Only this site's subjects (code); default: all.")
def export_odm(out: Path, site_code: str | None) -> None:
    """Write the study's metadata and clinical data as a CDISC ODM 1.3.2 file (everything,
    free text included: the operator holds the database)."""
    site_ids = None
    if site_code:
        site = get_site(site_code)
        if site is None:
            raise click.ClickException(f"No site with code {site_code!r}.")
        site_ids = [site.id]
    study = current_study()
    try:
        path = transaction.perform(lambda: write_odm(study, out, site_ids=site_ids, actor=None))
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror or exc}.") from None
    click.echo(f"Wrote {path}.")
    click.echo(f"Audit checkpoint: event #{write_checkpoint().seq}.")


@click.command("odm")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_odm_command(file: Path) -> None:
    """Bring the subjects of an ODM 1.3.2 FILE of this study in through the write path, as
    one transaction: on any problem, nothing is written and every problem is listed.

    The command-line operator enters the data and takes the investigator's decisions
    (inclusion, screen failure, withdrawal) the file records.
    """
    study = current_study()
    try:
        report = transaction.perform(lambda: import_odm(study, file))
    except ImportRefused as exc:
        lines = "\n".join(f"  {problem}" for problem in exc.problems)
        raise click.ClickException(f"{exc.message}\n{lines}") from None
    click.echo(report.summary())
    click.echo(f"Audit checkpoint: event #{write_checkpoint().seq}.")
