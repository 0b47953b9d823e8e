"""The whole check of the audit trail, `ecrf audit verify`: the chain (keyed hashes, links,
order, times, checkpoints) and then the stored data of every package against it.

It sits above every package because it gathers each one's reconciler; the audit package
below them walks the chain and knows none of them.
"""

from __future__ import annotations

import click

from ecrf.api.integrity import TokenReconciler
from ecrf.audit import verify as chain_verify
from ecrf.audit.cli import audit_cli
from ecrf.audit.reconcile import Reconciler
from ecrf.auth.integrity import AccountReconciler
from ecrf.crf.integrity import CapturedDataReconciler
from ecrf.dashboards.integrity import MonitoringVisitReconciler
from ecrf.laboratories.integrity import LaboratoryReconciler
from ecrf.locks.integrity import LockReconciler
from ecrf.queries.integrity import QueryReconciler
from ecrf.review.integrity import ReviewMarkReconciler
from ecrf.sdv.integrity import VerificationReconciler
from ecrf.signatures.integrity import SignatureReconciler
from ecrf.study.integrity import StudyReconciler


def reconcilers() -> list[Reconciler]:
    return [
        StudyReconciler(),
        CapturedDataReconciler(),
        QueryReconciler(),
        LockReconciler(),
        SignatureReconciler(),
        MonitoringVisitReconciler(),
        VerificationReconciler(),
        AccountReconciler(),
        TokenReconciler(),
        ReviewMarkReconciler(),
        LaboratoryReconciler(),
    ]


def verify_trail(limit: int = 20) -> chain_verify.Verification:
    """Check everything; every problem is counted, the first ``limit`` are kept to show."""
    return chain_verify.verify_trail(reconcilers(), limit)


INTACT = (
    "Audit trail intact: {events} verified with the audit key, {checkpoints} matched; "
    "the data and the trail agree both ways ({seconds:.2f} s)."
)
BROKEN = "Audit trail NOT intact: {total} found ({seconds:.2f} s):"
MORE = "... and {more} more."


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
