"""The dashboard's locks section: what data managers locked, per site, and whether the
whole study is frozen."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ecrf.dashboards.sections import Column, Context, Section
from ecrf.extensions import db
from ecrf.locks.models import DataLock, LockLevel

TEXT = {"title": "Locks"}
#: The levels counted per site, each a column.
COUNTED = (LockLevel.SITE, LockLevel.SUBJECT, LockLevel.VISIT, LockLevel.FORM)
HEADINGS = {
    LockLevel.SITE: "Site locked",
    LockLevel.SUBJECT: "Subjects locked",
    LockLevel.VISIT: "Visits locked",
    LockLevel.FORM: "Forms locked",
}


@dataclass(frozen=True)
class LockRow:
    site_id: int
    level: LockLevel
    target: str
    locked_at: datetime


def locks(ctx: Context) -> Section:
    """Active locks per site and level, and the study's freeze. One statement."""
    found = db.session.execute(
        sa.select(DataLock.level, DataLock.site_id, DataLock.target, DataLock.locked_at)
        .where(
            DataLock.unlocked_at.is_(None),
            sa.or_(DataLock.site_id.in_(ctx.scope.site_ids), DataLock.level == LockLevel.STUDY),
        )
        .order_by(DataLock.locked_at.desc(), DataLock.id.desc())
    ).all()
    counts: dict[LockLevel, Counter[int]] = {level: Counter() for level in COUNTED}
    frozen = None
    rows = []
    for level, site_id, target, locked_at in found:
        if level is LockLevel.STUDY:
            frozen = locked_at
            continue
        counts[level][site_id] += 1
        rows.append(LockRow(site_id, level, target, locked_at))
    return Section(
        "locks",
        TEXT["title"],
        [Column(HEADINGS[level], dict(counts[level])) for level in COUNTED],
        rows,
        extra={"frozen": frozen},
    )
