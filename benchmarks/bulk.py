"""A large trial, quickly: a few patients entered through the write path, then copied.

``bulk_subjects(app, count)`` registers ``templates`` synthetic patients through the one
write path, exactly as `ecrf demo` does (the demo's generator: screening, PET, therapy,
follow-up at every stage, with their edit-check findings and automatic queries, plus the
demo monitor's own queries), then fills the rest of ``count`` by copying those patients'
rows with Core ``INSERT``s (executemany): subject, visits, form entries, rows, values,
findings, queries and their messages, each with new ids and the next subject number of
its site. Each copy's audit events are the template's, renamed to the copy, appended
through the audit module's own ``record_event`` (the keyed hash chain, in batches as a
save appends them), so `ecrf audit verify` finds the data and the trail agree.

The copies share their template's dates and values: what the pages, exports and checks
read is realistic in shape and volume, not in variety. About 800 events and 600 values a
patient: 10,000 patients take minutes, where the write path takes about a second each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from ecrf import transaction
from ecrf.audit.checkpoints import write_checkpoint
from ecrf.audit.models import AuditEvent
from ecrf.audit.services import batched_events, record_event
from ecrf.demo import seed_demo
from ecrf.demo_data import seed_subjects
from ecrf.demo_seeding import DEMO_SITES, demo_actor, demo_decider, seed_demo_queries
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject

#: The tables holding one patient, parents first; each row is reached from the subject.
PATIENT_TABLES = (
    "subject",
    "visit",
    "form_entry",
    "finding",
    "item_group_row",
    "data_query",
    "item_value",
    "query_message",
)
#: How each patient table's rows are found from the ids of the tables before it.
_OWNER = {
    "visit": ("subject_id", "subject"),
    "form_entry": ("visit_id", "visit"),
    "finding": ("subject_id", "subject"),
    "item_group_row": ("entry_id", "form_entry"),
    "data_query": ("subject_id", "subject"),
    "item_value": ("row_id", "item_group_row"),
    "query_message": ("query_id", "data_query"),
}
#: Audit entities whose ``entity_id`` is a row id of a patient table.
_ENTITY_TABLE = {"form_entry": "form_entry", "finding": "finding", "query": "data_query"}
#: Copies written per transaction (one batch of audit events each).
BATCH = 25


@dataclass(frozen=True)
class _Actor:
    """Who acted, as ``record_event`` takes it: an account's id and username."""

    id: int
    username: str


@dataclass
class _Template:
    """One patient entered through the write path: its rows by table and its events."""

    identifier: str
    site_id: int
    rows: dict[str, list[tuple]] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)


