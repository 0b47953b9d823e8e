"""`ecrf export audit`: the audit trail as one CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf.exports.audit_trail import write_audit_trail
from ecrf.records.sites import get_site

NO_SUCH_SITE = "There is no site {code}."
IS_A_FOLDER = "{path} is a folder: give the CSV file's path."
WROTE = "Wrote the audit trail ({scope}) to {path}."


@click.command("audit")
@with_appcontext
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=True, path_type=Path),
    help="The CSV file to write (replaced if it exists).",
)
@click.option("--site", "site_code", help="Only the events of this site (its code).")
def export_audit(out: Path, site_code: str | None):
    """Write the whole audit trail, or the events of one site, one row per event:
    seq, UTC time, who, action, entity, entity id, site, field, old, new, reason,
    definition version. Streamed (constant memory); the export is itself audited.
    """
    if out.is_dir():
        raise click.BadParameter(IS_A_FOLDER.format(path=out), param_hint="--out")
    site_ids = None
    if site_code:
        site = get_site(site_code)
        if site is None:
            raise click.BadParameter(NO_SUCH_SITE.format(code=site_code), param_hint="--site")
        site_ids = [site.id]
    write_audit_trail(out, site_ids=site_ids, actor=None)
    click.echo(WROTE.format(scope=site_code.upper() if site_code else "all sites", path=out))
