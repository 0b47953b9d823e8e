"""`ecrf export queries`: the queries as one CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf import transaction
from ecrf.exports.queries_csv import write_queries
from ecrf.records.sites import get_site

NO_SUCH_SITE = "There is no site {code}."
IS_A_FOLDER = "{path} is a folder: give the CSV file's path."
WROTE = "Wrote {count} quer{plural} ({scope}) to {path}."


@click.command("queries")
@with_appcontext
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=True, path_type=Path),
    help="The CSV file to write (replaced if it exists).",
)
@click.option("--site", "site_code", help="Only the queries of this site's subjects (its code).")
def export_queries(out: Path, site_code: str | None):
    """Write every query, one row per query: site, subject, visit, form, row, item, state,
    the automatic check that opened it, the question, who opened it and when, the last
    answer (by whom, when), when it closed. The export is itself audited.
    """
    if out.is_dir():
        raise click.BadParameter(IS_A_FOLDER.format(path=out), param_hint="--out")
    site_ids = None
    if site_code:
        site = get_site(site_code)
        if site is None:
            raise click.BadParameter(NO_SUCH_SITE.format(code=site_code), param_hint="--site")
        site_ids = [site.id]
    count = transaction.command(lambda: write_queries(out, site_ids=site_ids, actor=None))
    scope = site_code.upper() if site_code else "all sites"
    plural = "y" if count == 1 else "ies"
    click.echo(WROTE.format(count=count, plural=plural, scope=scope, path=out))
