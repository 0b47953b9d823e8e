"""Append events to the audit trail, each chained to the last by a keyed hash (HMAC)."""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.db import utcnow
from ecrf.extensions import db


class Actor(Protocol):
    """Who acts, as the trail records it (a user account; the audit knows no more of it)."""

    id: int
    username: str


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
_NEXT_POSITIONS = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + sa.bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.last_hash, _HEAD.c.key_check)
)
_INSERT_EVENT = sa.insert(_EVENT)
_MOVE_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_hash=sa.bindparam("new_hash"), key_check=sa.bindparam("check"))
)
#: What the key check is the HMAC of: a constant, so it proves which key wrote the trail
#: without giving whoever reads it anything to forge events with.
_KEY_CHECK_MESSAGE = b"ecrf audit key check v1"
#: Session.info flag: this transaction appended events (read when it commits).
APPENDED = "ecrf_audit_appended"
#: Session.info key: the events recorded inside ``batched_events``, not appended yet.
_PENDING = "ecrf_audit_pending"


class AuditKeyMismatch(RuntimeError):
    """The configured audit key is not the one this trail was written with."""

    def __init__(self) -> None:
        super().__init__(
            "The audit key does not match the one this audit trail was written with: "
            "give every worker the same ECRF_AUDIT_KEY (or the same audit_key file in the "
            "instance folder)."
        )


def cli_actor() -> str:
    """The label of an operator acting from the command line, without an account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def audit_key() -> bytes:
    """The running application's audit key (ECRF_AUDIT_KEY or the instance's audit_key)."""
    return str(current_app.config["AUDIT_KEY"]).encode()


def key_check(key: bytes) -> str:
    return hmac.new(key, _KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


#: The same JSON form for writing and verifying (built once: verify encodes every event).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_payload(values: dict[str, Any]) -> bytes:
    """The bytes an event's hash covers: every hashed column, in a fixed JSON form."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    if isinstance(payload["at"], datetime):  # the only timestamp among the hashed fields
        payload["at"] = payload["at"].isoformat(timespec="microseconds")
    return _ENCODER.encode(payload).encode()


def event_hash(values: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of the event's content (which includes the previous event's hash)."""
    return hmac.new(key, canonical_payload(values), hashlib.sha256).hexdigest()


def record_event(
    action: str,
    entity: str,
    entity_id: object | None = None,
    *,
    actor: Actor | None = None,
    actor_label: str | None = None,
    site_id: int | None = None,
    field: str | None = None,
    old: str | None = None,
    new: str | None = None,
    reason: str | None = None,
    definition_version: str | None = None,
) -> None:
    """Append one event to the chain in the caller's transaction (inside
    ``batched_events``: when the batch ends, in the order recorded).

    :param actor: the signed-in user acting; when None, ``actor_label`` names who acted
        (defaults to the command-line operator).
    :raises RuntimeError: when the database has no chain head (migrations not run).
    :raises AuditKeyMismatch: this worker's audit key is not the trail's (nothing written).
    """
    values: dict[str, Any] = {
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
    }
    pending = db.session.info.get(_PENDING)
    if pending is not None:
        pending.append(values)
    else:
        _append([values])


@contextmanager
def batched_events() -> Iterator[None]:
    """Append the events recorded inside together when the block ends: three statements
    for the lot instead of three per event (a save records one per value). Nested blocks
    append with the outermost; a block left by an exception appends nothing (its
    transaction is being abandoned). Nothing inside may read the trail's head."""
    info = db.session.info
    if _PENDING in info:
        yield
        return
    info[_PENDING] = []
    try:
        yield
    except BaseException:
        info.pop(_PENDING, None)
        raise
    pending = info.pop(_PENDING)
    if pending:
        _append(pending)


def _append(events: list[dict[str, Any]]) -> None:
    """Give ``events`` the next positions of the chain and insert them.

    The statements go to the session's connection directly (Core), not through the ORM
    unit of work: an ORM UPDATE would first flush the session and then scan every object
    in it, which made each event cost more as a transaction grew. Taking the positions
    takes the head row's write lock, which queues concurrent writers until commit.
    """
    key = audit_key()
    check = key_check(key)
    connection = db.session.connection()
    head = connection.execute(_NEXT_POSITIONS, {"count": len(events)}).one_or_none()
    if head is None:
        raise RuntimeError("audit chain head missing: run `ecrf db upgrade`")
    # A worker with another key would write events no one could verify: refuse instead.
    if head.key_check is not None and head.key_check != check:
        raise AuditKeyMismatch()
    # Stamped under the head's lock, so that time never goes back along the chain.
    at = utcnow()
    previous = head.last_hash
    for seq, values in enumerate(events, start=head.seq - len(events) + 1):
        values["seq"], values["at"], values["prev_hash"] = seq, at, previous
        values["hash"] = previous = event_hash(values, key)
    connection.execute(_INSERT_EVENT, events)
    connection.execute(_MOVE_HEAD, {"new_hash": previous, "check": check})
    db.session.info[APPENDED] = True
    loaded_head = db.session.identity_map.get(db.session.identity_key(AuditHead, 1))
    if loaded_head is not None:  # an AuditHead read earlier in this session is now stale
        db.session.expire(loaded_head)
