"""`ecrf audit verify`: prove the audit trail intact and the data accounted for."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf.audit.services import verify_chain
from ecrf.crf.integrity import verify_values

audit_cli = AppGroup("audit", help="Check the audit trail.")


@audit_cli.command("verify")
def verify():
    """Walk the hash chain, then check every current value against the trail.

    Exits 1 naming the first broken event or the first value the trail does not account for.
    """
    checked, problem = verify_chain()
    if problem is not None:
        events = "event" if checked == 1 else "events"
        click.echo(
            f"Audit trail BROKEN at {problem} ({checked} {events} verified before it).", err=True
        )
        raise SystemExit(1)
    mismatch = verify_values()
    if mismatch is not None:
        click.echo(f"Data NOT accounted for by the audit trail: {mismatch}.", err=True)
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {checked} events verified; every stored value matches it.")
