"""The sections of a dashboard, each computed by one function from the study and the scope.

A section gives its figures per site (``columns``: the study dashboard's site table) and
what lies behind them (``rows``, listed only at the sites whose subjects the user may see).
Adding a section is one function returning a :class:`Section`, one template in
``templates/dashboards/sections/``, and one line in ``ecrf.dashboards.board.SECTIONS``.

Every function runs a fixed number of statements whatever the number of subjects.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.operators import custom_op

from ecrf.audit.models import AuditEvent
from ecrf.dashboards.scope import Scope
from ecrf.dashboards.slots import late_or_out_of_window, missing_forms
from ecrf.extensions import db
from ecrf.queries.listing import AGES
from ecrf.queries.models import Query, QueryState
from ecrf.records import fields
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import (
    FormEntry,
    ItemGroupRow,
    ItemValue,
    Subject,
    SubjectStatus,
    SubjectVisit,
)

# --- words (one place; a French translation will follow) -----------------------------------
TEXT = {
    "enrolment": "Enrolment",
    "enrolled": "Included",
    "screened": "Registered",
    "screen_failures": "Screen failures",
    "withdrawn": "Withdrawn",
    "visits": "Visits overdue or out of window",
    "overdue": "Visits overdue",
    "out_of_window": "Out of window",
    "forms": "Forms missing",
    "missing": "Forms missing",
    "queries": "Open queries by age",
    "open_queries": "Open queries",
    "old_queries": f"Open > {AGES[-1]} d",
    "sae": "SAE 24 h clock",
    "sae_pending": "SAE reports due",
    "sae_overdue": "SAE reports overdue",
}
#: Age bands of open queries, in days since opened: up to 7, 8 to 14, 15 to 30, over 30.
AGE_BANDS = (
    *(
        (f"{low + 1}–{high} d" if low else f"≤ {high} d", low, high)
        for low, high in zip((0, *AGES[:-1]), AGES, strict=True)
    ),
    (f"> {AGES[-1]} d", AGES[-1], None),
)
#: Rows a section lists at most (the figures count them all).
ROWS_SHOWN = 50
#: Statuses that mean the subject was included.
INCLUDED = frozenset({SubjectStatus.INCLUDED, SubjectStatus.IN_FOLLOW_UP, SubjectStatus.COMPLETED})


@dataclass(frozen=True)
class Column:
    """One figure per site for the study dashboard's site table."""

    heading: str
    by_site: dict[int, int]
    #: The figure is bad news when above zero (shown in red).
    alarm: bool = False
    #: The list behind the figure at a site, for those who may see it: site code → address.
    link: Callable[[str], str] | None = None

    def total(self) -> int:
        return sum(self.by_site.values())


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    #: What the figures count, one row per item, each with its ``site_id``.
    rows: list[Any] = field(default_factory=list)
    #: Anything else the section's template shows.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return f"dashboards/sections/{self.key}.html"

    def visible_rows(self, scope: Scope) -> list[Any]:
        return [row for row in self.rows if scope.shows(row.site_id)]

    def shown_rows(self, scope: Scope) -> tuple[list[Any], int]:
        """The first :data:`ROWS_SHOWN` rows the user may see, and how many more there are."""
        rows = self.visible_rows(scope)
        return rows[:ROWS_SHOWN], max(0, len(rows) - ROWS_SHOWN)


class Context:
    """What the section functions share: the study and the scope."""

    def __init__(self, study: LoadedStudy, scope: Scope) -> None:
        self.study = study
        self.scope = scope

    @cached_property
    def subjects(self) -> dict[int, tuple[int, str]]:
        """subject id → (site id, identifier), of the scope's subjects."""
        found = db.session.execute(
            sa.select(Subject.id, Subject.site_id, Subject.identifier).where(
                Subject.site_id.in_(self.scope.site_ids)
            )
        ).all()
        return {subject_id: (site_id, identifier) for subject_id, site_id, identifier in found}


# --- enrolment ----------------------------------------------------------------------------


