"""Verifications held against the audit trail, both ways: a verification planted, deleted,
moved to another item, given another value, or withdrawn (or restored) in the database
without its event, is seen by `ecrf audit verify`; so is a site's share of subjects."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.records.models import FormEntry
from ecrf.sdv.models import SitePlan, SourceVerification
from ecrf.sdv.services import path


class VerificationReconciler:
    """Rebuilds each verification (where, value, withdrawn or not) and each site's own
    percentage from the trail."""

    def __init__(self) -> None:
        self.verifications: dict[int, dict] = {}  # id → {"where", "value", "withdrawn"}
        self.plans: dict[int, str] = {}  # site id → "35 %" (the definition's: removed)

    def handlers(self):
        return {
            "source_verified": self._verified,
            "verification_withdrawn": self._withdrawn,
            "sdv_plan_changed": self._plan,
        }

    def _verified(self, event: Event) -> None:
        self.verifications[int(event.entity_id)] = {
            "where": event.field,
            "value": event.new,
            "withdrawn": None,
        }

    def _withdrawn(self, event: Event) -> None:
        found = self.verifications.setdefault(
            int(event.entity_id), {"where": event.field, "value": event.old, "withdrawn": None}
        )
        found["withdrawn"] = event.new or ""

    def _plan(self, event: Event) -> None:
        if event.new and event.new.endswith("(definition)"):
            self.plans.pop(int(event.entity_id), None)
        else:
            self.plans[int(event.entity_id)] = event.new

    def compare(self, problems: Problems) -> None:
        stored = db.session.scalars(
            sa.select(SourceVerification)
            .order_by(SourceVerification.id)
            .options(selectinload(SourceVerification.entry).selectinload(FormEntry.visit))
        )
        for verification in stored:
            expected = self.verifications.pop(verification.id, None)
            label = f"verification {verification.id}"
            if expected is None:
                problems.add(f"{label} has no event in the trail")
                continue
            entry = verification.entry
            where = path(
                entry.visit,
                entry.form_oid,
                verification.group_oid,
                verification.repeat_key,
                verification.item_oid,
            )
            if expected["where"] != where:
                problems.add(f"{label} is on {where} but the trail verified {expected['where']}")
            if expected["value"] != verification.value:
                problems.add(f"{label}: its value is not the one the trail verified")
            if (expected["withdrawn"] is None) != verification.current:
                state = "current" if verification.current else "withdrawn"
                problems.add(f"{label} is {state}, unlike the trail")
        for verification_id in sorted(self.verifications):
            problems.add(
                f"verification {verification_id} is missing from the data but the trail has it"
            )
        for plan in db.session.scalars(sa.select(SitePlan).order_by(SitePlan.site_id)):
            expected = self.plans.pop(plan.site_id, None)
            if expected != f"{plan.percentage} %":
                problems.add(f"site {plan.site_id}: its share to verify is not the trail's")
        for site_id in sorted(self.plans):
            problems.add(f"site {site_id}: the share to verify the trail set is missing")
