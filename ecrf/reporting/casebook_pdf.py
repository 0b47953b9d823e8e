"""A subject's casebook as an archival PDF (PDF/A-3b) with the subject's ODM file inside."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecrf.audit.services import record_event
from ecrf.exports.odm.writer import subject_odm
from ecrf.exports.privacy import withholds_free_text
from ecrf.reporting.casebook import build_casebook
from reports.render import Attachment, render_pdf

if TYPE_CHECKING:
    from ecrf.audit.checkpoints import Checkpoint
    from ecrf.auth.models import User
    from ecrf.records.loader import LoadedStudy
    from ecrf.records.models import Subject

ODM_DESCRIPTION = "CDISC ODM 1.3.2: the subject's data and their audit records"


@dataclass(frozen=True)
class RenderedCasebook:
    pdf: bytes
    filename: str
    odm_sha256: str


def casebook_filename(subject: Subject) -> str:
    return f"casebook-{subject.identifier}.pdf"


def render_casebook(
    study: LoadedStudy,
    subject: Subject,
    *,
    actor: User | None,
    audit: bool = True,
    checkpoint: Checkpoint | None = None,
) -> RenderedCasebook:
    """Render ``subject``'s casebook; records a "report" event in the trail (the caller
    commits) unless ``audit`` is False (a batch records one event for all its casebooks).

    Callers check that ``actor`` may read the subject's reports.
    """
    context = build_casebook(study, subject, actor=actor, checkpoint=checkpoint)
    odm = subject_odm(
        study, subject.identifier, subject.site_id, withhold=withholds_free_text(actor)
    )
    odm_sha256 = hashlib.sha256(odm).hexdigest()
    pdf = render_pdf(
        "casebook.html",
        context,
        attachments=[
            Attachment(f"{subject.identifier}-odm.xml", odm, ODM_DESCRIPTION, "Source"),
        ],
        # The same data read at the same checkpoint give the same file identifier.
        identifier=hashlib.sha256(f"{subject.identifier}|{context['page']['checkpoint']}".encode())
        .hexdigest()[:32]
        .encode(),
    )
    if audit:
        record_event(
            "report",
            "subject",
            subject.identifier,
            actor=actor,
            site_id=subject.site_id,
            field="casebook",
            new=f"{casebook_filename(subject)} sha256={hashlib.sha256(pdf).hexdigest()}",
        )
    return RenderedCasebook(pdf, casebook_filename(subject), odm_sha256)
