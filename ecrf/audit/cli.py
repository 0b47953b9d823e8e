"""`ecrf audit verify` and `ecrf audit checkpoint`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ecrf.audit.checkpoints import checkpoint_path, write_checkpoint
from ecrf.audit.verify import verify_trail

audit_cli = AppGroup("audit", help="Verify the audit trail and checkpoint its head.")

INTACT = (
    "Audit trail intact: {events} verified with the audit key, {checkpoints} matched; "
    "the data and the trail agree both ways ({seconds:.2f} s)."
)
BROKEN = "Audit trail NOT intact: {total} found ({seconds:.2f} s):"
MORE = "... and {more} more."
CHECKPOINTED = "Checkpoint written to {path}: #{seq} {hash} at {when}."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@audit_cli.command("verify")
def verify():
    """Check the chain (keyed hashes, links, order, times) against the checkpoints, and the
    stored data against the trail both ways.

    Exits 1 naming every problem found (the first 20, and how many in all).
    """
    result = verify_trail()
    if result.intact:
        click.echo(
            INTACT.format(
                events=_plural(result.chain.events, "event"),
                checkpoints=_plural(result.chain.checkpoints_matched, "checkpoint"),
                seconds=result.seconds,
            )
        )
        return
    problems = result.problems
    click.echo(
        BROKEN.format(total=_plural(problems.total, "problem"), seconds=result.seconds), err=True
    )
    for problem in problems.shown:
        click.echo(f"- {problem}", err=True)
    if problems.total > len(problems.shown):
        click.echo(MORE.format(more=problems.total - len(problems.shown)), err=True)
    raise SystemExit(1)


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