def enrolment(ctx: Context) -> Section:
    """Subjects registered, included (ever: a withdrawal after inclusion still counts),
    screen failures and withdrawals per site, against the protocol's target."""
    included_event = (
        sa.select(AuditEvent.id)
        .where(
            AuditEvent.action == "subject_status_changed",
            AuditEvent.entity == "subject",
            AuditEvent.entity_id == Subject.identifier,
            AuditEvent.new == SubjectStatus.INCLUDED.value,
        )
        .exists()
    )
    # Per subject first, then counted: PostgreSQL groups no correlated subquery.
    per_subject = (
        sa.select(
            Subject.site_id.label("site_id"),
            Subject.status.label("status"),
            sa.case((sa.or_(Subject.status.in_(INCLUDED), included_event), 1), else_=0).label(
                "ever"
            ),
        )
        .where(Subject.site_id.in_(ctx.scope.site_ids))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            per_subject.c.site_id, per_subject.c.status, per_subject.c.ever, sa.func.count()
        ).group_by(per_subject.c.site_id, per_subject.c.status, per_subject.c.ever)
    ).all()
    registered: Counter[int] = Counter()
    included: Counter[int] = Counter()
    failures: Counter[int] = Counter()
    withdrawn: Counter[int] = Counter()
    for site_id, status, ever_included, count in rows:
        registered[site_id] += count
        if ever_included:
            included[site_id] += count
        if status is SubjectStatus.SCREEN_FAILURE:
            failures[site_id] += count
        if status is SubjectStatus.WITHDRAWN:
            withdrawn[site_id] += count
    target = ctx.study.study.enrolment_target
    total = sum(included.values())
    return Section(
        "enrolment",
        TEXT["enrolment"],
        [
            Column(TEXT["screened"], dict(registered)),
            Column(TEXT["enrolled"], dict(included)),
            Column(TEXT["screen_failures"], dict(failures)),
            Column(TEXT["withdrawn"], dict(withdrawn)),
        ],
        extra={
            "target": target,
            "included": total,
            "percent": round(100 * total / target) if target else None,
            "by_site": {
                s.id: (registered[s.id], included[s.id], failures[s.id], withdrawn[s.id])
                for s in ctx.scope.sites
            },
        },
    )


# --- visits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitRow:
    site_id: int
    subject: str
    visit_oid: str
    visit: str
    repeat_key: int
    due: Any
    earliest: Any
    latest: Any
    visit_date: Any
    #: Days past the window's last day (overdue visits).
    days_late: int | None


def visits(ctx: Context) -> Section:
    """Visits past their window and not done, of subjects still in the study; visits done
    outside their window (protocol deviations)."""
    today = ctx.scope.today
    overdue: Counter[int] = Counter()
    outside: Counter[int] = Counter()
    rows = []
    for slot in late_or_out_of_window(ctx.study, ctx.scope):
        late = slot.overdue(today)
        (overdue if late else outside)[slot.site_id] += 1
        rows.append(
            VisitRow(
                slot.site_id,
                slot.subject,
                slot.definition.oid,
                slot.definition.name,
                1,
                slot.due,
                slot.earliest,
                slot.latest,
                slot.visit_date,
                (today - slot.latest).days if late and slot.latest else None,
            )
        )
    rows.sort(key=lambda r: (r.days_late is None, -(r.days_late or 0), r.subject))
    return Section(
        "visits",
        TEXT["visits"],
        [
            Column(TEXT["overdue"], dict(overdue), alarm=True),
            Column(TEXT["out_of_window"], dict(outside), alarm=True),
        ],
        rows,
    )


# --- forms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormRow:
    site_id: int
    subject: str
    visit_oid: str
    visit: str
    repeat_key: int
    visit_date: Any
    form_oid: str
    form: str
    #: "not_started" or "draft" (in progress).
    state: str


def forms(ctx: Context) -> Section:
    """Forms not complete at the scheduled visits that took place (a visit date recorded),
    of subjects other than screen failures."""
    missing: Counter[int] = Counter()
    rows = []
    for found in missing_forms(ctx.study, ctx.scope):
        slot = found.slot
        missing[slot.site_id] += 1
        rows.append(
            FormRow(
                slot.site_id,
                slot.subject,
                slot.definition.oid,
                slot.definition.name,
                1,
                slot.visit_date,
                found.form_oid,
                ctx.study.forms[found.form_oid].name,
                "not_started" if found.status is None else found.status.value,
            )
        )
    return Section(
        "forms", TEXT["forms"], [Column(TEXT["missing"], dict(missing), alarm=True)], rows
    )


# --- queries --------------------------------------------------------------------------------


