"""Append events to the audit trail and verify its hash chain."""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ecrf.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from ecrf.db import utcnow
from ecrf.extensions import db

if TYPE_CHECKING:
    from ecrf.auth.models import User

HASHED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor",
    "action",
    "entity",
    "entity_id",
    "site_id",
    "field",
    "old",
    "new",
    "reason",
    "definition_version",
    "prev_hash",
)


_HEAD, _EVENT = AuditHead.__table__, AuditEvent.__table__
#: Appending an event: take the next position (and the head row's write lock, which queues
#: concurrent writers), insert the event, move the head's hash. Built once, run with values.
_NEXT_POSITION = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_INSERT_EVENT = sa.insert(_EVENT)
_MOVE_HEAD = sa.update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=sa.bindparam("new_hash"))


def cli_actor() -> str:
    """The label of an operator acting from the command line, without an account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def event_hash(values: dict[str, Any]) -> str:
    def canonical(value: Any) -> Any:
        return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value

    payload = {name: canonical(values[name]) for name in HASHED_FIELDS}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record_event(
    action: str,
    entity: str,
    entity_id: object | None = None,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    site_id: int | None = None,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
    definition_version: str | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction.

    The statements go to the session's connection directly (Core), not through the ORM
    unit of work: an ORM UPDATE would first flush the session and then scan every object
    in it, which made each event cost more as a transaction grew. Same statements, same
    order, same lock, same transaction. The event returned is not attached to the session.

    :param actor: the signed-in user acting; when None, ``actor_label`` names who acted
        (defaults to the command-line operator).
    :raises RuntimeError: when the database has no chain head (migrations not run).
    """
    connection = db.session.connection()
    head = connection.execute(_NEXT_POSITION).one_or_none()
    if head is None:
        raise RuntimeError("audit chain head missing: run `ecrf db upgrade`")
    values: dict[str, Any] = {
        "seq": head.seq,
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor": actor.username if actor is not None else (actor_label or cli_actor()),
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "site_id": site_id,
        "field": field,
        "old": old,
        "new": new,
        "reason": reason,
        "definition_version": definition_version,
        "prev_hash": head.last_hash,
    }
    values["hash"] = event_hash(values)
    connection.execute(_INSERT_EVENT, values)
    connection.execute(_MOVE_HEAD, {"new_hash": values["hash"]})
    loaded_head = db.session.identity_map.get(db.session.identity_key(AuditHead, 1))
    if loaded_head is not None:  # an AuditHead read earlier in this session is now stale
        db.session.expire(loaded_head)
    return AuditEvent(**values)


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where}: {self.problem}"


def verify_chain(batch: int = 1000) -> tuple[int, ChainBreak | None]:
    """Walk the chain from the start; return the number of events checked and the first break."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    query = sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for event in db.session.scalars(query):
        if event.seq != expected_seq:
            return checked, ChainBreak(expected_seq, None, f"missing; next is #{event.seq}")
        values = {name: getattr(event, name) for name in HASHED_FIELDS}
        if event.prev_hash != prev_hash:
            return checked, ChainBreak(event.seq, event.id, "does not follow the previous event")
        if event_hash(values) != event.hash:
            return checked, ChainBreak(event.seq, event.id, "content altered since it was written")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = db.session.get(AuditHead, 1)
    if head is None:
        return checked, ChainBreak(expected_seq, None, "chain head missing")
    if head.seq != checked or head.last_hash != prev_hash:
        return checked, ChainBreak(
            checked + 1, None, f"trail ends at #{checked} but {head.seq} events were written"
        )
    return checked, None
