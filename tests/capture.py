"""Helpers for tests of captured data: entries, audit events, stored values, racing
threads. Plain functions, imported by name (the fixtures live in conftest files)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Subject, SubjectVisit


def entry_of(subject: Subject, visit_oid: str, form_oid: str, repeat: int = 1) -> FormEntry | None:
    return db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit)
        .where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit_oid,
            SubjectVisit.repeat_key == repeat,
            FormEntry.form_oid == form_oid,
        )
    )


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


def snapshot() -> tuple[int, int, int, int]:
    """What a refused save must leave untouched."""
    return last_seq(), count(ItemValue), count(ItemGroupRow), count(FormEntry)


def refused(call, *args, **kwargs) -> services.ValidationFailed:
    with pytest.raises(services.ValidationFailed) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def where(issues) -> list[tuple]:
    return [(i.group_oid, i.row_key, i.item_oid, i.severity) for i in issues]
