"""`ecrf audit verify`: prove the audit trail intact."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf.audit.services import verify_chain

audit_cli = AppGroup("audit", help="Check the audit trail.")


@audit_cli.command("verify")
def verify():
    """Walk the hash chain; exit 1 naming the first broken event."""
    checked, problem = verify_chain()
    if problem is not None:
        click.echo(
            f"Audit trail BROKEN at {problem} ({checked} events verified before it).", err=True
        )
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {checked} events verified.")
