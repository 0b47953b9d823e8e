"""Whose dashboard: the sites it covers, and at which of them the user may see the subjects
behind the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.permissions import can, sites_with
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records.models import Site, Subject

#: Who sees the subjects behind the counts at a site: those who act on its data, the site
#: (entering it) and the monitoring side (querying it). Others who see the site (the sponsor)
#: see counts only: no subject identifier, no list.
DETAIL_PERMS = (Perm.ENTER_DATA, Perm.RAISE_QUERY)


@dataclass(frozen=True)
class Scope:
    """The sites a dashboard counts, and those whose subjects it may list."""

    sites: tuple[Site, ...]
    detail_site_ids: frozenset[int]
    now: datetime = field(default_factory=utcnow)

    @property
    def site_ids(self) -> list[int]:
        return [s.id for s in self.sites]

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def counts_only(self) -> bool:
        """No site of the dashboard shows its subjects to this user."""
        return not self.detail_site_ids

    def shows(self, site_id: int) -> bool:
        """Whether the subjects behind the counts of ``site_id`` may be listed."""
        return site_id in self.detail_site_ids

    def subject_ids(self) -> sa.Select:
        """The subjects of the covered sites, as a subquery (never a list of ids: the
        statement stays the same size whatever the number of subjects)."""
        return sa.select(Subject.id).where(Subject.site_id.in_(self.site_ids))


def visible_sites(user: User) -> list[Site]:
    """The sites whose subjects ``user`` may see, by code."""
    ids = sites_with(user, Perm.VIEW_SUBJECTS)
    query = sa.select(Site).order_by(Site.code)
    if ids is not None:
        query = query.where(Site.id.in_(ids))
    return list(db.session.scalars(query))


def scope_for(user: User, sites: list[Site], now: datetime | None = None) -> Scope:
    """The dashboard of ``sites`` (already checked visible to ``user``) as ``user`` sees it."""
    detail = frozenset(s.id for s in sites if any(can(user, p, s.id) for p in DETAIL_PERMS))
    return Scope(tuple(sites), detail, now or utcnow())
