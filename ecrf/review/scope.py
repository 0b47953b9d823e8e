"""Who reads which part of the audit trail, by site.

The trail holds the clinical data as the sites entered them, free text included, so only
roles that see those data read it here: not administrators (they see the trail of the
accounts, on the account pages) nor the sponsor.

- The review of critical changes: whoever holds the audit right where they also see the
  subjects (monitors, investigators, data managers), at those sites.
- The study-wide trail: whoever holds the audit right where they may also export the data
  (data managers), at those sites; the events of no site (sign-ins, accounts, the
  definition) only with a role for every site. The same rights as the CSV extract of the
  trail (ecrf.jobs.kinds).
"""

from __future__ import annotations

from ecrf.auth.models import User
from ecrf.auth.permissions import sites_with
from ecrf.auth.roles import Perm
from ecrf.exports.privacy import withholds_free_text


def _both(user: User, first: Perm, second: Perm) -> set[int] | None:
    """The sites where ``user`` holds both permissions; None for every site."""
    if withholds_free_text(user):
        return set()
    a, b = sites_with(user, first), sites_with(user, second)
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def review_sites(user: User) -> set[int] | None:
    """The sites whose critical changes ``user`` reviews; None for every site."""
    return _both(user, Perm.VIEW_AUDIT, Perm.VIEW_SUBJECTS)


def trail_sites(user: User) -> set[int] | None:
    """The sites whose audit events ``user`` reads in the study-wide view; None for all
    (and the events of no site with them)."""
    return _both(user, Perm.VIEW_AUDIT, Perm.EXPORT_DATA)


def reaches(sites: set[int] | None, site_id: int | None) -> bool:
    """Whether a scope from this module covers ``site_id`` (None: an event of no site)."""
    if sites is None:
        return True
    return site_id is not None and site_id in sites
