"""The API's monitoring reads: a subject's signatures (valid and invalidated, and why) and
its source-data verification per form against the plan; site scope; audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.sdv.demo import seed_demo_verification
from ecrf.signatures.demo import seed_demo_signatures
from ecrf.signatures.models import Signature, SignatureState
from tests.exports.api_helpers import bearer, issue_token


@pytest.fixture(scope="module")
def monitored(seeded):
    """The seeded trial with the demo's verification and signatures."""
    with seeded.app.app_context():
        seed_demo_verification(save_form)
        seed_demo_signatures(sorted(seeded.passwords.items()), save_form)
        db.session.commit()
        invalidated = db.session.scalar(
            sa.select(Signature).where(Signature.state == SignatureState.INVALIDATED).limit(1)
        )
        identifier = invalidated.subject.identifier
    tokens = {name: issue_token(seeded.app, name) for name in ("sponsor", "staff.tls")}
    return seeded, tokens, identifier


def _get(seeded, token: str, path: str):
    return seeded.app.test_client().get(path, headers=bearer(token))


def test_a_subjects_signatures_say_what_they_sign_and_whether_they_hold(monitored):
    seeded, tokens, identifier = monitored
    listed = _get(seeded, tokens["sponsor"], f"/api/v1/subjects/{identifier}/signatures").json
    assert listed["total"] == len(listed["items"]) >= 2
    states = {s["state"] for s in listed["items"]}
    assert "invalidated" in states
    invalid = next(s for s in listed["items"] if s["state"] == "invalidated")
    assert invalid["invalidated_because"].startswith("Data changed after signing: ")
    assert invalid["meaning"].startswith("I attest that")
    assert len(invalid["content_sha256"]) == 64 and invalid["role"] == "investigator"
    valid = [s for s in listed["items"] if s["state"] == "valid"]
    assert all(s["invalidated_because"] is None for s in valid)
    # Another site's subject answers like a missing one.
    other = _get(seeded, tokens["staff.tls"], f"/api/v1/subjects/{identifier}/signatures")
    assert other.status_code == 404


def test_a_subjects_verification_counts_each_form_against_the_plan(monitored):
    seeded, tokens, identifier = monitored
    found = _get(seeded, tokens["sponsor"], f"/api/v1/subjects/{identifier}/verification").json
    assert found["identifier"] == identifier
    assert found["verified"] == sum(f["verified"] for f in found["forms"]) > 0
    assert found["required"] == sum(f["required"] for f in found["forms"])
    consent = next(f for f in found["forms"] if f["form_oid"] == "IC")
    assert consent["critical"] and consent["in_plan"] and consent["required"] > 0
    assert all(f["in_plan"] == (f["required"] > 0) for f in found["forms"])
    with seeded.app.app_context():
        reads = db.session.scalars(
            sa.select(AuditEvent.entity).where(
                AuditEvent.action == "api_read", AuditEvent.entity_id == identifier
            )
        ).all()
    assert {"signatures", "verification"} <= set(reads)
