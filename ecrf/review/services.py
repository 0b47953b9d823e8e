"""The review of changes to critical items: what changed since the reviewer's last mark,
filtered by site, by who changed it, by form and by item, with counts; and the mark itself.

The critical items are those of the definition's critical forms (``Study.critical_forms``);
a change is a value corrected or cleared after it was entered, or a row removed: the first
entry of a value is not a change (source verification covers it). Everything is read in
SQL from the audit trail (a few queries whatever the number of subjects); whether a change
was reviewed is worked out there too, from the reviewer's marks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from ecrf.audit.models import AuditEvent, AuditHead
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission
from ecrf.auth.roles import Perm
from ecrf.errors import PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject, SubjectVisit
from ecrf.records.recorded import describe_recorded
from ecrf.review.models import ReviewMark
from ecrf.review.scope import reaches, review_sites

#: The audit actions that change a value already entered, or remove a row.
CHANGE_ACTIONS = ("item_changed", "item_cleared", "row_removed")
#: Which changes the list shows: all, only those not reviewed yet, only reviewed ones.
SHOWS = ("all", "new", "reviewed")
#: The longest username the trail holds.
MAX_USER = 80

MESSAGES = {
    "site": "You review no site {value}.",
    "form": "{value} is not one of the critical forms.",
    "item": "The critical forms have no item {value}.",
    "item_form": "{form} has no item {value}.",
    "user": "A username has at most 80 characters.",
    "show": "Choose which changes to show.",
    "nothing": "Nothing new to mark reviewed here.",
    "point": "This page is out of date: open it again, then mark it reviewed.",
    "denied": "You review no site's audit trail.",
    "marked": "{count} change(s) {scope}",
}
#: What a mark covers, as its audit event says (and `ecrf audit verify` reads back).
MARK_SCOPE = "up to event {seq}; form {form}; item {item}; changed by {by}"


def mark_scope(mark: ReviewMark) -> str:
    return MARK_SCOPE.format(
        seq=mark.up_to_seq,
        form=mark.form_oid or "any",
        item=mark.item_oid or "any",
        by=mark.changed_by or "anyone",
    )


#: Words of the list, in one place.
WORDS = {
    "row": "{name} #{key}",
    "item_row": "{label} (row {key})",
    "empty": "—",
}

_FIELD = re.compile(r"^(?P<group>[^\[\]]+)\[(?P<key>\d+)\](?:\.(?P<item>.+))?$")


@dataclass(frozen=True)
class ReviewFilters:
    site_id: int | None = None
    site: str | None = None
    changed_by: str | None = None
    form: str | None = None
    item: str | None = None
    show: str = "all"

    def args(self) -> dict[str, str]:
        """The filters as the page's address carries them (empty ones left out)."""
        values = {
            "site": self.site,
            "user": self.changed_by,
            "form": self.form,
            "item": self.item,
            "show": None if self.show == "all" else self.show,
        }
        return {name: value for name, value in values.items() if value}


@dataclass
class Parsed:
    filters: ReviewFilters
    #: Field name → message, for each filter refused (the refused ones are left out).
    errors: dict[str, str] = field(default_factory=dict)


def critical_forms(study: LoadedStudy) -> list[str]:
    return [oid for oid in study.study.critical_forms if oid in study.forms]


def critical_items(study: LoadedStudy, form_oid: str | None = None) -> list[tuple[str, str]]:
    """(item OID, "Form: label") of the critical forms' items (of one form when given)."""
    found: dict[str, str] = {}
    for oid in critical_forms(study):
        if form_oid is not None and oid != form_oid:
            continue
        form = study.forms[oid]
        for _group, item in form.items():
            found.setdefault(item.oid, f"{form.name}: {item.label}")
    return sorted(found.items(), key=lambda pair: pair[1])


