"""The audit trail as one CSV file, one row per event, streamed in constant memory."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.errors import PermissionDenied
from ecrf.exports.export_event import record_export
from ecrf.exports.privacy import withholds_free_text
from ecrf.extensions import db
from ecrf.records.models import Site

if TYPE_CHECKING:
    from ecrf.auth.models import User

#: The file's columns, in order (the header row).
COLUMNS = (
    "seq",
    "at_utc",
    "actor",
    "action",
    "entity",
    "entity_id",
    "site",
    "field",
    "old",
    "new",
    "reason",
    "definition_version",
)
#: Events fetched per round trip: memory stays flat whatever the trail's length.
BATCH = 2000
#: Progress is reported every this many events.
PROGRESS_EVERY = 5000
KIND = "audit"
FREE_TEXT_REFUSED = (
    "The audit trail holds the data as the sites entered them, free text included: it is "
    "only exported for roles that see those data."
)


def write_audit_trail(
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the trail's events (all, or those of ``site_ids``) to the CSV file ``out``.

    One row per event in chain order; times in UTC (ISO 8601); empty cells for empty
    values. The export itself is recorded in the trail (action "export", entity
    "extract", id "audit") and committed.

    :param site_ids: the sites whose events are written; None for the whole trail (events
        of no site, such as sign-ins, included). Callers check the actor's rights.
    :raises PermissionDenied: ``actor`` must not read free text (the trail carries it).
    """
    if withholds_free_text(actor):
        raise PermissionDenied(FREE_TEXT_REFUSED)
    event = AuditEvent.__table__.c
    where = [] if site_ids is None else [event.site_id.in_(list(site_ids))]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*where))
    query = (
        sa.select(
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.entity,
            event.entity_id,
            Site.code,
            event.field,
            event.old,
            event.new,
            event.reason,
            event.definition_version,
        )
        .outerjoin(Site, Site.id == event.site_id)
        .where(*where)
        .order_by(event.seq)
        .execution_options(yield_per=BATCH)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    if progress:
        progress(0, total)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in db.session.execute(query):
            writer.writerow(
                [
                    row.seq,
                    row.at.isoformat(timespec="microseconds"),
                    *row[2:],
                ]
            )
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, total)
    if progress:
        progress(done, total)
    codes = _site_codes(site_ids)
    record_export(KIND, actor=actor, site_ids=site_ids, new=f"{done} events; sites: {codes}")
    db.session.commit()
    return out


def _site_codes(site_ids: Collection[int] | None) -> str:
    if site_ids is None:
        return "all"
    codes = db.session.scalars(sa.select(Site.code).where(Site.id.in_(list(site_ids))))
    return ",".join(sorted(codes))
