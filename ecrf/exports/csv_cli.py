"""`ecrf export csv`: the tidy CSV bundle from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf import transaction
from ecrf.exports.csv_bundle import write_csv_bundle
from ecrf.exports.csv_layout import LONG_FILE
from ecrf.exports.manifest import read_manifest
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site

NO_SITE = "No site with code {code!r} (see `ecrf sites list`)."
OUT_NOT_DIR = "{path} exists and is not a folder."
WROTE = "Wrote {path} ({rows} rows of values; audit checkpoint #{seq})."


@click.command("csv")
@with_appcontext
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the zip into (created if missing).",
)
@click.option(
    "--site",
    "site_codes",
    multiple=True,
    help="Only this site (repeat for several). Default: every site.",
)
@click.option(
    "--for-sponsor",
    is_flag=True,
    help="Leave free-text items out, as in the sponsor's own extracts.",
)
def export_csv(out_dir: Path, site_codes: tuple[str, ...], for_sponsor: bool) -> None:
    """Write the tidy CSV bundle (one CSV per form, long file, dictionary, manifest) as a zip.

    The operator holds the database already, so the bundle includes free text (comments,
    "other, specify") unless --for-sponsor is given; subjects are always known by their
    pseudonymous code (SITE-NNN) only.
    """
    site_ids = None
    if site_codes:
        site_ids = []
        for code in site_codes:
            site = get_site(code)
            if site is None:
                raise click.ClickException(NO_SITE.format(code=code))
            site_ids.append(site.id)
    if out_dir.exists() and not out_dir.is_dir():
        raise click.ClickException(OUT_NOT_DIR.format(path=out_dir))
    study = current_study()
    try:
        path = transaction.perform(
            lambda: write_csv_bundle(
                study, out_dir, site_ids=site_ids, actor=None, withhold_free_text=for_sponsor
            )
        )
    except OSError as error:
        raise click.ClickException(str(error)) from error
    manifest = read_manifest(path)
    rows = next(f["rows"] for f in manifest["files"] if f["name"] == LONG_FILE)
    click.echo(WROTE.format(path=path, rows=rows, seq=manifest["audit_checkpoint"]["seq"]))
