"""`ecrf lock` and `ecrf unlock`: the database freeze (or a site's, or a subject's lock)
from the command line, as the operator, audited like the pages' locks."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ecrf import transaction
from ecrf.extensions import db
from ecrf.locks import listing, services
from ecrf.locks.models import DataLock
from ecrf.records.loader import current_study
from ecrf.records.models import Subject
from ecrf.records.sites import get_site

NO_SITE = "No site with code {code!r}."
NO_SUBJECT = "No subject {identifier!r}."
ONE_TARGET = "Give --site or --subject, not both."
NOT_LOCKED = "Not locked: {what}."
DONE_LOCK = "Locked: {what} (lock {id})."
DONE_UNLOCK = "Unlocked: {what} (lock {id})."


def _target(site_code: str | None, identifier: str | None) -> services.LockTarget:
    if site_code and identifier:
        raise click.UsageError(ONE_TARGET)
    if identifier:
        subject = db.session.scalar(
            sa.select(Subject).where(Subject.identifier == identifier.upper())
        )
        if subject is None:
            raise click.ClickException(NO_SUBJECT.format(identifier=identifier))
        return services.LockTarget(subject=subject)
    if site_code:
        site = get_site(site_code)
        if site is None:
            raise click.ClickException(NO_SITE.format(code=site_code))
        return services.LockTarget(site=site)
    return services.LockTarget()


@click.command("lock")
@click.option("--site", "site_code", help="Lock this site (code) rather than the whole study.")
@click.option("--subject", "identifier", help="Lock this subject rather than the whole study.")
@click.option("--reason", default="", help="Why (kept with the lock and in the audit trail).")
@with_appcontext
def lock_command(site_code, identifier, reason):
    """Freeze the whole study (the database lock before analysis), or lock one site or one
    subject: nothing under it can be saved until it is unlocked."""
    study = current_study()
    target = _target(site_code, identifier)
    made = transaction.command(lambda: services.lock(study, target, reason, actor=None))
    click.echo(DONE_LOCK.format(what=listing.describe_target(study, target), id=made.id))


@click.command("unlock")
@click.option("--site", "site_code", help="Unlock this site (code) rather than the study.")
@click.option("--subject", "identifier", help="Unlock this subject rather than the study.")
@click.option("--reason", required=True, help="Why the data are unlocked (required).")
@with_appcontext
def unlock_command(site_code, identifier, reason):
    """Lift the study's freeze, or the lock of one site or one subject, saying why."""
    study = current_study()
    target = _target(site_code, identifier)
    what = listing.describe_target(study, target)
    held = db.session.scalar(
        sa.select(DataLock).where(DataLock.unlocked_at.is_(None), DataLock.target == target.name)
    )
    if held is None:
        raise click.ClickException(NOT_LOCKED.format(what=what))
    transaction.command(lambda: services.unlock(held, reason, actor=None))
    click.echo(DONE_UNLOCK.format(what=what, id=held.id))
