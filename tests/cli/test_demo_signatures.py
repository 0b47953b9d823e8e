"""The demo's signatures: the investigator signs (through the signing service, with the
password) a visit and the inclusion decision of subjects; the site then corrects a signed
visit, so that a newcomer meets a valid signature and one invalidated, saying why."""

from __future__ import annotations

import sqlalchemy as sa

from ecrf.crf.services import save_form
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.records.loader import current_study
from ecrf.signatures import services
from ecrf.signatures.demo import NONE, seed_demo_signatures
from ecrf.signatures.models import Scope, Signature, SignatureState


def test_the_demo_leaves_valid_and_invalidated_signatures(seeded):
    with seeded.app.app_context():
        passwords = sorted(seeded.passwords.items())
        message = seed_demo_signatures(passwords, save_form)
        db.session.commit()
        made = db.session.scalars(sa.select(Signature).order_by(Signature.id)).all()
        states = {s.state for s in made}
        assert states == {SignatureState.VALID, SignatureState.INVALIDATED}, message
        assert {s.scope for s in made} == {Scope.VISIT, Scope.INCLUSION}
        assert {s.signer.username for s in made} == {"investigator.bdx"}
        invalid = next(s for s in made if not s.valid)
        why = services.why_invalid(current_study(), invalid)
        assert why.startswith("Data changed after signing: Screening")
        assert "Camille Martin (staff.bdx)" in why
        assert verify_trail().intact
        # A second run adds none.
        assert seed_demo_signatures(passwords, save_form) == NONE