def queries(ctx: Context) -> Section:
    """Queries not closed, per site and age band (days since opened); open ones wait on the
    site, answered ones on the side that raised them."""
    now = ctx.scope.now
    band = sa.case(
        *(
            (Query.opened_at < now - timedelta(days=low), n)
            for n, (_, low, _) in reversed(list(enumerate(AGE_BANDS)))
            if low
        ),
        else_=0,
    )
    found = db.session.execute(
        sa.select(Subject.site_id, Query.state, band, sa.func.count())
        .join(Subject, Query.subject_id == Subject.id)
        .where(Subject.site_id.in_(ctx.scope.site_ids), Query.state != QueryState.CLOSED)
        .group_by(Subject.site_id, Query.state, band)
    ).all()
    table: dict[int, list[int]] = defaultdict(lambda: [0] * len(AGE_BANDS))
    waiting: Counter[int] = Counter()
    answered: Counter[int] = Counter()
    for site_id, state, n, count in found:
        table[site_id][n] += count
        (waiting if state is QueryState.OPEN else answered)[site_id] += count
    total = {site: sum(counts) for site, counts in table.items()}
    oldest = {site: counts[-1] for site, counts in table.items()}
    return Section(
        "queries",
        TEXT["queries"],
        [
            Column(TEXT["open_queries"], total, link=_query_list),
            Column(TEXT["old_queries"], oldest, alarm=True, link=_old_query_list),
        ],
        extra={
            "bands": [label for label, _, _ in AGE_BANDS],
            "lower": [low for _, low, _ in AGE_BANDS],
            "table": {s.id: table[s.id] for s in ctx.scope.sites},
            "totals": [sum(table[s.id][n] for s in ctx.scope.sites) for n in range(len(AGE_BANDS))],
            "waiting": dict(waiting),
            "answered": dict(answered),
        },
    )


def _query_list(code: str) -> str:
    from flask import url_for

    return url_for("queries.list_queries", site=code)


def _old_query_list(code: str) -> str:
    from flask import url_for

    return url_for("queries.list_queries", site=code, older_than=AGES[-1])


# --- SAE clock ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriousRow:
    site_id: int
    subject: str
    number: int | None
    term: str | None
    #: When the clock started: the save that recorded the event as serious.
    since: datetime | None
    due: datetime | None
    #: Hours left (negative: overdue by); None when the start is unknown.
    hours_left: float | None

    @property
    def overdue(self) -> bool:
        return self.hours_left is None or self.hours_left < 0


def serious_events(ctx: Context) -> Section | None:
    """Serious adverse events with no report in the report log, and the time left to send
    it (the definition's ``serious_events``; no section without).

    The clock starts when the eCRF learnt the event was serious: the save that recorded its
    serious item (the audit trail's time). The site cannot have become aware later; the
    awareness date proper is part of the report, which is what is missing. An event whose
    start cannot be found counts as overdue.
    """
    reporting = ctx.study.study.serious_events
    if reporting is None:
        return None
    ev_visit, ev_form, ev_group = reporting.events.split(".")
    rp_visit, rp_form, rp_group = reporting.reports.split(".")
    ev_group, rp_group = ev_group.removesuffix("[]"), rp_group.removesuffix("[]")
    term_item = _term_item(ctx.study, ev_form, ev_group)
    wanted = {reporting.serious, reporting.number, *([term_item] if term_item else [])}
    values = _log_values(ctx, ev_visit, ev_form, ev_group, wanted)
    reported = _log_values(ctx, rp_visit, rp_form, rp_group, {reporting.report_number})
    numbers_reported = {
        (
            subject_id,
            _typed(ctx, rp_form, reporting.report_number, row.get(reporting.report_number)),
        )
        for (subject_id, _, _, _), row in reported.items()
    }
    serious = {
        key: row
        for key, row in values.items()
        if row.get(reporting.serious) == reporting.serious_value
    }
    unreported = {
        key: row
        for key, row in serious.items()
        if (key[0], _typed(ctx, ev_form, reporting.number, row.get(reporting.number)))
        not in numbers_reported
        or row.get(reporting.number) is None
    }
    started = _serious_since(ctx, ev_group, reporting.serious, reporting.serious_value)
    hours = reporting.hours
    now = ctx.scope.now
    pending: Counter[int] = Counter()
    late: Counter[int] = Counter()
    rows = []
    for (subject_id, entry_id, repeat_key, _), row in unreported.items():
        site_id, identifier = ctx.subjects[subject_id]
        since = started.get((entry_id, repeat_key))
        due = since + timedelta(hours=hours) if since else None
        left = (due - now).total_seconds() / 3600 if due else None
        number = _typed(ctx, ev_form, reporting.number, row.get(reporting.number))
        item = SeriousRow(
            site_id,
            identifier,
            number,
            row.get(term_item) if term_item else None,
            since,
            due,
            left,
        )
        (late if item.overdue else pending)[site_id] += 1
        rows.append(item)
    rows.sort(key=lambda r: (r.hours_left is not None, r.hours_left or 0, r.subject))
    return Section(
        "serious_events",
        TEXT["sae"],
        [
            Column(TEXT["sae_pending"], dict(pending)),
            Column(TEXT["sae_overdue"], dict(late), alarm=True),
        ],
        rows,
        extra={"hours": hours, "form": rp_form, "visit": rp_visit},
    )


