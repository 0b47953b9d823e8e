"""Serious adverse events and the clock of their first report to the sponsor.

The deadline runs from the moment the site became aware of the event to the moment the
initial report was sent. Both are typed as local dates and times of the sites (the plan
names their time zone), so the hours are real elapsed hours, across a change of summer
time too. Where a time is missing the clock is computed on dates only, as the edit check
does: a report sent the day after the site became aware is within a 24 h deadline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ecrf.exports.stream import RowRecord, iter_rows
from ecrf.reporting.safety.events import Event
from ecrf.reporting.safety.values import as_date, as_int, as_time, text
from forms.reports import SeriousReportLog

# What the clock says, by case (the template shows them as they are).
WITHIN = "within {deadline} h"
LATE = "late by {hours} h"
PENDING = "no report yet ({hours} h since awareness)"
WITHIN_DATES = "within {deadline} h (dates only)"
LATE_DATES = "late by {days} d (dates only)"
PENDING_DATES = "no report yet ({days} d since awareness, dates only)"
BEFORE_AWARE = "sent before the site became aware: check the dates"
NO_REPORT = "no report recorded"
NO_AWARENESS = "no awareness date recorded"
#: A report whose AE number is no serious event of the log.
UNLINKED = "AE {number} is not a serious adverse event of the log"
#: The verdict in one or two words, for a badge beside it.
STATUS_LABELS = {
    "within": "On time",
    "late": "Late",
    "pending": "Pending",
    "overdue": "Overdue",
    "missing": "No report",
    "inconsistent": "Check dates",
}


class Status:
    """The kinds of verdict (CSS classes and test hooks)."""

    WITHIN = "within"
    LATE = "late"
    PENDING = "pending"
    OVERDUE = "overdue"
    MISSING = "missing"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True)
class Clock:
    """The deadline's verdict for one report."""

    status: str
    verdict: str
    #: Real hours from awareness to the report (or to ``now`` when none was sent).
    hours: Decimal | None = None
    #: Calendar days, when the clock is computed on dates only.
    days: int | None = None

    @property
    def dates_only(self) -> bool:
        return self.days is not None


def hours_text(hours: Decimal) -> str:
    """Hours to one decimal, half up, without a useless ".0" (5 → "5", 1.25 → "1.3"); from
    two days on, whole hours (a tenth of an hour no longer matters)."""
    places = Decimal("1") if hours >= 48 else Decimal("0.1")
    value = hours.quantize(places, rounding=ROUND_HALF_UP)
    return f"{value:f}".removesuffix(".0")


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone)


def _hours(start: datetime, end: datetime) -> Decimal:
    seconds = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return Decimal(int(seconds)) / 3600


