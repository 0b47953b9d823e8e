"""Sites, subjects and visits held against the audit trail, both ways."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.records.models import Site, Subject, SubjectVisit


class StudyReconciler:
    """Rebuilds sites (code), subjects (site, status) and visits (date) from the trail."""

    def __init__(self) -> None:
        self.sites: dict[int, str] = {}  # site id → code
        self.subjects: dict[str, list] = {}  # identifier → [site id, status]
        self.visits: dict[str, str | None] = {}  # "SUBJ/VISIT/KEY" → date

    def handlers(self):
        return {
            "site_created": self._site,
            "subject_registered": self._registered,
            "subject_status_changed": self._status,
            "visit_date_set": self._visit_date,
            "form_created": self._form_created,
        }

    def _site(self, event: Event) -> None:
        self.sites[event.site_id] = event.entity_id

    def _registered(self, event: Event) -> None:
        self.subjects[event.entity_id] = [event.site_id, event.new]

    def _status(self, event: Event) -> None:
        self.subjects.setdefault(event.entity_id, [event.site_id, None])[1] = event.new

    def _visit_date(self, event: Event) -> None:
        self.visits[event.entity_id] = event.new

    def _form_created(self, event: Event) -> None:
        # new = "SUBJ/VISIT/KEY/FORM": a form was opened in that visit, which exists from then.
        self.visits.setdefault(event.new.rsplit("/", 1)[0], None)

    def compare(self, problems: Problems) -> None:
        trail_sites = dict(self.sites)
        for site_id, code in db.session.execute(sa.select(Site.id, Site.code)):
            created = trail_sites.pop(site_id, None)
            if created is None:
                problems.add(f"site {code} is not in the trail (never created by the application)")
            elif created != code:
                problems.add(f"site {code} was created as {created}")
        for code in trail_sites.values():
            problems.add(f"site {code} is missing from the data but the trail created it")

        stored = sa.select(Subject.identifier, Subject.site_id, Site.code, Subject.status).join(
            Site, Subject.site_id == Site.id
        )
        for identifier, site_id, code, status in db.session.execute(stored):
            registered = self.subjects.pop(identifier, None)
            if registered is None:
                problems.add(
                    f"subject {identifier} is not in the trail (never registered by the "
                    "application)"
                )
                continue
            trail_site, trail_status = registered
            if trail_site != site_id:
                problems.add(
                    f"subject {identifier} is at site {code} but was registered at "
                    f"{self.sites.get(trail_site, f'site id {trail_site}')}"
                )
            if trail_status != status.value:
                problems.add(
                    f"subject {identifier} status is {status.value!r} but the trail says "
                    f"{trail_status!r}"
                )
        for identifier in self.subjects:
            problems.add(
                f"subject {identifier} is missing from the data but the trail registered it"
            )

        visits = sa.select(
            Subject.identifier,
            SubjectVisit.visit_oid,
            SubjectVisit.repeat_key,
            SubjectVisit.visit_date,
        ).join(Subject, SubjectVisit.subject_id == Subject.id)
        unknown = object()
        for identifier, visit_oid, key, visit_date in db.session.execute(visits):
            name = f"{identifier}/{visit_oid}/{key}"
            stored_date = visit_date.isoformat() if visit_date else None
            recorded = self.visits.pop(name, unknown)
            if recorded is unknown and stored_date is None:
                continue  # opened without a date or a form: it holds nothing to account for
            recorded = None if recorded is unknown else recorded
            if recorded != stored_date:
                problems.add(
                    f"visit {name} date is {stored_date!r} but the trail last recorded {recorded!r}"
                )
        for name in self.visits:
            problems.add(f"visit {name} is missing from the data but the trail records it")
