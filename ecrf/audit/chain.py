"""Walk the audit chain in one streamed pass: keyed hashes, links, sequence, times, head and
checkpoints. Every problem is reported, not only the first."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ecrf.audit.checkpoints import Checkpoint
from ecrf.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from ecrf.audit.services import HASHED_FIELDS, audit_key, canonical_payload, key_check
from ecrf.extensions import db

#: Columns read per event, in this order: id, the hashed fields, the stored hash.
EVENT_COLUMNS = (
    AuditEvent.id,
    *(getattr(AuditEvent, name) for name in HASHED_FIELDS),
    AuditEvent.hash,
)
#: Checkpoints may be written by another host than the one that dated the event: this much
#: clock difference between hosts is tolerated before an event counts as dated after the
#: checkpoint that recorded it.
CLOCK_TOLERANCE = timedelta(minutes=1)


class Problems:
    """What verification found: the first ``limit`` kept to be shown, and how many in all."""

    def __init__(self, limit: int = 20) -> None:
        self.limit = limit
        self.shown: list[object] = []
        self.total = 0

    def add(self, problem: object) -> None:
        self.total += 1
        if len(self.shown) < self.limit:
            self.shown.append(problem)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where} {self.problem}"


@dataclass
class ChainSummary:
    events: int = 0
    last_seq: int = 0
    #: False when the configured key is not the trail's: nothing else could be checked.
    key_matches: bool = True
    checkpoints_matched: int = 0
    newest_checkpoint: Checkpoint | None = None
    breaks: list[ChainBreak] = field(default_factory=list)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _hmac_of(row: Any, key: bytes) -> str:
    values = dict(zip(HASHED_FIELDS, row[1:-1], strict=True))
    return hmac.new(key, canonical_payload(values), hashlib.sha256).hexdigest()


def walk_chain(
    problems: Problems,
    *,
    key: bytes | None = None,
    checkpoints: Iterable[Checkpoint] = (),
    on_event: Callable[[Any], None] | None = None,
    batch: int = 5000,
) -> ChainSummary:
    """Check every event and the chain head, against the key and the checkpoints.

    :param on_event: called with each event row (chain order), e.g. to rebuild the data.
    """
    key = key if key is not None else audit_key()
    summary = ChainSummary()
    head_table = AuditHead.__table__.c
    head = db.session.execute(
        sa.select(head_table.seq, head_table.last_hash, head_table.key_check).where(
            head_table.id == 1
        )
    ).one_or_none()
    query = sa.select(*EVENT_COLUMNS).order_by(AuditEvent.seq)
    if head is not None and head.key_check != key_check(key) and head.key_check is not None:
        first = db.session.execute(query.limit(1)).one_or_none()
        if first is None or not hmac.compare_digest(_hmac_of(first, key), first.hash):
            summary.key_matches = False
            problems.add(
                "the audit key does not match the one this trail was written with: check "
                "ECRF_AUDIT_KEY or the instance folder's audit_key file (nothing else was checked)"
            )
            return summary
        problems.add("the chain head's key check was altered in the database")
    if head is not None and head.key_check is None and head.seq > 0:
        problems.add("the chain head's key check was erased in the database")

    by_seq: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
        newest = summary.newest_checkpoint
        if newest is None or checkpoint.seq > newest.seq:
            summary.newest_checkpoint = checkpoint

    def found(problem: ChainBreak | str) -> None:
        if isinstance(problem, ChainBreak) and len(summary.breaks) < problems.limit:
            summary.breaks.append(problem)
        problems.add(problem)

    prev_hash, prev_at, prev_seq, expected = GENESIS_HASH, None, 0, 1
    for row in db.session.execute(query.execution_options(yield_per=batch)):
        summary.events += 1
        linked = True
        if row.seq != expected:
            linked = False
            if row.seq == expected + 1:
                found(ChainBreak(expected, None, f"is missing (the trail goes on at #{row.seq})"))
            else:
                found(f"events #{expected} to #{row.seq - 1} are missing")
        if linked and row.prev_hash != prev_hash:
            found(ChainBreak(row.seq, row.id, f"does not follow event #{prev_seq}"))
        if not hmac.compare_digest(_hmac_of(row, key), row.hash):
            found(ChainBreak(row.seq, row.id, "was altered since it was written (HMAC mismatch)"))
        if prev_at is not None and row.at < prev_at:
            found(
                ChainBreak(
                    row.seq,
                    row.id,
                    f"is dated {_stamp(row.at)}, before event #{prev_seq} ({_stamp(prev_at)})",
                )
            )
        for checkpoint in by_seq.get(row.seq, ()):
            if row.hash != checkpoint.hash:
                found(
                    ChainBreak(
                        row.seq,
                        row.id,
                        f"differs from the checkpoint of {checkpoint.when}: the trail was "
                        "rewritten",
                    )
                )
            elif row.at > checkpoint.at + CLOCK_TOLERANCE:
                found(
                    ChainBreak(
                        row.seq,
                        row.id,
                        f"is dated {_stamp(row.at)}, after the checkpoint of {checkpoint.when} "
                        "that recorded it",
                    )
                )
            else:
                summary.checkpoints_matched += 1
        if on_event is not None:
            on_event(row)
        prev_hash, prev_at, prev_seq, expected = row.hash, row.at, row.seq, row.seq + 1
    summary.last_seq = prev_seq

    if head is None:
        found("the chain head is missing")
    elif head.seq != prev_seq:
        found(f"the trail ends at #{prev_seq} but the chain head records #{head.seq}")
    elif head.last_hash != prev_hash:
        found(f"the chain head's hash is not event #{prev_seq}'s")
    newest = summary.newest_checkpoint
    if newest is not None and newest.seq > prev_seq:
        found(
            f"the trail ends at #{prev_seq} but the checkpoint of {newest.when} recorded "
            f"#{newest.seq}: events were deleted at the tail, or the database is an older copy"
        )
    return summary


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Walk the chain alone (no checkpoints): the events walked and the first break, if any."""
    problems = Problems()
    summary = walk_chain(problems)
    if not summary.key_matches:
        return 0, ChainBreak(1, None, str(problems.shown[0]))
    first = summary.breaks[0] if summary.breaks else None
    if first is None and problems:
        first = ChainBreak(summary.last_seq, None, str(problems.shown[0]))
    return summary.events, first
