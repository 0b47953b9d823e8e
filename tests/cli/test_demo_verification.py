"""The demo's source verification: values verified by the demo monitor (a whole screening
visit, critical forms of another subject, a form at another site), one verification
withdrawn by the site's correction, and a site with its own share; all in the trail."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.records.sites import get_site
from ecrf.sdv import progress
from ecrf.sdv.demo import DEMO_SITE_PLAN, seed_demo_verification
from ecrf.sdv.models import SitePlan, SourceVerification, Withdrawal


def test_the_demo_shows_verification_done_pending_and_withdrawn(seeded):
    with seeded.app.app_context():
        summary = seed_demo_verification(save_form)
        db.session.commit()
        kept = db.session.scalars(sa.select(SourceVerification)).all()
        withdrawn = [v for v in kept if not v.current]
        assert [(v.item_oid, v.withdrawn_cause, v.withdrawn_by.username) for v in withdrawn] == [
            ("WEIGHT", Withdrawal.CHANGED, "staff.bdx")
        ]
        assert {v.entry.visit.subject.site.code for v in kept} == {"BDX", "TLS"}
        assert summary.endswith("1 withdrawn by a correction.")
        site_code, percentage, _ = DEMO_SITE_PLAN
        assert db.session.get(SitePlan, get_site(site_code).id).percentage == percentage
        per_site, _ = progress.overview(current_study(), [get_site("BDX")])
        bdx = per_site[0].progress
        assert 0 < bdx.verified < bdx.required and bdx.withdrawn == 1
        assert verify_trail().intact