def _term_item(study: LoadedStudy, form_oid: str, group_oid: str) -> str | None:
    """The item naming the event (mapped to AETERM), to show beside its number."""
    group = study.group(form_oid, group_oid)
    return next((i.oid for i in group.items if i.cdash == "AETERM" or i.oid == "AETERM"), None)


def _typed(ctx: Context, form_oid: str, item_oid: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return fields.load(ctx.study.item(form_oid, item_oid)[1], text)
    except (ValueError, ArithmeticError):
        return text


def _log_values(
    ctx: Context, visit_oid: str, form_oid: str, group_oid: str, items: set[str]
) -> dict[tuple[int, int, int, int], dict[str, str | None]]:
    """(subject id, entry id, row repeat key, visit repeat key) → {item: text} of the rows
    of a log group that are not removed, in the scope's subjects."""
    found = db.session.execute(
        sa.select(
            SubjectVisit.subject_id,
            FormEntry.id,
            ItemGroupRow.repeat_key,
            SubjectVisit.repeat_key,
            ItemValue.item_oid,
            ItemValue.value_text,
        )
        .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
        .join(FormEntry, ItemGroupRow.entry_id == FormEntry.id)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(
            SubjectVisit.subject_id.in_(ctx.scope.subject_ids()),
            SubjectVisit.visit_oid == visit_oid,
            FormEntry.form_oid == form_oid,
            ItemGroupRow.group_oid == group_oid,
            ItemGroupRow.removed.is_(False),
            ItemValue.item_oid.in_(items),
        )
    ).all()
    rows: dict[tuple[int, int, int, int], dict[str, str | None]] = defaultdict(dict)
    for subject_id, entry_id, key, visit_key, item_oid, text in found:
        rows[(subject_id, entry_id, key, visit_key)][item_oid] = text
    return rows


def _serious_since(
    ctx: Context, group_oid: str, item_oid: str, value: str
) -> dict[tuple[int, int], datetime]:
    """(entry id, row repeat key) → when the row's serious item last became ``value``."""
    prefix = f"{group_oid}["
    suffix = f"].{item_oid}"
    found = db.session.execute(
        sa.select(AuditEvent.entity_id, AuditEvent.field, sa.func.max(AuditEvent.at))
        .where(
            *_field_index_first(
                prefix,
                f"{prefix}%{suffix}",
                entity=("form_entry",),
                action=("item_entered", "item_changed"),
                site_id=ctx.scope.site_ids,
            ),
            AuditEvent.new == value,
        )
        .group_by(AuditEvent.entity_id, AuditEvent.field)
    ).all()
    since = {}
    for entity_id, path, at in found:
        if not (path.startswith(prefix) and path.endswith(suffix)):
            continue  # LIKE's "_" matched another character
        key = path[len(prefix) : -len(suffix)]
        if entity_id and entity_id.isdigit() and key.isdigit():
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            since[(int(entity_id), int(key))] = at
    return since


def _field_index_first(prefix: str, pattern: str, **among: Any) -> list[sa.ColumnElement[bool]]:
    """``field LIKE pattern`` (``pattern`` starting with ``prefix``) and each indexed column
    of ``among`` in its values, written so that the database searches the field's index
    (``ix_audit_event_field``): the path is a few thousandths of the trail, whereas the
    entity, action and site each hold a large share of it.

    PostgreSQL answers the LIKE's prefix from the index (its pattern operators) and chooses
    it from its statistics. SQLite can answer no LIKE from a plain index (its LIKE ignores
    case), and without statistics its planner prefers an equality on the entity's index (15
    times slower at 1,000 subjects): there, the prefix is also given as a range of the
    index, and a unary ``+`` keeps the other columns off their indexes. The range leaves out
    only paths the caller drops anyway: those that LIKE matched in another case, or where a
    ``_`` of the prefix matched another character.
    """
    field = AuditEvent.field
    where = [field.like(pattern)]
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        where += [field >= prefix, field < prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    for name, values in among.items():
        column = getattr(AuditEvent, name)
        if sqlite:
            column = sa.UnaryExpression(column, operator=custom_op("+"), type_=column.type)
        where.append(column.in_(values))
    return where
