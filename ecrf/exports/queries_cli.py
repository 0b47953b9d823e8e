"""`ecrf export queries`: the queries as one CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf import transaction
from ecrf.exports.file_options import file_and_site
from ecrf.exports.queries_csv import write_queries

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
    site_ids = file_and_site(out, site_code)
    count = transaction.command(lambda: write_queries(out, site_ids=site_ids, actor=None))
    scope = site_code.upper() if site_code else "all sites"
    plural = "y" if count == 1 else "ies"
    click.echo(WROTE.format(count=count, plural=plural, scope=scope, path=out))
