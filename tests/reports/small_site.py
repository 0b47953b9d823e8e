"""A small site added to a seeded trial: two subjects with their consent only, and an
investigator of the site. Its investigator's copy renders in seconds where a demo site's,
with a subject followed to the end, takes a minute (the most documented subject's whole
casebook is read back page by page in test_casebook_pdf)."""

from __future__ import annotations

from datetime import date

from ecrf.auth import services as auth_services
from ecrf.auth.roles import Role
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.study import services as study_services
from ecrf.study import subjects

CODE, NAME = "LYO", "CHU de Lyon (a small test site)"
INVESTIGATOR, PASSWORD = "investigator.lyo", "a long password for investigator lyo"


def add_small_site(app, count: int = 2) -> list[str]:
    """Add the site, its investigator and ``count`` consented subjects; their identifiers."""
    with app.app_context():
        study = current_study()
        study_services.add_site(CODE, NAME, actor=None)
        site = get_site(CODE)
        auth_services.create_user(
            INVESTIGATOR,
            "Dr Small Site",
            PASSWORD,
            actor=None,
            role=Role.INVESTIGATOR,
            site=site,
            must_change_password=False,
        )
        identifiers = []
        for _ in range(count):
            subject = subjects.register_subject(site, actor=None)
            consent = {"ICDAT": date(2024, 3, 4).isoformat(), "ICVERS": "v2", "THERAPY": "N"}
            save_form(
                study, subject, "SCR", "IC", {("IC", 1): consent}, actor=None, expected_version=0
            )
            identifiers.append(subject.identifier)
        db.session.commit()
        return identifiers
