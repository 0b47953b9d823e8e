"""Locks as the pages show them: the marks on the subject matrix and the subject page, and
the list of locks (active and lifted) a data manager sees."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.auth.models import User
from ecrf.auth.permissions import ALL_SITES, sites_with
from ecrf.auth.roles import Perm
from ecrf.extensions import db
from ecrf.locks.models import DataLock, LockLevel
from ecrf.locks.services import LockTarget
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Subject

#: How many lifted locks the list shows, the latest first.
HISTORY_SHOWN = 200

# What a lock holds, as the pages name it (a translation will follow).
DESCRIBE = {
    LockLevel.FORM: "form {form} of visit {visit}, subject {subject}",
    LockLevel.VISIT: "visit {visit}, subject {subject}",
    LockLevel.SUBJECT: "subject {subject}",
    LockLevel.SITE: "site {site}",
    LockLevel.STUDY: "the whole study (database freeze)",
}


def _describe(study: LoadedStudy, level: LockLevel, site_code, identifier, visit, repeat, form):
    visit_name = study.visits[visit].name if visit in study.visits else (visit or "")
    if repeat and repeat > 1:
        visit_name = f"{visit_name} #{repeat}"
    return DESCRIBE[level].format(
        form=study.forms[form].name if form in study.forms else (form or ""),
        visit=visit_name,
        subject=identifier or "",
        site=site_code or "",
    )


def describe(study: LoadedStudy, lock: DataLock) -> str:
    """What ``lock`` holds, in words."""
    return _describe(
        study,
        lock.level,
        lock.site.code if lock.site else None,
        lock.subject.identifier if lock.subject else None,
        lock.visit_oid,
        lock.visit_repeat,
        lock.form_oid,
    )


def describe_target(study: LoadedStudy, target: LockTarget) -> str:
    """What locking ``target`` would hold, in words."""
    return _describe(
        study,
        target.level,
        target.site.code if target.site else None,
        target.subject.identifier if target.subject else None,
        target.visit_oid,
        target.visit_repeat,
        target.form_oid,
    )


class LockMarks:
    """The active locks over some subjects, read in one query, answering which lock (the
    broadest) holds a subject, one of its visits or one of its forms."""

    def __init__(self, subjects: Iterable[Subject]) -> None:
        subjects = list(subjects)
        subject_ids = [s.id for s in subjects]
        site_ids = sorted({s.site_id for s in subjects})
        self.locks: list[DataLock] = []
        if subjects:
            self.locks = list(
                db.session.scalars(
                    sa.select(DataLock)
                    .where(
                        DataLock.unlocked_at.is_(None),
                        sa.or_(
                            DataLock.level == LockLevel.STUDY,
                            sa.and_(
                                DataLock.level == LockLevel.SITE, DataLock.site_id.in_(site_ids)
                            ),
                            DataLock.subject_id.in_(subject_ids),
                        ),
                    )
                    .options(selectinload(DataLock.locked_by), selectinload(DataLock.subject))
                    .order_by(DataLock.id)
                )
            )
        self.locks.sort(key=lambda lock: lock.level.rank)

    def subject(self, subject: Subject) -> DataLock | None:
        """The lock that holds the whole subject (its own, its site's, the study's)."""
        return next(
            (
                lock
                for lock in self.locks
                if lock.level is LockLevel.STUDY
                or (lock.level is LockLevel.SITE and lock.site_id == subject.site_id)
                or (lock.level is LockLevel.SUBJECT and lock.subject_id == subject.id)
            ),
            None,
        )

    def visit(self, subject: Subject, visit_oid: str, repeat: int = 1) -> DataLock | None:
        """The lock that holds the visit: the subject's, or the visit's own."""
        return self.subject(subject) or next(
            (
                lock
                for lock in self.locks
                if lock.level is LockLevel.VISIT
                and (lock.subject_id, lock.visit_oid, lock.visit_repeat)
                == (subject.id, visit_oid, repeat)
            ),
            None,
        )

    def form(self, subject: Subject, visit_oid: str, repeat: int, form_oid: str) -> DataLock | None:
        """The lock that holds the form: the visit's, or the form's own."""
        return self.visit(subject, visit_oid, repeat) or next(
            (
                lock
                for lock in self.locks
                if lock.level is LockLevel.FORM
                and (lock.subject_id, lock.visit_oid, lock.visit_repeat, lock.form_oid)
                == (subject.id, visit_oid, repeat, form_oid)
            ),
            None,
        )

    def in_visit(self, subject: Subject, visit_oid: str, repeat: int = 1) -> list[DataLock]:
        """The visit's own lock and its forms' (not the subject's, site's or study's)."""
        return [
            lock
            for lock in self.locks
            if lock.level in (LockLevel.VISIT, LockLevel.FORM)
            and (lock.subject_id, lock.visit_oid, lock.visit_repeat)
            == (subject.id, visit_oid, repeat)
        ]

    def within(self, subject: Subject) -> int:
        """How many visits and forms of the subject are locked on their own (a subject not
        locked as a whole may have some)."""
        return sum(
            1
            for lock in self.locks
            if lock.subject_id == subject.id and lock.level in (LockLevel.VISIT, LockLevel.FORM)
        )


def _visible(query: sa.Select, user: User | None) -> sa.Select:
    sites = sites_with(user, Perm.LOCK_DATA) if user is not None else ALL_SITES
    if sites is ALL_SITES:
        return query
    return query.where(sa.or_(DataLock.site_id.is_(None), DataLock.site_id.in_(sites)))


def _loaded(query: sa.Select) -> sa.Select:
    return query.options(
        selectinload(DataLock.locked_by),
        selectinload(DataLock.unlocked_by),
        selectinload(DataLock.site),
        selectinload(DataLock.subject),
    )


def active_locks(user: User | None) -> list[DataLock]:
    """The active locks at the sites where ``user`` locks, and the study's, broadest first."""
    query = _loaded(sa.select(DataLock).where(DataLock.unlocked_at.is_(None)))
    locks = list(db.session.scalars(_visible(query, user).order_by(DataLock.target)))
    return sorted(locks, key=lambda lock: lock.level.rank)


def lifted_locks(user: User | None) -> list[DataLock]:
    """The latest lifted locks at the sites where ``user`` locks, and the study's."""
    query = _loaded(sa.select(DataLock).where(DataLock.unlocked_at.is_not(None)))
    return list(
        db.session.scalars(
            _visible(query, user)
            .order_by(DataLock.unlocked_at.desc(), DataLock.id.desc())
            .limit(HISTORY_SHOWN)
        )
    )


def may_see(user: User | None, lock: DataLock) -> bool:
    sites = sites_with(user, Perm.LOCK_DATA) if user is not None else ALL_SITES
    return sites is ALL_SITES or lock.site_id is None or lock.site_id in sites
