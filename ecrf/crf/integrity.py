"""Prove the stored clinical data from the audit trail: every current value must be the
last value the trail recorded for it (a value changed behind the application's back is not).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.crf.models import FormEntry, ItemGroupRow, ItemValue
from ecrf.crf.services import encode, field_path
from ecrf.extensions import db
from ecrf.study.models import Subject, Visit

_ITEM_PATH = re.compile(r"^\w+\[\d+\]\.\w+$")


def _last_recorded() -> dict[tuple[str, str, str], str | None]:
    """(entity, entity id, field) → the newest value the trail recorded."""
    last: dict[tuple[str, str, str], str | None] = {}
    query = (
        sa.select(AuditEvent.entity, AuditEvent.entity_id, AuditEvent.field, AuditEvent.new)
        .where(
            AuditEvent.entity.in_(("form_entry", "visit", "subject")), AuditEvent.field.is_not(None)
        )
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=5000)
    )
    for entity, entity_id, field, new in db.session.execute(query):
        if entity == "form_entry" and not _ITEM_PATH.match(field):
            continue
        last[(entity, entity_id, field)] = new
    return last


def verify_values() -> str | None:
    """The first stored value the trail does not account for, described; None when all agree."""
    last = _last_recorded()
    values = db.session.execute(
        sa.select(
            FormEntry.id,
            ItemGroupRow.group_oid,
            ItemGroupRow.repeat_key,
            ItemValue.item_oid,
            ItemValue.value_text,
            ItemValue.missing_code,
        )
        .join(ItemGroupRow, ItemGroupRow.entry_id == FormEntry.id)
        .join(ItemValue, ItemValue.row_id == ItemGroupRow.id)
        .order_by(FormEntry.id, ItemValue.id)
        .execution_options(yield_per=5000)
    )
    for entry_id, group_oid, key, item_oid, text, missing in values:
        path = field_path(group_oid, key, item_oid)
        stored = encode(text, missing)
        recorded_key = ("form_entry", str(entry_id), path)
        if recorded_key not in last and stored is None:
            continue
        if recorded_key not in last:
            return f"form entry {entry_id} {path} holds {stored!r} with no audit event"
        if last[recorded_key] != stored:
            return (
                f"form entry {entry_id} {path} holds {stored!r} "
                f"but the audit trail last recorded {last[recorded_key]!r}"
            )
    visits = db.session.execute(
        sa.select(Subject.identifier, Visit.visit_oid, Visit.repeat_key, Visit.visit_date).join(
            Subject
        )
    )
    for identifier, visit_oid, key, visit_date in visits:
        entity_id = f"{identifier}/{visit_oid}/{key}"
        stored = visit_date.isoformat() if visit_date else None
        recorded = last.get(("visit", entity_id, "visit_date"))
        if recorded != stored:
            return f"visit {entity_id} date is {stored!r} but the trail last recorded {recorded!r}"
    for identifier, status in db.session.execute(sa.select(Subject.identifier, Subject.status)):
        recorded = last.get(("subject", identifier, "status"))
        if recorded != status.value:
            return (
                f"subject {identifier} status is {status.value!r} but the trail says {recorded!r}"
            )
    return None
