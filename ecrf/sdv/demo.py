"""The demo's source verification: done and pending, one verification withdrawn by a later
correction, and a site with its own share; seeded through the services (audited)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa

from ecrf.auth import services as auth_services
from ecrf.errors import DomainError
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import FormEntry, ItemGroupRow, ItemValue, Site, Subject, SubjectVisit
from ecrf.records.sites import get_site
from ecrf.sdv import services
from ecrf.sdv.models import SourceVerification
from ecrf.sdv.services import SdvTarget

#: What the demo monitor verified: (site, which subject of the site with screening data,
#: visit, form or None for the whole visit).
DEMO_VERIFIED = [
    ("BDX", 0, "SCR", None),
    ("BDX", 1, "SCR", "IC"),
    ("BDX", 1, "SCR", "IE"),
    ("TLS", 0, "SCR", "IC"),
]
#: The site's correction after verification: (site, subject, visit, form, group, item, kg added).
DEMO_CORRECTION = ("BDX", 0, "SCR", "VS", "VS", "WEIGHT", Decimal("0.5"))
DEMO_REASON = "Weighed again at the visit: the first scale was off."
#: A site with its own share: (site, percentage, the data manager's reason).
DEMO_SITE_PLAN = ("NTE", 50, "New site: half of its subjects fully verified at first.")
DEMO_SDV_DONE = "The demo monitor verified {count} values; {withdrawn} withdrawn by a correction."


def _screened(site_code: str) -> list[Subject]:
    return list(
        db.session.scalars(
            sa.select(Subject)
            .join(Site, Subject.site_id == Site.id)
            .join(SubjectVisit, SubjectVisit.subject_id == Subject.id)
            .where(Site.code == site_code, SubjectVisit.visit_oid == "SCR")
            .order_by(Subject.number)
        )
    )


def seed_demo_verification(save_form: Callable) -> str:
    """Verify as ``DEMO_VERIFIED`` says, then correct a verified value through ``save_form``
    (the write path, handed in: it sits above this package) and set ``DEMO_SITE_PLAN``."""
    study = current_study()
    monitor = auth_services.get_user("monitor")
    count = 0
    for site_code, index, visit, form in DEMO_VERIFIED:
        subjects = _screened(site_code)
        if len(subjects) <= index:
            continue
        try:
            count += len(
                services.verify(study, subjects[index], SdvTarget(visit, 1, form), actor=monitor)
            )
        except DomainError:
            continue  # too few subjects seeded to have the data
    withdrawn = _correct(study, save_form)
    site_code, percentage, reason = DEMO_SITE_PLAN
    site = get_site(site_code)
    if site is not None:
        datamanager = auth_services.get_user("datamanager")
        services.set_site_plan(study, site, percentage, reason, actor=datamanager)
    return DEMO_SDV_DONE.format(count=count, withdrawn=withdrawn)


def _correct(study, save_form: Callable) -> int:
    site_code, index, visit, form, group, item, added = DEMO_CORRECTION
    subjects = _screened(site_code)
    if len(subjects) <= index:
        return 0
    subject = subjects[index]
    entry = db.session.scalar(
        sa.select(FormEntry)
        .join(SubjectVisit, FormEntry.visit_id == SubjectVisit.id)
        .where(
            SubjectVisit.subject_id == subject.id,
            SubjectVisit.visit_oid == visit,
            FormEntry.form_oid == form,
        )
    )
    value = (
        db.session.scalar(
            sa.select(ItemValue)
            .join(ItemGroupRow, ItemValue.row_id == ItemGroupRow.id)
            .where(
                ItemGroupRow.entry_id == entry.id,
                ItemGroupRow.group_oid == group,
                ItemValue.item_oid == item,
            )
        )
        if entry is not None
        else None
    )
    if value is None or value.value_text is None:
        return 0
    staff = auth_services.get_user(f"staff.{site_code.lower()}")
    save_form(
        study,
        subject,
        visit,
        form,
        {(group, 1): {item: str(Decimal(value.value_text) + added)}},
        actor=staff,
        expected_version=entry.version,
        reason=DEMO_REASON,
    )
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SourceVerification)
        .where(SourceVerification.withdrawn_at.is_not(None))
    )
