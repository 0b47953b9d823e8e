"""Fixtures for service tests of the capture engine, on the mini study (tests/definitions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import FormEntry, Site, Subject, Visit
from ecrf.study import subjects


@pytest.fixture
def study(app_ctx) -> LoadedStudy:
    return current_study()


@pytest.fixture
def sites(create_site, app_ctx) -> dict[str, Site]:
    create_site("BDX")
    create_site("TLS")
    return {s.code: s for s in db.session.scalars(sa.select(Site))}


@pytest.fixture
def staff(sites, create_user) -> User:
    """Site staff at BDX: may enter data there."""
    return db.session.get(User, create_user("bdx.nurse", Role.SITE_STAFF, "BDX"))


@pytest.fixture
def other_staff(sites, create_user) -> User:
    """Site staff at TLS: may enter data there only."""
    return db.session.get(User, create_user("tls.nurse", Role.SITE_STAFF, "TLS"))


@pytest.fixture
def investigator(sites, create_user) -> User:
    """The investigator at BDX: enters data and decides inclusion and withdrawal there."""
    return db.session.get(User, create_user("bdx.investigator", Role.INVESTIGATOR, "BDX"))


@pytest.fixture
def monitor(sites, create_user) -> User:
    """A monitor at BDX: sees the data but may not enter it."""
    return db.session.get(User, create_user("bdx.monitor", Role.MONITOR, "BDX"))


@pytest.fixture
def subject(sites, staff) -> Subject:
    """BDX-001, registered and committed."""
    registered = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    return registered


def entry_of(subject: Subject, visit_oid: str, form_oid: str, repeat: int = 1) -> FormEntry | None:
    return db.session.scalar(
        sa.select(FormEntry)
        .join(Visit)
        .where(
            Visit.subject_id == subject.id,
            Visit.visit_oid == visit_oid,
            Visit.repeat_key == repeat,
            FormEntry.form_oid == form_oid,
        )
    )


@pytest.fixture
def save(study, staff) -> Callable[..., services.SaveResult]:
    """save_form as a view calls it (from the entry's current version), then commit."""

    def do(
        subject: Subject,
        visit_oid: str,
        form_oid: str,
        rows: services.Submitted,
        *,
        actor: User | None = staff,
        version: int | None = None,
        visit_repeat: int = 1,
        **options: Any,
    ) -> services.SaveResult:
        if version is None:
            entry = entry_of(subject, visit_oid, form_oid, visit_repeat)
            version = entry.version if entry else 0
        result = services.save_form(
            study,
            subject,
            visit_oid,
            form_oid,
            rows,
            actor=actor,
            expected_version=version,
            visit_repeat=visit_repeat,
            **options,
        )
        db.session.commit()
        return result

    return do


def events(
    entity_id: object, action: str | None = None, entity: str = "form_entry"
) -> list[AuditEvent]:
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.seq)
    )
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def changes(entity_id: object, action: str | None = None) -> list[tuple]:
    """(action, field, old, new, reason) of a form entry's item-level events."""
    return [
        (e.action, e.field, e.old, e.new, e.reason)
        for e in events(entity_id, action)
        if e.field is not None
    ]


def last_seq() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.seq), 0)))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def value(study: LoadedStudy, subject: Subject, ref: str) -> Any:
    """The stored typed value of ``VISIT.FORM.ITEM``, read back from the database."""
    db.session.expire_all()
    visit_oid, form_oid, item_oid = ref.split(".")
    return SubjectData.load(study, subject).value(visit_oid, form_oid, item_oid)


def rows(study: LoadedStudy, subject: Subject, visit_oid: str, form_oid: str, group_oid: str):
    db.session.expire_all()
    return SubjectData.load(study, subject).rows(visit_oid, form_oid, group_oid)


@pytest.fixture
def slow_reads(monkeypatch):
    """Pause after each read of a subject's data, so that racing writers overlap for sure."""
    load = SubjectData.load.__func__

    def slow_load(cls, study, subject):
        data = load(cls, study, subject)
        time.sleep(0.2)
        return data

    monkeypatch.setattr(SubjectData, "load", classmethod(slow_load))


def race(app, count_: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` in ``count_`` threads, each in its own app context and session, all
    released at once; return what each returned or raised, in thread order."""
    start = threading.Barrier(count_)
    outcomes: list[Any] = [None] * count_

    def run(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                outcomes[n] = work(n)
                db.session.commit()
            except BaseException as exc:  # reported to the test
                db.session.rollback()
                outcomes[n] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