def report_clock(
    aware_date: date | None,
    aware_time: time | None,
    sent_date: date | None,
    sent_time: time | None,
    *,
    now: datetime,
    deadline_hours: int,
    zone: ZoneInfo,
) -> Clock:
    """The verdict of the deadline for a report: within, late by how much, or not sent yet
    (and for how long, counted to ``now``, an aware UTC datetime).

    :raises ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if aware_date is None:
        return Clock(Status.MISSING, NO_AWARENESS)
    deadline = Decimal(deadline_hours)
    # The dates-only rule of the edit check: whole days, the next day still in time.
    deadline_days = -(-deadline_hours // 24)
    if sent_date is None:
        if aware_time is None:
            days = (now.astimezone(zone).date() - aware_date).days
            late = days > deadline_days
            return Clock(
                Status.OVERDUE if late else Status.PENDING,
                PENDING_DATES.format(days=days),
                days=days,
            )
        hours = _hours(_instant(aware_date, aware_time, zone), now)
        return Clock(
            Status.OVERDUE if hours > deadline else Status.PENDING,
            PENDING.format(hours=hours_text(hours)),
            hours=hours,
        )
    if sent_date < aware_date:
        return Clock(Status.INCONSISTENT, BEFORE_AWARE)
    if aware_time is None or sent_time is None:
        days = (sent_date - aware_date).days
        if days <= deadline_days:
            return Clock(Status.WITHIN, WITHIN_DATES.format(deadline=deadline_hours), days=days)
        return Clock(Status.LATE, LATE_DATES.format(days=days - deadline_days), days=days)
    hours = _hours(_instant(aware_date, aware_time, zone), _instant(sent_date, sent_time, zone))
    if hours < 0:
        return Clock(Status.INCONSISTENT, BEFORE_AWARE, hours=hours)
    if hours <= deadline:
        return Clock(Status.WITHIN, WITHIN.format(deadline=deadline_hours), hours=hours)
    return Clock(Status.LATE, LATE.format(hours=hours_text(hours - deadline)), hours=hours)


def _moment_text(day: date | None, clock: time | None) -> str:
    if day is None:
        return ""
    return f"{day.isoformat()} {clock.strftime('%H:%M')}" if clock else day.isoformat()


@dataclass
class _Report:
    number: int | None
    kind: str
    aware_date: date | None
    aware_time: time | None
    sent_date: date | None
    sent_time: time | None

    @property
    def sent_key(self) -> tuple:
        return (self.sent_date is None, self.sent_date or date.min, self.sent_time or time.min)


def _read(log: SeriousReportLog, row: RowRecord) -> _Report:
    return _Report(
        number=as_int(text(row, log.number)),
        kind=text(row, log.kind) or "",
        aware_date=as_date(text(row, log.aware_date)),
        aware_time=as_time(text(row, log.aware_time)),
        sent_date=as_date(text(row, log.sent_date)),
        sent_time=as_time(text(row, log.sent_time)),
    )


def _first(log: SeriousReportLog, reports: list[_Report]) -> _Report:
    """The report the deadline applies to: the first initial one sent (an initial report
    not sent yet comes after those sent), else the first of any kind."""
    initial = [r for r in reports if r.kind == log.initial] or reports
    return min(initial, key=lambda r: r.sent_key)


def serious_events(
    log: SeriousReportLog,
    events: list[Event],
    site_ids: Collection[int] | None,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Every serious event with the clock of its initial report, then the reports that
    name no serious event of the log."""
    zone = ZoneInfo(log.time_zone)
    reports: dict[tuple[str, int | None], list[_Report]] = defaultdict(list)
    sites: dict[str, str] = {}
    for row in iter_rows(site_ids, form_oid=log.form):
        if row.visit_oid == log.visit and row.group_oid == log.group:
            report = _read(log, row)
            reports[(row.subject, report.number)].append(report)
            sites[row.subject] = row.site_code
    rows = []
    for event in events:
        if event.serious != "Y":
            continue
        found = reports.pop((event.subject, event.number), [])
        rows.append(_row(log, event.site, event.subject, event.number, event, found, now, zone))
    for (subject, number), found in reports.items():
        rows.append(_row(log, sites[subject], subject, number, None, found, now, zone))
    statuses: dict[str, int] = defaultdict(int)
    for row in rows:
        statuses[row["status"]] += 1
    return {
        "rows": rows,
        "deadline_hours": log.deadline_hours,
        "time_zone": log.time_zone,
        "dates_only": sum(1 for row in rows if row["dates_only"]),
        "statuses": dict(statuses),
        "status_labels": STATUS_LABELS,
    }


def _row(
    log: SeriousReportLog,
    site: str,
    subject: str,
    number: int | None,
    event: Event | None,
    reports: list[_Report],
    now: datetime,
    zone: ZoneInfo,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "site": site,
        "subject": subject,
        "number": number,
        "term": event.term if event else "",
        "grade": event.grade if event else None,
        "criteria": event.criteria if event else [],
        "note": "" if event else UNLINKED.format(number=number),
        "aware": "",
        "reported": "",
        "hours": "",
        "days": None,
        "dates_only": False,
        "follow_ups": 0,
    }
    if not reports:
        return row | {"status": Status.MISSING, "verdict": NO_REPORT}
    first = _first(log, reports)
    clock = report_clock(
        first.aware_date,
        first.aware_time,
        first.sent_date,
        first.sent_time,
        now=now,
        deadline_hours=log.deadline_hours,
        zone=zone,
    )
    return row | {
        "aware": _moment_text(first.aware_date, first.aware_time),
        "reported": _moment_text(first.sent_date, first.sent_time),
        "hours": hours_text(clock.hours) if clock.hours is not None and first.sent_date else "",
        "days": clock.days,
        "dates_only": clock.dates_only,
        "follow_ups": len(reports) - 1,
        "status": clock.status,
        "verdict": clock.verdict,
    }
