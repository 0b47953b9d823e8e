"""`ecrf export audit`: the audit trail as one CSV file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ecrf.exports.audit_trail import write_audit_trail
from ecrf.exports.file_options import file_and_site

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
    site_ids = file_and_site(out, site_code)
    write_audit_trail(out, site_ids=site_ids, actor=None)
    click.echo(WROTE.format(scope=site_code.upper() if site_code else "all sites", path=out))
