"""Site services: adding sites, the sites a user sees, a site's team. The plain look-ups
(``get_site``, ``all_sites``) live with the records, below the accounts that use them."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import require_permission, sites_with
from ecrf.auth.roles import Perm
from ecrf.errors import RuleViolation
from ecrf.extensions import db
from ecrf.records.models import SITE_CODE_PATTERN, Site
from ecrf.records.sites import get_site


def sites_visible_to(user: User, perm: Perm = Perm.VIEW_SUBJECTS) -> list[Site]:
    site_ids = sites_with(user, perm)
    query = sa.select(Site).order_by(Site.code)
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return list(db.session.scalars(query))


def add_site(code: str, name: str, *, actor: User | None) -> Site:
    """Add a site of the trial.

    :raises RuleViolation: malformed or already used code, or empty name.
    """
    if actor is not None:
        require_permission(actor, Perm.MANAGE_SITES)
    code = code.strip().upper()
    name = name.strip()
    if not re.match(SITE_CODE_PATTERN, code):
        raise RuleViolation("Use 2 to 8 capital letters or digits, e.g. BDX.", field="code")
    if get_site(code) is not None:
        raise RuleViolation(f"A site with code {code} already exists.", field="code")
    if not name:
        raise RuleViolation("Give the site's name.", field="name")
    if len(name) > 200:
        raise RuleViolation("Use at most 200 characters.", field="name")
    site = Site(code=code, name=name)
    db.session.add(site)
    db.session.flush()
    record_event("site_created", "site", code, actor=actor, site_id=site.id, field="name", new=name)
    return site


def site_team(site: Site) -> list[tuple[User, list[str]]]:
    """Active users holding a role at this site specifically, with those roles."""
    from ecrf.auth.models import RoleAssignment

    rows = db.session.execute(
        sa.select(User, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.site_id == site.id, User.active.is_(True))
        .order_by(User.full_name)
    ).all()
    team: dict[int, tuple[User, list[str]]] = {}
    for user, assignment in rows:
        team.setdefault(user.id, (user, []))[1].append(assignment.role.label)
    return list(team.values())
