"""Lock and unlock data; find the lock that covers a write, and refuse the write.

A lock covers its target and everything under it: the study every site, a site its
subjects (and new registrations there), a subject its status, visits and forms, a visit its
date and forms, a form its values and rows. Locked data refuse every write of the write
paths (``ecrf.crf``, ``ecrf.study.subjects``), with a message naming what is locked, by whom
and when. Queries may still be raised and answered on locked data: a data clarification is
not a change of the data (a correction, if one is needed, waits for an unlock).

Only data managers lock (``Perm.LOCK_DATA``), checked at the target's site; the whole study
needs the right at every site. Unlocking needs a reason. Both are audited. Every function
flushes and records its audit event; none commits. The command-line operator
(``actor=None``) may do all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import ALL_SITES, require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import Locked, NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.locks.models import DataLock, LockLevel
from ecrf.records.data import as_loaded, plain_rows
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site, Subject, SubjectVisit
from forms.language import VisitKind

#: Characters a reason may hold.
MAX_REASON = 1000

# User-facing text, in one place (a translation will follow). The refusals name what is
# locked, by whom and when ({when} in UTC), and what to do.
REFUSED = {
    LockLevel.FORM: "This form is locked: {form} of visit {visit} of {subject} was locked by"
    " {who} on {when}. Nothing was saved; ask a data manager to unlock it if a change is"
    " needed.",
    LockLevel.VISIT: "This visit is locked: visit {visit} of {subject} was locked by {who} on"
    " {when}. Nothing was saved; ask a data manager to unlock it if a change is needed.",
    LockLevel.SUBJECT: "This subject is locked: {subject} was locked by {who} on {when}."
    " Nothing was saved; ask a data manager to unlock it if a change is needed.",
    LockLevel.SITE: "This site is locked: site {site} was locked by {who} on {when}. Nothing"
    " was saved; ask a data manager to unlock it if a change is needed.",
    LockLevel.STUDY: "The study is locked (database freeze) since {when}, by {who}. Nothing"
    " was saved; ask a data manager to unlock it if a change is needed.",
}
#: The same, shown before anyone tries (banners on the pages).
NOTICE = {
    LockLevel.FORM: "Locked: this form was locked by {who} on {when}. It cannot be changed"
    " until a data manager unlocks it.",
    LockLevel.VISIT: "Locked: visit {visit} was locked by {who} on {when}. Its forms and date"
    " cannot be changed until a data manager unlocks it.",
    LockLevel.SUBJECT: "Locked: subject {subject} was locked by {who} on {when}. Nothing of it"
    " can be changed until a data manager unlocks it.",
    LockLevel.SITE: "Locked: site {site} was locked by {who} on {when}. Nothing of its subjects"
    " can be changed until a data manager unlocks it.",
    LockLevel.STUDY: "Locked: the whole study was frozen by {who} on {when} (database freeze)."
    " Nothing can be changed until a data manager unlocks it.",
}
ALREADY_LOCKED = "Already locked: {what} is covered by the lock of {target} ({who}, {when})."
NOT_LOCKED = "This lock was lifted already."
UNLOCK_REASON_NEEDED = "Say why the data are unlocked."
REASON_TOO_LONG = "At most {limit} characters."
NO_SUCH_VISIT = "There is no such visit for this subject."
NO_SUCH_FORM = "This form is not part of this visit."
STUDY_LOCK_DENIED = "Only a data manager of every site may lock or unlock the whole study."
STUDY_TARGET = "study"


@dataclass(frozen=True)
class LockTarget:
    """What to lock: the study (nothing given), a site, a subject, a visit of the subject
    (its OID and occurrence) or a form of that visit."""

    site: Site | None = None
    subject: Subject | None = None
    visit_oid: str | None = None
    visit_repeat: int = 1
    form_oid: str | None = None

    @property
    def level(self) -> LockLevel:
        if self.form_oid is not None:
            return LockLevel.FORM
        if self.visit_oid is not None:
            return LockLevel.VISIT
        if self.subject is not None:
            return LockLevel.SUBJECT
        if self.site is not None:
            return LockLevel.SITE
        return LockLevel.STUDY

    @property
    def site_id(self) -> int | None:
        if self.subject is not None:
            return self.subject.site_id
        return self.site.id if self.site is not None else None

    @property
    def name(self) -> str:
        """The target as the audit trail and the lock list name it."""
        if self.subject is None:
            return self.site.code if self.site is not None else STUDY_TARGET
        path = self.subject.identifier
        if self.visit_oid is not None:
            path += f"/{self.visit_oid}[{self.visit_repeat}]"
        if self.form_oid is not None:
            path += f"/{self.form_oid}"
        return path


def when(lock: DataLock) -> str:
    return lock.locked_at.strftime("%Y-%m-%d %H:%M UTC")


def _words(lock: DataLock, study: LoadedStudy | None) -> dict:
    visit = lock.visit_oid or ""
    form = lock.form_oid or ""
    if study is not None:
        if lock.visit_oid in study.visits:
            visit = study.visits[lock.visit_oid].name
        if lock.form_oid in study.forms:
            form = study.forms[lock.form_oid].name
    if lock.visit_repeat and lock.visit_repeat > 1:
        visit = f"{visit} #{lock.visit_repeat}"
    return {
        "who": lock.locked_by_name,
        "when": when(lock),
        "subject": lock.subject.identifier if lock.subject else "",
        "site": lock.site.code if lock.site else "",
        "visit": visit,
        "form": form,
    }


def refusal(lock: DataLock, study: LoadedStudy | None = None) -> str:
    """Why a write under ``lock`` is refused, for the user who tried it."""
    return REFUSED[lock.level].format(**_words(lock, study))


def notice(lock: DataLock, study: LoadedStudy | None = None) -> str:
    """The banner of a page whose data ``lock`` holds."""
    return NOTICE[lock.level].format(**_words(lock, study))


def _broadest_first():
    return sa.case({level.value: level.rank for level in LockLevel}, value=DataLock.level)


def _active():
    return sa.select(DataLock).where(DataLock.unlocked_at.is_(None))


def covering_lock(
    subject: Subject,
    visit_oid: str | None = None,
    visit_repeat: int = 1,
    form_oid: str | None = None,
) -> DataLock | None:
    """The broadest active lock over the subject (no visit given), one of its visits (no
    form given) or a form of the visit; None when nothing holds it. One query."""
    query = _covering(visit_oid is not None, visit_oid is not None and form_oid is not None)
    # Read as a plain row: nearly always there is none (the ORM's handling costs more).
    found = plain_rows(
        query,
        {
            "site_id": subject.site_id,
            "subject_id": subject.id,
            "visit_oid": visit_oid,
            "visit_repeat": visit_repeat,
            "form_oid": form_oid,
        },
    ).first()
    return as_loaded(DataLock, found) if found is not None else None


@functools.cache
def _covering(visit: bool, form: bool) -> sa.Select:
    """``covering_lock``'s query, built once (every save asks it): with a visit, a form."""
    subject_id = sa.bindparam("subject_id")
    covers = [
        DataLock.level == LockLevel.STUDY,
        sa.and_(DataLock.level == LockLevel.SITE, DataLock.site_id == sa.bindparam("site_id")),
        sa.and_(DataLock.level == LockLevel.SUBJECT, DataLock.subject_id == subject_id),
    ]
    if visit:
        same_visit = sa.and_(
            DataLock.subject_id == subject_id,
            DataLock.visit_oid == sa.bindparam("visit_oid"),
            DataLock.visit_repeat == sa.bindparam("visit_repeat"),
        )
        covers.append(sa.and_(DataLock.level == LockLevel.VISIT, same_visit))
        if form:
            covers.append(
                sa.and_(
                    DataLock.level == LockLevel.FORM,
                    same_visit,
                    DataLock.form_oid == sa.bindparam("form_oid"),
                )
            )
    return _active().where(sa.or_(*covers)).order_by(_broadest_first(), DataLock.id).limit(1)


