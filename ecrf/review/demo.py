"""The demo's audit review: the demo monitor has reviewed the earlier half of BDX's changes
to critical data, so the review page shows reviewed changes beside new ones."""

from __future__ import annotations

from ecrf.audit.models import AuditEvent
from ecrf.auth import services as auth_services
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.review import services
from ecrf.review.services import ReviewFilters

DEMO_REVIEWED = "The demo monitor marked {count} changes to critical data reviewed (site {site})."
DEMO_NOT_REVIEWED = "No change to critical data to review in the demo yet."
#: The site whose changes the demo monitor has partly reviewed.
DEMO_REVIEW_SITE = "BDX"


def seed_demo_review() -> str:
    """Mark the earlier half of the demo site's critical changes reviewed by the demo
    monitor (through the service: audited); returns the line to print."""
    study = current_study()
    monitor = auth_services.get_user("monitor")
    site = get_site(DEMO_REVIEW_SITE)
    if monitor is None or site is None:
        return DEMO_NOT_REVIEWED
    filters = ReviewFilters(site_id=site.id, site=site.code)
    seqs = list(
        db.session.scalars(
            services.changes(study, monitor, filters)
            .with_only_columns(AuditEvent.seq)
            .order_by(None)
            .order_by(AuditEvent.seq)
        )
    )
    if len(seqs) < 2:
        return DEMO_NOT_REVIEWED
    count = services.mark_reviewed(study, filters, seqs[len(seqs) // 2 - 1], actor=monitor)
    return DEMO_REVIEWED.format(count=count, site=site.code)
