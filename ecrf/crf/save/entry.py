"""Steps 2 and 3: the subject locked and read afresh, the form's entry found or created,
and its version moved on only if nobody saved it since the user opened it."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth.models import RoleAssignment, User
from ecrf.crf.save.outcome import StaleEntry, ValidationFailed
from ecrf.crf.save.plan import FormSave
from ecrf.crf.save.reads import save_reads
from ecrf.db import utcnow
from ecrf.errors import NotFound, RuleViolation
from ecrf.extensions import db
from ecrf.records.data import EntryData, SubjectData, as_loaded
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import DefinitionVersion, FormEntry, SubjectVisit
from ecrf.study import gates
from ecrf.study.schedule import applicable
from ecrf.study.subjects import ensure_visit, lock_subject
from forms.language import VisitKind

#: What the subject's lock does not cover, kept loaded through it: the accounts acting.
_NOT_SUBJECT_DATA = (User, RoleAssignment)


def lock_and_read(save: FormSave) -> SubjectData:
    """Hold the subject's lock, then read all its data once.

    :raises RuleViolation: the visit does not apply to this subject.
    :raises NotFound: an unscheduled visit that does not exist.
    """
    if lock_subject(save.subject):
        # Read after the lock, and afresh: objects this session loaded before it may be
        # stale. Once the transaction holds the lock, nobody else writes this subject: what
        # the session loaded since, and wrote itself, is current (a patient replayed in one
        # transaction reads its data once). The lock's own statement read the subject; the
        # accounts acting are not the subject's data (the permission was decided on them).
        for instance in list(db.session.identity_map.values()):
            if instance is not save.subject and not isinstance(instance, _NOT_SUBJECT_DATA):
                db.session.expire(instance)
    reads = save_reads(save.study, save.visit_oid, save.form_oid)
    data = SubjectData.load(save.study, save.subject, focus=save.entry_key, reads=reads)
    if not applicable(save.study, data, save.visit_def):
        raise RuleViolation(f"{save.visit_def.name} does not apply to this subject.")
    key = (save.visit_oid, save.visit_repeat)
    if save.visit_def.kind is VisitKind.UNSCHEDULED and key not in data.visits:
        raise NotFound("This unscheduled visit does not exist.")
    return data


def check_gate(save: FormSave, data: SubjectData) -> gates.FormGate:
    """Refuse, before anything is written, a save the subject's stage does not allow (no
    consent yet, a new visit after the end); return the gate (whether a reason is due)."""
    gate = gates.form_gate(
        save.study, save.subject, data, save.visit_oid, save.visit_repeat, save.form_oid
    )
    if gate.closed:
        raise ValidationFailed([], [gate.closed])
    return gate


#: ``current_app.extensions`` key: the published records of definition versions, by (study
#: OID, version), as their columns. A record is written once and never changed: once a
#: transaction has read it committed, later saves know it without a statement.
_PUBLISHED = "ecrf.published_definitions"
#: Session.info key: the transaction that created a record (known only once it commits).
_PUBLISHED_IN = "ecrf.definition_published_in"


def publish_definition(study: LoadedStudy) -> DefinitionVersion:
    """The stored record of the running definition version, created at first use.

    :raises RuntimeError: the same version number was published with other content.
    """
    key = (study.study.oid, study.version)
    known = current_app.extensions.setdefault(_PUBLISHED, {})
    if key in known:
        # In the session as if read: no statement (the record never changes).
        record, digest = as_loaded(DefinitionVersion, known[key]), known[key]["digest"]
    else:
        record = _read_or_publish(study)
        digest = record.digest
        if db.session.info.get(_PUBLISHED_IN) is not db.session().get_transaction():
            # Committed (by an earlier transaction or another worker): it stays as it is.
            known[key] = {column: getattr(record, column) for column in _COLUMNS}
    if digest != study.digest:
        raise RuntimeError(
            f"study definition {study.study.oid} version {study.version} changed since it was "
            "published: give the changed definition a new version"
        )
    return record


_COLUMNS = ("id", "study_oid", "version", "digest", "published_at")


def _read_or_publish(study: LoadedStudy) -> DefinitionVersion:
    query = sa.select(DefinitionVersion).where(
        DefinitionVersion.study_oid == study.study.oid,
        DefinitionVersion.version == study.version,
    )
    record = db.session.scalar(query)
    if record is None:
        try:
            with db.session.begin_nested():
                record = DefinitionVersion(
                    study_oid=study.study.oid, version=study.version, digest=study.digest
                )
                db.session.add(record)
        except sa.exc.IntegrityError:  # another save published it meanwhile
            record = db.session.scalar(query)
        else:
            db.session.info[_PUBLISHED_IN] = db.session().get_transaction()
            record_event(
                "definition_published",
                "definition",
                f"{study.study.oid}/{study.version}",
                new=study.digest,
            )
    return record


def find_entry(visit: SubjectVisit, form_oid: str) -> FormEntry | None:
    return db.session.scalar(
        sa.select(FormEntry).where(FormEntry.visit_id == visit.id, FormEntry.form_oid == form_oid)
    )


def open_entry(
    save: FormSave, data: SubjectData, definition: DefinitionVersion, expected_version: int
) -> EntryData:
    """The form's entry in ``data``, created (empty, audited) on the first save.

    :raises StaleEntry: the entry exists but the user started from none, or the reverse.
    """
    # The visit and entry as read with the subject's data (under its lock): no second read.
    visit = data.visits.get((save.visit_oid, save.visit_repeat))
    if visit is None:
        visit = data.visits[(save.visit_oid, save.visit_repeat)] = ensure_visit(
            save.subject, save.visit_oid, save.visit_repeat
        )
    key = save.entry_key
    known = data.entry(*key)
    entry = known.entry if known is not None else None
    if entry is None:
        if expected_version != 0:
            raise StaleEntry([])
        entry = FormEntry(
            visit_id=visit.id,
            form_oid=save.form_oid,
            version=0,
            definition_version=definition,
            rows=[],  # new: known empty, never lazy-loaded
        )
        try:
            with db.session.begin_nested():
                db.session.add(entry)
        except sa.exc.IntegrityError:
            raise StaleEntry([]) from None
        # Where the entry belongs, so that verify can tell an entry moved by SQL.
        record_event(
            "form_created",
            "form_entry",
            entry.id,
            actor=save.actor,
            site_id=save.site_id,
            new=f"{save.subject.identifier}/{save.visit_oid}/{save.visit_repeat}/{save.form_oid}",
            definition_version=save.study.version,
        )
        # The new entry is empty and the subject is locked: the data read before, plus this
        # entry, are the subject's data (no need to read them all again).
        data.entries[key] = EntryData(save.form_oid, entry)
    entry_data = data.entry(*key)
    if entry_data is None:
        entry_data = data.entries[key] = EntryData(save.form_oid, entry)
    return entry_data


def check_version(
    entry: FormEntry,
    expected_version: int,
    *,
    saved_by: User | None = None,
    definition: DefinitionVersion | None = None,
) -> None:
    """Move the entry to its next version only if still at ``expected_version``.

    A conditional UPDATE takes the row's write lock first, so of two saves based on the same
    version exactly one succeeds, on SQLite and PostgreSQL alike.

    :param definition: when given, the same statement records the save on the entry: who
        (``saved_by``), when, and the definition version it follows (``record_saved``
        then writes only its event).
    :raises StaleEntry: with the changes saved since ``expected_version``.
    """
    params: dict[str, object] = {"entry_id": entry.id, "expected": expected_version}
    stamp: dict[str, object] = {}
    if definition is not None:
        stamp = {
            "updated_at": utcnow(),
            "updated_by_id": saved_by.id if saved_by else None,
            "definition_version_id": definition.id,
        }
    if db.session.autoflush:  # what this session changed is written first, as before a query
        db.session.flush()
    params |= {f"new_{name}": value for name, value in stamp.items()}
    updated = db.session.execute(_next_version(bool(stamp)), params).rowcount
    if updated != 1:
        db.session.refresh(entry)
        raise StaleEntry(_changes_since(entry, expected_version))
    # The row matched expected_version, so it holds the next one now: no read to learn it.
    set_committed_value(entry, "version", expected_version + 1)
    for name, value in stamp.items():
        set_committed_value(entry, name, value)
    if definition is not None:
        set_committed_value(entry, "definition_version", definition)


@functools.cache
def _next_version(stamped: bool) -> sa.Update:
    """``check_version``'s statement, built once (every save runs it), on the table: the
    session's objects are updated by hand, without the ORM's bookkeeping."""
    table = FormEntry.__table__
    values = {"version": table.c.version + 1}
    if stamped:
        values |= {name: sa.bindparam(f"new_{name}", type_=table.c[name].type) for name in _STAMP}
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("entry_id"))
        .where(table.c.version == sa.bindparam("expected"))
        .values(values)
    )


_STAMP = ("updated_at", "updated_by_id", "definition_version_id")


def _changes_since(entry: FormEntry, version: int) -> list[AuditEvent]:
    saved_at = db.session.scalar(
        sa.select(AuditEvent.seq).where(
            AuditEvent.entity == "form_entry",
            AuditEvent.entity_id == str(entry.id),
            AuditEvent.action == "form_saved",
            AuditEvent.new == str(version),
        )
    )
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity == "form_entry",
                AuditEvent.entity_id == str(entry.id),
                AuditEvent.seq > (saved_at or 0),
                AuditEvent.field.is_not(None),
            )
            .order_by(AuditEvent.seq)
        )
    )
