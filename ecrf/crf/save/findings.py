"""Step 9: the findings of the edit checks kept in step with the data: new ones opened,
those no longer raised resolved, each with its audit event, and with them the automatic
queries of the severities the definition names (``Study.query_severities``)."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.crf.evaluate import Found
from ecrf.crf.save.write import field_path
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries.services import open_from_finding, resolve_from_finding
from ecrf.records.data import SubjectData, as_loaded, plain_rows
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Finding, FindingStatus, Subject
from ecrf.records.rule_graph import EntryKey


def sync_findings(
    study: LoadedStudy,
    subject: Subject,
    data: SubjectData,
    found: list[Found],
    actor: User | None,
    *,
    checked: set[tuple[EntryKey, str]] | None = None,
) -> None:
    """Open findings the checks now raise; resolve open ones they no longer raise.

    :param checked: the (entry, check name) pairs that ran (default: every check); open
        findings of checks that did not run stay as they are.
    """
    entry_ids = {key: e.entry_id for key, e in data.entries.items() if e.entry_id is not None}
    ran = None
    if checked is not None:
        ran = {(entry_ids[key], name) for key, name in checked if key in entry_ids}
    current = {}
    for finding in found:
        k = finding.key
        entry_id = entry_ids.get((k.visit_oid, k.repeat_key, k.form_oid))
        if entry_id is not None:
            current[(entry_id, k.group_oid, k.row_key, k.item_oid, k.check)] = finding
    queried = {severity.value for severity in study.study.query_severities}
    # Plain rows, made ORM objects as loaded (cheaper than the ORM's handling, for a few).
    found_rows = plain_rows(_open_findings(), {"subject_id": subject.id}).all()
    open_rows = [as_loaded(Finding, row) for row in found_rows]
    now = utcnow()
    for row in open_rows:
        if ran is not None and (row.entry_id, row.check_name) not in ran:
            continue
        key = (row.entry_id, row.group_oid, row.repeat_key, row.item_oid, row.check_name)
        still = current.pop(key, None)
        if still is None:
            row.status = FindingStatus.RESOLVED
            row.resolved_at = now
            record_event(
                "finding_resolved",
                "finding",
                row.id,
                actor=actor,
                site_id=subject.site_id,
                field=field_path(row.group_oid, row.repeat_key, row.item_oid),
                old=row.message,
            )
            if row.severity in queried:
                resolve_from_finding(row, actor=actor)
        elif still.message != row.message:
            row.message = still.message
    for (entry_id, group_oid, key, item_oid, name), finding in current.items():
        row = Finding(
            subject_id=subject.id,
            entry_id=entry_id,
            group_oid=group_oid,
            repeat_key=key,
            item_oid=item_oid,
            check_name=name,
            severity=finding.severity.value,
            message=finding.message,
        )
        db.session.add(row)
        db.session.flush()
        record_event(
            "finding_opened",
            "finding",
            row.id,
            actor=actor,
            site_id=subject.site_id,
            field=field_path(group_oid, key, item_oid),
            new=finding.message,
        )
        if row.severity in queried:
            open_from_finding(row, actor=actor)
    db.session.flush()


@functools.cache
def _open_findings() -> sa.Select:
    """The subject's open findings: built once (every save asks it)."""
    return sa.select(Finding).where(
        Finding.subject_id == sa.bindparam("subject_id"), Finding.status == FindingStatus.OPEN
    )