def bulk_subjects(app: Flask, count: int, *, seed: int = 1, templates: int = 24) -> None:
    """Give ``app``'s database ``count`` more subjects at the demo sites (migrating it and
    creating the demo's sites and accounts first if needed): ``templates`` of them (at
    most ``count``) through the write path, the others copied from those."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        transaction.perform(lambda: seed_demo(force=True))
        before = set(db.session.scalars(sa.select(Subject.id)))
        seed_subjects(
            current_study(),
            min(count, templates),
            seed,
            [code for code, _ in DEMO_SITES],
            actor_for=demo_actor,
            decider_for=demo_decider,
        )
        transaction.perform(seed_demo_queries)
        ids = sorted(set(db.session.scalars(sa.select(Subject.id))) - before)
        loaded = [_load(subject_id) for subject_id in ids]
        copies = count - len(ids)
        for start in range(0, copies, BATCH):
            _copy_batch(loaded, start, min(BATCH, copies - start))
        _move_sequences()
        write_checkpoint()
        db.session.remove()


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


def _columns(name: str) -> list[str]:
    return [column.name for column in _table(name).columns]


def _load(subject_id: int) -> _Template:
    """A patient's rows, table by table, as the database holds them (driver values, no
    type conversion: they go back as they came), and the audit events about it."""
    connection = db.session.connection()
    owned: dict[str, list[int]] = {"subject": [subject_id]}
    rows: dict[str, list[tuple]] = {}
    for name in PATIENT_TABLES:
        column, owner = _OWNER.get(name, ("id", "subject"))
        ids = ", ".join(str(int(i)) for i in owned[owner]) or "NULL"
        listed = ", ".join(f'"{c}"' for c in _columns(name))
        found = connection.exec_driver_sql(
            f'SELECT {listed} FROM "{name}" WHERE "{column}" IN ({ids}) ORDER BY id'
        ).all()
        rows[name] = [tuple(row) for row in found]
        owned[name] = [row[0] for row in found]
    subject = dict(zip(_columns("subject"), rows["subject"][0], strict=True))
    identifier = subject["identifier"]
    ids = {entity: {str(i) for i in owned[name]} for entity, name in _ENTITY_TABLE.items()}
    about = sa.or_(
        sa.and_(AuditEvent.entity == "subject", AuditEvent.entity_id == identifier),
        sa.and_(AuditEvent.entity == "visit", AuditEvent.entity_id.startswith(identifier + "/")),
        *(
            sa.and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(chosen))
            for entity, chosen in ids.items()
            if chosen
        ),
    )
    events = list(connection.execute(sa.select(AuditEvent).where(about).order_by(AuditEvent.seq)))
    return _Template(identifier, subject["site_id"], rows, events)


def _next_ids() -> dict[str, int]:
    connection = db.session.connection()
    return {
        name: (connection.scalar(sa.select(sa.func.max(_table(name).c.id))) or 0) + 1
        for name in PATIENT_TABLES
    }


def _copy_batch(templates: list[_Template], start: int, size: int) -> None:
    """Copy ``size`` patients (the ``start``-th copy onwards, cycling through the templates)
    in one transaction, with their audit events."""
    next_id = _next_ids()
    numbers = dict(db.session.execute(sa.select(Site.id, Site.last_subject_number)).all())
    sites = dict(db.session.execute(sa.select(Site.id, Site.code)).all())
    out: dict[str, list[tuple]] = {name: [] for name in PATIENT_TABLES}
    with batched_events():
        for n in range(start, start + size):
            template = templates[n % len(templates)]
            numbers[template.site_id] += 1
            number = numbers[template.site_id]
            identifier = f"{sites[template.site_id]}-{number:03d}"
            new_ids = _copy_rows(template, out, next_id, number, identifier)
            _copy_events(template, identifier, new_ids)
        connection = db.session.connection()
        mark = "?" if db.engine.dialect.paramstyle == "qmark" else "%s"
        for name in PATIENT_TABLES:
            if out[name]:
                columns = _columns(name)
                listed = ", ".join(f'"{c}"' for c in columns)
                marks = ", ".join([mark] * len(columns))
                connection.exec_driver_sql(
                    f'INSERT INTO "{name}" ({listed}) VALUES ({marks})', out[name]
                )
        for site_id, number in numbers.items():
            connection.execute(
                sa.update(_table("site")).where(_table("site").c.id == site_id),
                {"last_subject_number": number},
            )
    db.session.commit()


def _copy_rows(
    template: _Template,
    out: dict[str, list[tuple]],
    next_id: dict[str, int],
    number: int,
    identifier: str,
) -> dict[str, dict[int, int]]:
    """Append the copy's rows to ``out`` with new ids (taken from ``next_id``); return
    old id → new id, by table."""
    new_ids: dict[str, dict[int, int]] = {}
    for name in PATIENT_TABLES:
        mapping = new_ids[name] = {}
        references = [(index, new_ids[target]) for index, target in _references(name)]
        for row in template.rows[name]:
            copy = list(row)
            copy[0] = mapping[row[0]] = next_id[name]
            next_id[name] += 1
            for index, targets in references:
                if copy[index] is not None:
                    copy[index] = targets[copy[index]]
            out[name].append(tuple(copy))
    subject = list(out["subject"][-1])
    columns = _columns("subject")
    subject[columns.index("number")] = number
    subject[columns.index("identifier")] = identifier
    out["subject"][-1] = tuple(subject)
    return new_ids


def _references(name: str) -> list[tuple[int, str]]:
    """(column's index, patient table) of each foreign key of ``name`` to a patient table."""
    columns = _columns(name)
    return [
        (columns.index(key.parent.name), key.column.table.name)
        for key in _table(name).foreign_keys
        if key.column.table.name in PATIENT_TABLES
    ]


def _copy_events(template: _Template, identifier: str, new_ids: dict[str, dict[int, int]]) -> None:
    """Record the template's events again, about the copy (appended when the batch ends)."""
    prefix, renamed = template.identifier + "/", identifier + "/"

    def rename(text: str | None) -> str | None:
        if text is not None and text.startswith(prefix):
            return renamed + text[len(prefix) :]
        return text

    for event in template.events:
        entity_id = event.entity_id
        if event.entity == "subject":
            entity_id = identifier
        elif event.entity == "visit":
            entity_id = rename(entity_id)
        elif event.entity in _ENTITY_TABLE:
            entity_id = str(new_ids[_ENTITY_TABLE[event.entity]][int(entity_id)])
        new = rename(event.new) if event.action == "form_created" else event.new
        record_event(
            event.action,
            event.entity,
            entity_id,
            actor=_Actor(event.actor_id, event.actor) if event.actor_id is not None else None,
            actor_label=event.actor,
            site_id=event.site_id,
            field=event.field,
            old=event.old,
            new=new,
            reason=event.reason,
            definition_version=event.definition_version,
        )


def _move_sequences() -> None:
    """On PostgreSQL, move each table's id sequence past the ids the copies were given."""
    if db.engine.dialect.name != "postgresql":
        return
    connection = db.session.connection()
    for name in PATIENT_TABLES:
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {name}))"
            )
        )
    db.session.commit()
