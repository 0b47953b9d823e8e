"""The demo's locks (``ecrf demo``): a subject whose casebook the data manager locked, a
locked form at another site, and a lock lifted with its reason, so that a newcomer meets
the lock marks, the read-only pages and the history. Seeded through the services (audited)
as the demo data manager; deterministic (the same subjects for the same demo data)."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.extensions import db
from ecrf.locks import services
from ecrf.locks.services import LockTarget
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject, SubjectStatus, SubjectVisit

#: Who locks in the demo.
DEMO_DATA_MANAGER = "datamanager"
SUBJECT_REASON = "Casebook cleaned: every query closed, the data verified against the source."
FORM_REASON = "Screening data cleaned for the eligibility review."
LIFTED_REASON = "Interim review done."
UNLOCK_REASON = "The site corrects a date after the review's query."
DEMO_LOCKS = "The demo data manager locked {subject} (and {locks} more lock(s), one lifted)."
NO_DEMO_LOCKS = "No demo locks: too few subjects were seeded."


def _subjects(site_code: str) -> list[Subject]:
    return list(
        db.session.scalars(
            sa.select(Subject)
            .join(Site, Subject.site_id == Site.id)
            .where(Site.code == site_code)
            .order_by(Subject.number)
        )
    )


def _first_form(subject: Subject) -> tuple[str, str] | None:
    """The subject's first saved form at a visit occurring once: (visit OID, form OID)."""
    row = db.session.execute(
        sa.select(SubjectVisit.visit_oid, FormEntry.form_oid)
        .join(FormEntry, FormEntry.visit_id == SubjectVisit.id)
        .where(SubjectVisit.subject_id == subject.id, SubjectVisit.repeat_key == 1)
        .order_by(FormEntry.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def seed_demo_locks(study: LoadedStudy) -> str:
    """Lock, at BDX, the last subject whose participation is over (completed, else any
    ended, else the last one); at TLS, the first subject's first form; and lock then
    unlock, with its reason, the first form of BDX's first subject. Returns the line to
    print."""
    actor = db.session.scalar(sa.select(User).where(User.username == DEMO_DATA_MANAGER))
    bdx = _subjects("BDX")
    if not bdx:
        return NO_DEMO_LOCKS
    ended = [s for s in bdx if s.status is SubjectStatus.COMPLETED] or [
        s for s in bdx if s.status in (SubjectStatus.WITHDRAWN, SubjectStatus.SCREEN_FAILURE)
    ]
    locked = (ended or bdx)[-1]
    services.lock(study, LockTarget(subject=locked), SUBJECT_REASON, actor=actor)
    more = 0
    tls = _subjects("TLS")
    if tls and (form := _first_form(tls[0])):
        target = LockTarget(subject=tls[0], visit_oid=form[0], form_oid=form[1])
        services.lock(study, target, FORM_REASON, actor=actor)
        more += 1
    first = bdx[0]
    if first is not locked and (form := _first_form(first)):
        target = LockTarget(subject=first, visit_oid=form[0], form_oid=form[1])
        lifted = services.lock(study, target, LIFTED_REASON, actor=actor)
        services.unlock(lifted, UNLOCK_REASON, actor=actor)
        more += 1
    return DEMO_LOCKS.format(subject=locked.identifier, locks=more)
