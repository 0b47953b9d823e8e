"""Whose data a report may show: the sites where the reader may download reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from ecrf.auth.permissions import can, sites_with
from ecrf.auth.roles import Perm
from ecrf.errors import NotFound, PermissionDenied, RuleViolation
from ecrf.extensions import db
from ecrf.records.models import Site, Subject

if TYPE_CHECKING:
    from ecrf.auth.models import User

NO_SUCH_SUBJECT = "There is no such page. Check the address, or go back to the home page."
NO_SUCH_SITE = "There is no site {code}."
NOT_AT_SITE = "You do not hold the right to download reports at site {code}."


def report_site_ids(actor: User | None) -> set[int] | None:
    """Sites whose data ``actor`` may read in a report; None: every site (the operator, or
    an all-site role)."""
    if actor is None:
        return None
    return sites_with(actor, Perm.DOWNLOAD_REPORTS)


def report_sites(actor: User | None) -> list[Site]:
    """The sites ``actor`` may report on, by code."""
    query = sa.select(Site).order_by(Site.code)
    allowed = report_site_ids(actor)
    if allowed is not None:
        query = query.where(Site.id.in_(allowed))
    return list(db.session.scalars(query))


def scoped_site_ids(actor: User | None, site_code: str | None) -> set[int] | None:
    """The sites a report asked for ``site_code`` (None or "": all the reader's sites) covers.

    :raises RuleViolation: no such site (field ``site``).
    :raises PermissionDenied: ``actor`` may not download reports at that site.
    """
    allowed = report_site_ids(actor)
    if not site_code:
        return allowed
    site = db.session.scalar(sa.select(Site).where(Site.code == site_code.strip().upper()))
    if site is None:
        raise RuleViolation(NO_SUCH_SITE.format(code=site_code.strip()[:20]), field="site")
    if allowed is not None and site.id not in allowed:
        raise PermissionDenied(NOT_AT_SITE.format(code=site.code))
    return {site.id}


def subject_for_report(identifier: str, actor: User | None) -> Subject:
    """The subject ``identifier`` if ``actor`` may read its data in a report.

    :raises NotFound: no such subject, or one of a site outside the reader's view (the same
        answer: nobody learns which subjects exist elsewhere).
    :raises PermissionDenied: the reader sees the subject but may not download its reports.
    """
    subject = db.session.scalar(sa.select(Subject).where(Subject.identifier == identifier))
    if actor is None and subject is not None:
        return subject
    if subject is None or not can(actor, Perm.VIEW_SUBJECTS, subject.site_id):
        raise NotFound(NO_SUCH_SUBJECT)
    if not can(actor, Perm.DOWNLOAD_REPORTS, subject.site_id):
        raise PermissionDenied(f"You are not allowed to {Perm.DOWNLOAD_REPORTS.label.lower()}.")
    return subject
