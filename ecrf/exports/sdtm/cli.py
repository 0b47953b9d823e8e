"""`ecrf export sdtm`: the SDTM datasets for the operator (free text included)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf.exports.sdtm.service import write_sdtm
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site

NO_SITE = "No site with code {code!r}."
NOT_A_FOLDER = "{path} exists and is not a folder."
NOT_EMPTY = "{path} is not empty: choose a new or empty folder."
WRITTEN = "SDTM datasets written to {folder} (archive: {archive})."


@click.command("sdtm")
@with_appcontext
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    help="New or empty folder for csv/, xpt/, json/, define.csv and sdtm.zip.",
)
@click.option("--site", "site_code", help="Only the subjects of this site (code).")
def export_sdtm(out: Path, site_code: str | None) -> None:
    """SDTM datasets (DM, IE, MH, CM, EX, AE, LB, VS, TU, TR, RS and SUPP--) as CSV, SAS
    transport v5 and Dataset-JSON v1.1, with a define document (define.csv)."""
    site_ids = None
    if site_code:
        site = get_site(site_code)
        if site is None:
            raise click.ClickException(NO_SITE.format(code=site_code))
        site_ids = {site.id}
    if out.exists() and not out.is_dir():
        raise click.ClickException(NOT_A_FOLDER.format(path=out))
    if out.is_dir() and any(out.iterdir()):
        raise click.ClickException(NOT_EMPTY.format(path=out))
    archive = write_sdtm(current_study(), out, site_ids=site_ids, actor=None)
    click.echo(WRITTEN.format(folder=out, archive=archive))