def parse_filters(study: LoadedStudy, user: User, args: Mapping[str, str]) -> Parsed:
    """The filters of the review page from its query string; each one refused gets a
    message and is left out."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    site = (args.get("site") or "").strip().upper()
    if site:
        found = db.session.scalar(sa.select(Site).where(Site.code == site[:20]))
        if found is None or not reaches(review_sites(user), found.id):
            errors["site"] = MESSAGES["site"].format(value=site[:20])
        else:
            values.update(site_id=found.id, site=found.code)
    by = (args.get("user") or "").strip()
    if by:
        if len(by) > MAX_USER:
            errors["user"] = MESSAGES["user"]
        else:
            values["changed_by"] = by
    form = (args.get("form") or "").strip()
    if form:
        if form not in critical_forms(study):
            errors["form"] = MESSAGES["form"].format(value=form[:40])
        else:
            values["form"] = form
    item = (args.get("item") or "").strip()
    if item:
        known = {oid for oid, _ in critical_items(study, values.get("form"))}  # type: ignore[arg-type]
        if item not in known:
            errors["item"] = (
                MESSAGES["item_form"].format(form=study.forms[form].name, value=item[:40])
                if "form" in values
                else MESSAGES["item"].format(value=item[:40])
            )
        else:
            values["item"] = item
    show = args.get("show") or "all"
    if show not in SHOWS:
        errors["show"] = MESSAGES["show"]
    else:
        values["show"] = show
    return Parsed(ReviewFilters(**values), errors)  # type: ignore[arg-type]


def _like_item(item: str | sa.ColumnElement) -> sa.ColumnElement:
    """A LIKE pattern matching the fields "GROUP[key].ITEM" of ``item`` (its "_" literal)."""
    if isinstance(item, str):
        return sa.literal("%]." + item.replace("\\", "\\\\").replace("_", "\\_"))
    escaped = sa.func.replace(sa.func.replace(item, "\\", "\\\\"), "_", "\\_")
    return sa.literal("%].") + escaped


def _reviewed_at(reviewer: User) -> sa.ScalarSelect:
    """When ``reviewer`` marked the change of the current row reviewed (NULL: new)."""
    event = AuditEvent
    return (
        sa.select(sa.func.max(ReviewMark.at))
        .where(
            ReviewMark.reviewer_id == reviewer.id,
            ReviewMark.site_id == Subject.site_id,
            ReviewMark.up_to_seq >= event.seq,
            sa.or_(ReviewMark.form_oid.is_(None), ReviewMark.form_oid == FormEntry.form_oid),
            sa.or_(
                ReviewMark.item_oid.is_(None),
                event.field.like(_like_item(ReviewMark.item_oid), escape="\\"),
            ),
            sa.or_(ReviewMark.changed_by.is_(None), ReviewMark.changed_by == event.actor),
        )
        .correlate(event, Subject, FormEntry)
        .scalar_subquery()
    )


def _entry_id(event: type[AuditEvent]) -> sa.ColumnElement[int]:
    """The form entry an event is about, as an integer (so that the entry's primary key
    finds it); NULL for the events of anything else (whose ids may not be numbers)."""
    return sa.case((event.entity == "form_entry", sa.cast(event.entity_id, sa.Integer)))


def _changes(
    study: LoadedStudy, user: User, filters: ReviewFilters, *columns, by_site_and_user=True
) -> sa.Select:
    """``columns`` of the critical changes ``user`` reviews, through ``filters`` (the site
    and user filters left out when not ``by_site_and_user``; ``show`` is applied by callers)."""
    event = AuditEvent
    query = (
        sa.select(*columns)
        .select_from(event)
        .join(FormEntry, FormEntry.id == _entry_id(event))
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .join(Subject, SubjectVisit.subject_id == Subject.id)
        .join(Site, Subject.site_id == Site.id)
        .where(
            event.entity == "form_entry",
            event.action.in_(CHANGE_ACTIONS),
            FormEntry.form_oid.in_(critical_forms(study)),
        )
    )
    sites = review_sites(user)
    if sites is not None:
        query = query.where(Subject.site_id.in_(sorted(sites)))
    if by_site_and_user:
        if filters.site_id is not None:
            query = query.where(Subject.site_id == filters.site_id)
        if filters.changed_by:
            query = query.where(event.actor == filters.changed_by)
    if filters.form:
        query = query.where(FormEntry.form_oid == filters.form)
    if filters.item:
        query = query.where(event.field.like(_like_item(filters.item), escape="\\"))
    return query


def changes(study: LoadedStudy, user: User, filters: ReviewFilters) -> sa.Select:
    """The critical changes ``user`` reviews through ``filters``: rows of (event, form OID,
    visit OID, visit repeat, subject, site code, reviewed at), new ones first, then the
    newest first."""
    reviewed = _reviewed_at(user).label("reviewed_at")
    query = _changes(
        study,
        user,
        filters,
        AuditEvent,
        FormEntry.form_oid,
        SubjectVisit.visit_oid,
        SubjectVisit.repeat_key,
        Subject.identifier,
        Site.code,
        reviewed,
    )
    test = _reviewed_at(user)
    if filters.show == "new":
        query = query.where(test.is_(None))
    elif filters.show == "reviewed":
        query = query.where(test.is_not(None))
    return query.order_by(sa.case((test.is_(None), 0), else_=1), AuditEvent.seq.desc())


@dataclass(frozen=True)
class Tally:
    new: int = 0
    total: int = 0


@dataclass
class Counts:
    """New and total changes, per site and per user who changed the data."""

    by_site: dict[str, Tally]
    by_user: dict[str, Tally]
    #: The reviewer's last mark per site (code → when).
    last_marks: dict[str, datetime]

    @property
    def new(self) -> int:
        return sum(t.new for t in self.by_site.values())

    @property
    def total(self) -> int:
        return sum(t.total for t in self.by_site.values())


def counts(study: LoadedStudy, user: User, filters: ReviewFilters) -> Counts:
    """The counts of the changes through the form and item filters (not the site and user
    ones: the counts are how one picks them), in two queries."""
    is_new = sa.case((_reviewed_at(user).is_(None), 1), else_=0)
    rows = db.session.execute(
        _changes(
            study,
            user,
            filters,
            Site.code,
            AuditEvent.actor,
            sa.func.sum(is_new),
            sa.func.count(),
            by_site_and_user=False,
        ).group_by(Site.code, AuditEvent.actor)
    ).all()
    by_site: dict[str, Tally] = {}
    by_user: dict[str, Tally] = {}
    for code, actor, new, total in rows:
        for tallies, key in ((by_site, code), (by_user, actor)):
            old = tallies.get(key, Tally())
            tallies[key] = Tally(old.new + int(new or 0), old.total + total)
    marks = db.session.execute(
        sa.select(Site.code, sa.func.max(ReviewMark.at))
        .join(Site, ReviewMark.site_id == Site.id)
        .where(ReviewMark.reviewer_id == user.id)
        .group_by(Site.code)
    ).all()
    return Counts(
        dict(sorted(by_site.items())),
        dict(sorted(by_user.items(), key=lambda pair: (-pair[1].new, pair[0]))),
        {code: at for code, at in marks},
    )


def pending(study: LoadedStudy, user: User, filters: ReviewFilters) -> tuple[int, int | None]:
    """(How many changes through ``filters`` are new, the position of the newest change):
    what "mark reviewed" covers."""
    is_new = sa.case((_reviewed_at(user).is_(None), 1), else_=0)
    new, newest = db.session.execute(
        _changes(study, user, filters, sa.func.sum(is_new), sa.func.max(AuditEvent.seq))
    ).one()
    return int(new or 0), newest


def mark_reviewed(
    study: LoadedStudy, filters: ReviewFilters, up_to: int | None, *, actor: User
) -> int:
    """Mark the changes through ``filters`` up to event ``up_to`` (the newest the page
    showed) reviewed by ``actor``: a mark per site with new changes, each one audited.
    Returns how many changes it covered.

    :raises PermissionDenied: ``actor`` reviews no site.
    :raises RuleViolation: ``up_to`` is no position of the trail, or nothing is new there.
    """
    sites = review_sites(actor)
    if sites is not None and not sites:
        raise PermissionDenied(MESSAGES["denied"])
    head = db.session.scalar(sa.select(AuditHead.seq).where(AuditHead.id == 1)) or 0
    if up_to is None or not 1 <= up_to <= head:
        raise RuleViolation(MESSAGES["point"])
    rows = db.session.execute(
        _changes(study, actor, filters, Subject.site_id, sa.func.count())
        .where(AuditEvent.seq <= up_to, _reviewed_at(actor).is_(None))
        .group_by(Subject.site_id)
        .order_by(Subject.site_id)
    ).all()
    if not rows:
        raise RuleViolation(MESSAGES["nothing"])
    covered = 0
    for site_id, count in rows:
        # Checked against each site the mark lands on, not only where the page was opened.
        require_permission(actor, Perm.VIEW_AUDIT, site_id)
        mark = ReviewMark(
            reviewer_id=actor.id,
            site_id=site_id,
            form_oid=filters.form,
            item_oid=filters.item,
            changed_by=filters.changed_by,
            up_to_seq=up_to,
        )
        db.session.add(mark)
        db.session.flush()
        record_event(
            "audit_reviewed",
            "review_mark",
            mark.id,
            actor=actor,
            site_id=site_id,
            new=MESSAGES["marked"].format(count=count, scope=mark_scope(mark)),
        )
        covered += count
    return covered


def describe_field(study: LoadedStudy, form_oid: str, path: str | None) -> str:
    """A change's field in words: the item's label (with its row in a repeating group), or
    the row, for a removed row."""
    match = _FIELD.match(path or "")
    if match is None or form_oid not in study.forms:
        return path or ""
    group = study.group(form_oid, match["group"])
    repeating = group is not None and group.repeating
    item = match["item"]
    if item is None:
        name = group.label if group else match["group"]
        return WORDS["row"].format(name=name, key=match["key"]) if repeating else name
    if not study.has_item(form_oid, item):
        return item
    label = study.item(form_oid, item)[1].label
    return WORDS["item_row"].format(label=label, key=match["key"]) if repeating else label


def describe_value(study: LoadedStudy, form_oid: str, path: str | None, text: str | None) -> str:
    """A value as the trail holds it, as people read it: a code list's label for a code,
    Yes/No, the unit, a missing-data code's label; any other value as recorded."""
    if text is None:
        return WORDS["empty"]
    return describe_recorded(study, form_oid, path, text)
