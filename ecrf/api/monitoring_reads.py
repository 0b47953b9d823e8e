"""The API's reads of a subject's monitoring: its investigator signatures and its
source-data verification against the plan."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ecrf.api.reads import _in_scope, _iso
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.sdv import plan
from ecrf.sdv.progress import site_percentages, subject_progress
from ecrf.signatures.models import Signature
from ecrf.signatures.services import why_invalid


def list_signatures(study: LoadedStudy, reader: User, identifier: str) -> list[dict]:
    """Every signature of a subject, oldest first: what it signs, who, when, its meaning,
    the hash of the content it is bound to, and whether it still holds (if not, why)."""
    subject = _in_scope(reader, identifier)
    rows = db.session.scalars(
        sa.select(Signature)
        .where(Signature.subject_id == subject.id)
        .order_by(Signature.signed_at, Signature.id)
        .options(selectinload(Signature.signer), selectinload(Signature.invalidated_by))
    )
    signatures = [
        {
            "id": signature.id,
            "scope": signature.scope.value,
            "visit_oid": signature.visit_oid,
            "visit_repeat_key": signature.visit_repeat,
            "signer": signature.signer.username,
            "printed_name": signature.printed_name,
            "role": signature.role,
            "meaning": signature.meaning,
            "signed_at": _iso(signature.signed_at),
            "content_sha256": signature.content_hash,
            "open_queries_at_signing": signature.open_queries,
            "state": signature.state.value,
            "invalidated_at": _iso(signature.invalidated_at),
            "invalidated_because": why_invalid(study, signature),
        }
        for signature in rows
    ]
    record_event(
        "api_read", "signatures", subject.identifier, actor=reader, site_id=subject.site_id
    )
    return signatures


def get_verification(study: LoadedStudy, reader: User, identifier: str) -> dict:
    """The subject's source-data verification: whether it is sampled, the site's share,
    and per form the values the plan asks for, verified and withdrawn by a later change."""
    subject = _in_scope(reader, identifier)
    percentage = site_percentages(study, [subject.site])[subject.site_id]
    progress = subject_progress(study, [subject], {subject.site_id: percentage})[subject.id]
    forms = [
        {
            "visit_oid": visit_oid,
            "visit_repeat_key": repeat,
            "form_oid": form_oid,
            "critical": plan.is_critical(study, form_oid),
            "in_plan": step.required > 0,
            "values": step.captured,
            "required": step.required,
            "verified": step.verified,
            "withdrawn": step.withdrawn,
            "verified_beyond_plan": step.beyond,
        }
        for (visit_oid, repeat, form_oid), step in sorted(progress.forms.items())
    ]
    record_event(
        "api_read", "verification", subject.identifier, actor=reader, site_id=subject.site_id
    )
    total = progress.progress
    return {
        "identifier": subject.identifier,
        "sampled": progress.sampled,
        "site_percentage": percentage,
        "required": total.required,
        "verified": total.verified,
        "withdrawn": total.withdrawn,
        "forms": forms,
    }
