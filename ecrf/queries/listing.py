"""Which queries a user sees, filtered, with counts by state; and what each one is about,
in words, for the list and the thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.auth.models import User
from ecrf.auth.permissions import can, sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.queries.models import Query, QueryState
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import FormEntry, Site, Subject

#: Who takes part in queries: the side that raises them and the site that answers.
QUERY_PERMS = (Perm.RAISE_QUERY, Perm.ANSWER_QUERY)
#: The ages the list filters on, in days: older than each.
AGES = (7, 14, 30)


@dataclass(frozen=True)
class QueryFilters:
    site: str | None = None
    state: QueryState | None = None
    form: str | None = None
    subject: str | None = None
    #: Opened more than this many days ago.
    older_than: int | None = None
    #: Opened by the user (the monitoring side) or waiting on their site (the site side).
    mine: bool = False


def query_sites(user: User) -> set[int] | None:
    """The sites whose queries ``user`` takes part in; None for every site."""
    sites: set[int] = set()
    for perm in QUERY_PERMS:
        found = sites_with(user, perm)
        if found is None:
            return None
        sites |= found
    return sites


def may_see(user: User, query: Query) -> bool:
    return any(can(user, perm, query.subject.site_id) for perm in QUERY_PERMS)


def _visible(user: User) -> sa.Select:
    query = sa.select(Query).join(Subject, Query.subject_id == Subject.id)
    sites = query_sites(user)
    if sites is not None:
        query = query.where(Subject.site_id.in_(sites))
    return query


def visible_queries(user: User, filters: QueryFilters) -> sa.Select:
    """The queries ``user`` sees through ``filters``, oldest open first, with what a list
    row shows loaded along (subject, visit, form entry, thread)."""
    query = _filtered(_visible(user), user, filters)
    if filters.state is not None:
        query = query.where(Query.state == filters.state)
    return query.order_by(Query.opened_at, Query.id).options(
        selectinload(Query.subject),
        selectinload(Query.visit),
        selectinload(Query.entry),
        selectinload(Query.messages),
    )


def counts(user: User, filters: QueryFilters) -> dict[QueryState, int]:
    """How many queries in each state pass the other filters."""
    query = _filtered(_visible(user), user, filters)
    rows = db.session.execute(
        query.with_only_columns(Query.state, sa.func.count()).group_by(Query.state).order_by(None)
    )
    found = dict(rows.all())
    return {state: found.get(state, 0) for state in QueryState}


def _filtered(query: sa.Select, user: User, filters: QueryFilters) -> sa.Select:
    if filters.site:
        query = query.join(Site, Subject.site_id == Site.id).where(Site.code == filters.site)
    if filters.subject:
        query = query.where(Subject.identifier == filters.subject.strip().upper())
    if filters.form:
        query = query.join(FormEntry, Query.entry_id == FormEntry.id).where(
            FormEntry.form_oid == filters.form
        )
    if filters.older_than:
        query = query.where(Query.opened_at < utcnow() - timedelta(days=filters.older_than))
    if filters.mine:
        if can(user, Perm.RAISE_QUERY):
            query = query.where(Query.opened_by_id == user.id)
        else:  # the site side: what waits on an answer
            query = query.where(Query.state == QueryState.OPEN)
    return query


def target_words(study: LoadedStudy, query: Query) -> str:
    """What the query is about, as people read it: visit, form, row, item."""
    return describe(
        study,
        QueryTarget(
            query.visit.visit_oid,
            query.visit.repeat_key,
            query.entry.form_oid if query.entry is not None else None,
            query.group_oid,
            query.repeat_key,
            query.item_oid,
        ),
    )


def describe(study: LoadedStudy, target: QueryTarget) -> str:
    """A query target in words: "Screening › Haematology › Haemoglobin"."""
    visit = study.visits.get(target.visit_oid)
    parts = [visit.name if visit else target.visit_oid]
    if target.visit_repeat != 1:
        parts[0] += f" #{target.visit_repeat}"
    form = study.forms.get(target.form_oid) if target.form_oid else None
    if form is None:
        return " › ".join(parts)
    parts.append(form.name)
    group = study.group(form.oid, target.group_oid) if target.group_oid else None
    if group is not None and group.repeating:
        parts.append(f"{group.label} #{target.repeat_key or 1}")
    if target.item_oid is not None and study.has_item(form.oid, target.item_oid):
        parts.append(study.item(form.oid, target.item_oid)[1].label)
    return " › ".join(parts)


def unresolved_counts(subject_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Queries not closed yet, of these subjects: ({form entry id: count}, {visit id: count
    of the queries on the visit itself}), for the flags of the matrix and subject page."""
    rows = db.session.execute(
        sa.select(Query.entry_id, Query.visit_id, sa.func.count())
        .where(Query.subject_id.in_(subject_ids), Query.state != QueryState.CLOSED)
        .group_by(Query.entry_id, Query.visit_id)
    ).all()
    by_entry: dict[int, int] = {}
    by_visit: dict[int, int] = {}
    for entry_id, visit_id, count in rows:
        if entry_id is None:
            by_visit[visit_id] = by_visit.get(visit_id, 0) + count
        else:
            by_entry[entry_id] = by_entry.get(entry_id, 0) + count
    return by_entry, by_visit


def subject_queries(subject_id: int) -> list[Query]:
    """The subject's queries not closed yet, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Query)
            .where(Query.subject_id == subject_id, Query.state != QueryState.CLOSED)
            .order_by(Query.opened_at, Query.id)
            .options(selectinload(Query.messages))
        )
    )
