"""`ecrf audit checkpoint` (and the group that `ecrf.integrity` adds `verify` to)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf.audit.checkpoints import checkpoint_path, write_checkpoint

audit_cli = AppGroup("audit", help="Verify the audit trail and checkpoint its head.")

CHECKPOINTED = "Checkpoint written to {path}: #{seq} {hash} at {when}."


@audit_cli.command("checkpoint")
def checkpoint():
    """Append the chain's committed head (sequence, hash, UTC time) to the checkpoint file.

    Run it at least daily (e.g. from cron) as well: checkpoints are also written after
    commits, but only while data are being written.
    """
    written = write_checkpoint()
    click.echo(
        CHECKPOINTED.format(
            path=checkpoint_path(), seq=written.seq, hash=written.hash, when=written.when
        )
    )
