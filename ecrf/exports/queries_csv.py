"""The queries as one CSV file, a row per query: where, state, who opened it and when, the
last answer, when it closed."""

from __future__ import annotations

import csv
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.errors import PermissionDenied
from ecrf.exports.export_event import record_export
from ecrf.exports.privacy import withholds_free_text
from ecrf.extensions import db
from ecrf.queries.models import MessageKind, Query, QueryMessage
from ecrf.records.models import Subject

if TYPE_CHECKING:
    from ecrf.auth.models import User

COLUMNS = (
    "query_id",
    "site",
    "subject",
    "visit",
    "visit_repeat",
    "form",
    "item_group",
    "row",
    "item",
    "level",
    "state",
    "automatic_check",
    "question",
    "opened_by",
    "opened_at_utc",
    "last_answer",
    "last_answer_by",
    "last_answer_at_utc",
    "closed_at_utc",
)
KIND = "queries"
FREE_TEXT_REFUSED = (
    "Queries hold free text written by the sites and monitors: they are only exported for "
    "roles that see those data."
)


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def write_queries(out: Path, *, site_ids: Collection[int] | None, actor: User | None) -> int:
    """Write every query (of ``site_ids``; None for all sites) to the CSV file ``out``,
    oldest first; the export is recorded in the trail (the caller commits). Returns the
    count.

    :raises PermissionDenied: ``actor`` must not read free text (queries carry it).
    """
    if withholds_free_text(actor):
        raise PermissionDenied(FREE_TEXT_REFUSED)
    query = (
        sa.select(Query)
        .join(Subject, Query.subject_id == Subject.id)
        .order_by(Query.opened_at, Query.id)
        .options(
            selectinload(Query.subject).selectinload(Subject.site),
            selectinload(Query.visit),
            selectinload(Query.entry),
            selectinload(Query.finding),
            selectinload(Query.messages).selectinload(QueryMessage.author),
        )
    )
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(list(site_ids)))
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in db.session.scalars(query):
            opened = row.messages[0] if row.messages else None
            answers = [m for m in row.messages if m.kind is MessageKind.ANSWERED]
            answer = answers[-1] if answers else None
            writer.writerow(
                [
                    row.id,
                    row.subject.site.code,
                    row.subject.identifier,
                    row.visit.visit_oid,
                    row.visit.repeat_key,
                    row.entry.form_oid if row.entry else "",
                    row.group_oid or "",
                    row.repeat_key if row.group_oid else "",
                    row.item_oid or "",
                    row.level.value,
                    row.state.value,
                    row.finding.check_name if row.finding else "",
                    opened.text if opened else "",
                    _who(opened),
                    _when(row.opened_at),
                    answer.text if answer else "",
                    _who(answer),
                    _when(answer.at if answer else None),
                    _when(row.closed_at),
                ]
            )
            count += 1
    record_export(KIND, actor=actor, site_ids=site_ids, new=f"{count} queries")
    return count


def _who(message) -> str:
    if message is None:
        return ""
    return message.author.username if message.author else "system"