def site_lock(site_id: int) -> DataLock | None:
    """The active lock of the study or of the site, if any (what refuses registrations)."""
    return db.session.scalar(
        _active()
        .where(
            sa.or_(
                DataLock.level == LockLevel.STUDY,
                sa.and_(DataLock.level == LockLevel.SITE, DataLock.site_id == site_id),
            )
        )
        .order_by(_broadest_first(), DataLock.id)
        .limit(1)
    )


def study_lock() -> DataLock | None:
    return db.session.scalar(_active().where(DataLock.level == LockLevel.STUDY).limit(1))


class DataLocked(Locked):
    """A write refused because a lock holds the data; ``lock`` is the one that does."""

    def __init__(self, lock: DataLock, study: LoadedStudy | None = None) -> None:
        super().__init__(refusal(lock, study))
        self.lock = lock


def locked_refusal(
    study: LoadedStudy | None,
    subject: Subject,
    visit_oid: str | None = None,
    visit_repeat: int = 1,
    form_oid: str | None = None,
) -> str | None:
    """The refusal of a write to what is given, when a lock holds it (None: not locked)."""
    lock = covering_lock(subject, visit_oid, visit_repeat, form_oid)
    return refusal(lock, study) if lock is not None else None


def refuse_if_locked(
    study: LoadedStudy | None,
    subject: Subject,
    visit_oid: str | None = None,
    visit_repeat: int = 1,
    form_oid: str | None = None,
) -> None:
    """:raises DataLocked: a lock holds the subject, the visit or the form given."""
    lock = covering_lock(subject, visit_oid, visit_repeat, form_oid)
    if lock is not None:
        raise DataLocked(lock, study)


