"""Signatures held against the audit trail and against the content they sign: a signature
planted, deleted, moved to other content, revalidated or whose hash was altered in the
database, or one still marked valid over content changed behind the application's back,
is seen by `ecrf audit verify`."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.audit.chain import Problems
from ecrf.audit.reconcile import Event
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.signatures.content import ScopeKey, SubjectContent
from ecrf.signatures.models import Signature, SignatureState


class SignatureReconciler:
    """Rebuilds each signature (what it signs, its hash, its state) from the trail, then
    recomputes the hash of every valid one."""

    def __init__(self) -> None:
        self.signatures: dict[int, dict] = {}  # id → {"where", "hash", "state"}

    def handlers(self):
        return {"signature_signed": self._signed, "signature_invalidated": self._invalidated}

    def _signed(self, event: Event) -> None:
        self.signatures[int(event.entity_id)] = {
            "where": event.field,
            "hash": event.new,
            "state": SignatureState.VALID,
        }

    def _invalidated(self, event: Event) -> None:
        signature = self.signatures.setdefault(
            int(event.entity_id), {"where": event.field, "hash": event.old, "state": None}
        )
        signature["state"] = SignatureState.INVALIDATED

    def compare(self, problems: Problems) -> None:
        stored = db.session.scalars(
            sa.select(Signature).order_by(Signature.id).options(selectinload(Signature.subject))
        ).all()
        valid_by_subject = defaultdict(list)
        for signature in stored:
            where = ScopeKey.of(signature).path(signature.subject)
            expected = self.signatures.pop(signature.id, None)
            if expected is None:
                problems.add(f"signature {signature.id} ({where}) has no signing in the trail")
                continue
            if expected["where"] != where:
                problems.add(
                    f"signature {signature.id} is of {where} but the trail signed "
                    f"{expected['where']}"
                )
            if expected["hash"] != signature.content_hash:
                problems.add(
                    f"signature {signature.id} ({where}): its hash is not the one the trail signed"
                )
            if expected["state"] is not signature.state:
                problems.add(
                    f"signature {signature.id} ({where}) is {signature.state.value} but the "
                    f"trail left it {expected['state'].value if expected['state'] else 'unsigned'}"
                )
            if signature.valid:
                valid_by_subject[signature.subject_id].append(signature)
        for signature_id in sorted(self.signatures):
            problems.add(
                f"signature {signature_id} is missing from the data but the trail signed it"
            )
        if not valid_by_subject:
            return
        study = current_study()
        for signatures in valid_by_subject.values():
            content = SubjectContent.load(signatures[0].subject)
            for signature in signatures:
                key = ScopeKey.of(signature)
                if content.hash(study, key) != signature.content_hash:
                    problems.add(
                        f"signature {signature.id} ({key.path(signature.subject)}) is marked "
                        "valid but the content it signed has changed"
                    )
