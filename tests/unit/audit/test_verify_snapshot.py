"""`ecrf audit verify` on a live system: what is committed while it reads is not taken for
data the application never audited (the trail and the tables are read as of one moment)."""

from __future__ import annotations

import threading

from ecrf.audit.verify import verify_trail
from ecrf.extensions import db
from ecrf.integrity import reconcilers
from ecrf.records.models import Site
from ecrf.study import subjects


class RegistersMidway:
    """Registers a subject, committed from another connection, as the walk reads the
    trail's first site: after the trail's snapshot, before the tables are compared."""

    def __init__(self, app, site_id: int) -> None:
        self.app, self.site_id, self.registered = app, site_id, []

    def handlers(self):
        return {"site_created": self.register}

    def register(self, _event) -> None:
        if self.registered:
            return

        def elsewhere() -> None:
            with self.app.app_context():
                site = db.session.get(Site, self.site_id)
                self.registered.append(subjects.register_subject(site, actor=None).identifier)
                db.session.commit()

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()

    def compare(self, problems) -> None:
        pass


def test_a_subject_registered_while_verify_reads_is_not_reported(app, create_site):
    site = create_site("BDX")
    with app.app_context():
        midway = RegistersMidway(app, site.id)
        during = verify_trail([*reconcilers(), midway])
        assert midway.registered == ["BDX-001"]
        assert during.intact, list(during.problems.shown)
        after = verify_trail(reconcilers())
        assert after.intact, list(after.problems.shown)
        assert after.chain.events == during.chain.events + 1  # the registration, seen now