def refuse_if_site_locked(site: Site) -> None:
    """:raises DataLocked: the study or the site is locked (no new subject there)."""
    lock = site_lock(site.id)
    if lock is not None:
        raise DataLocked(lock)


# --- locking --------------------------------------------------------------------------------


def may_lock_study(actor: User | None) -> bool:
    """Whether ``actor`` holds the right to lock at every site (the study freeze)."""
    if actor is None:
        return True
    sites = sites_with(actor, Perm.LOCK_DATA)
    if sites is ALL_SITES:
        return True
    every = set(db.session.scalars(sa.select(Site.id)))
    return bool(sites) and every <= sites


def _require(actor: User | None, level: LockLevel, site_id: int | None) -> None:
    if actor is None:
        return
    if level is LockLevel.STUDY:
        if not may_lock_study(actor):
            raise PermissionDenied(STUDY_LOCK_DENIED)
        return
    require_permission(actor, Perm.LOCK_DATA, site_id)


def require_lock_right(actor: User | None, target: LockTarget) -> None:
    """:raises PermissionDenied: ``actor`` may not lock ``target`` (nor unlock it)."""
    _require(actor, target.level, target.site_id)


def _reason(text: str | None, *, needed: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        if needed:
            raise RuleViolation(needed, field="reason")
        return None
    if len(text) > MAX_REASON:
        raise RuleViolation(REASON_TOO_LONG.format(limit=MAX_REASON), field="reason")
    return text


def check_target(study: LoadedStudy, target: LockTarget) -> None:
    """:raises NotFound: the visit or form is not one of the study's for the subject (an
    unscheduled visit's occurrence must exist; scheduled visits occur once)."""
    if target.visit_oid is None:
        return
    definition = study.visits.get(target.visit_oid)
    if definition is None or target.visit_repeat < 1:
        raise NotFound(NO_SUCH_VISIT)
    if target.form_oid is not None and target.form_oid not in definition.forms:
        raise NotFound(NO_SUCH_FORM)
    if definition.kind is VisitKind.UNSCHEDULED:
        exists = db.session.scalar(
            sa.select(SubjectVisit.id).where(
                SubjectVisit.subject_id == target.subject.id,
                SubjectVisit.visit_oid == target.visit_oid,
                SubjectVisit.repeat_key == target.visit_repeat,
            )
        )
        if exists is None:
            raise NotFound(NO_SUCH_VISIT)
    elif target.visit_repeat != 1:
        raise NotFound(NO_SUCH_VISIT)


def covering_target(target: LockTarget) -> DataLock | None:
    """The active lock that holds ``target`` already (its own or a broader one)."""
    if target.subject is not None:
        return covering_lock(target.subject, target.visit_oid, target.visit_repeat, target.form_oid)
    if target.site is not None:
        return site_lock(target.site.id)
    return study_lock()


def _hold(target: LockTarget) -> None:
    """Take the row lock a write under the target takes first (the subject's; the site's
    for a site), so a save running meanwhile either ends before the lock or sees it."""
    if target.subject is not None:
        db.session.execute(
            sa.update(Subject)
            .where(Subject.id == target.subject.id)
            .values(number=Subject.number)
            .execution_options(synchronize_session=False)
        )
    elif target.site is not None:
        db.session.execute(
            sa.update(Site)
            .where(Site.id == target.site.id)
            .values(last_subject_number=Site.last_subject_number)
            .execution_options(synchronize_session=False)
        )


def lock(
    study: LoadedStudy, target: LockTarget, reason: str | None = None, *, actor: User | None
) -> DataLock:
    """Lock ``target``, with an optional reason.

    :raises PermissionDenied: the actor may not lock at the target's site (the study: at
        every site).
    :raises NotFound: no such visit or form for the subject.
    :raises RuleViolation: a lock holds the target already (its own or a broader one), or
        the reason is too long (at ``reason``).
    """
    _require(actor, target.level, target.site_id)
    check_target(study, target)
    reason = _reason(reason, needed=None)
    _hold(target)
    held = covering_target(target)
    if held is not None:
        raise RuleViolation(
            ALREADY_LOCKED.format(
                what=target.name,
                target=held.target,
                who=held.locked_by_name,
                when=when(held),
            )
        )
    made = DataLock(
        level=target.level,
        target=target.name,
        site_id=target.site_id,
        subject_id=target.subject.id if target.subject else None,
        visit_oid=target.visit_oid,
        visit_repeat=target.visit_repeat if target.visit_oid else None,
        form_oid=target.form_oid,
        lock_reason=reason,
        locked_by_id=actor.id if actor else None,
    )
    db.session.add(made)
    db.session.flush()
    record_event(
        "data_locked",
        "data_lock",
        made.id,
        actor=actor,
        site_id=made.site_id,
        field=made.target,
        new=made.level.value,
        reason=reason,
    )
    return made


def unlock(data_lock: DataLock, reason: str, *, actor: User | None) -> DataLock:
    """Lift ``data_lock``, saying why; the lock stays in the history.

    :raises PermissionDenied: the actor may not lock at the target's site.
    :raises RuleViolation: no reason, or a reason too long (at ``reason``); the lock is
        lifted already.
    """
    _require(actor, data_lock.level, data_lock.site_id)
    reason = _reason(reason, needed=UNLOCK_REASON_NEEDED)
    if not data_lock.active:
        raise RuleViolation(NOT_LOCKED)
    data_lock.unlocked_at = utcnow()
    data_lock.unlocked_by_id = actor.id if actor else None
    data_lock.unlock_reason = reason
    db.session.flush()
    record_event(
        "data_unlocked",
        "data_lock",
        data_lock.id,
        actor=actor,
        site_id=data_lock.site_id,
        field=data_lock.target,
        old=data_lock.level.value,
        reason=reason,
    )
    return data_lock
