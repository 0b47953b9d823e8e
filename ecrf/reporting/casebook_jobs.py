"""Casebooks as background jobs: one subject's, and the investigator's copy of a site (every
casebook, a manifest with each file's SHA-256, zipped by the job)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ecrf.audit.checkpoints import write_checkpoint
from ecrf.audit.services import cli_actor, record_event
from ecrf.db import utcnow
from ecrf.errors import NotFound
from ecrf.extensions import db
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject
from ecrf.reporting.casebook_pdf import render_casebook
from ecrf.reporting.scope import subject_for_report

if TYPE_CHECKING:
    from ecrf.auth.models import User

Progress = Callable[[int, int], None]

SUBJECT_GONE = "The subject of this casebook is no longer within your sites."
SUMS_NAME = "SHA256SUMS"
MANIFEST_NAME = "manifest.json"
README_NAME = "README.txt"
README = """Investigator's copy of the IAH-PRRT (LUTARTERIAL) case report forms
===================================================================

Generated {at} by {by}, from the data as committed at audit checkpoint #{seq}
({checkpoint}).

One folder per site, one archival PDF (PDF/A-3b) per subject: its casebook, with the
subject's CDISC ODM 1.3.2 file attached inside the PDF.

{sums} lists the SHA-256 of every file (check them with `sha256sum -c {sums}`);
{manifest} says the same with each subject's status and the checksum of its ODM file.
"""


def write_casebook(
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Progress | None = None,
    subject: str,
) -> Path:
    """A per-subject job: ``subject``'s casebook written to ``out``; the report recorded in
    the trail and committed.

    :raises NotFound: the subject is no longer within the reader's sites.
    """
    try:
        found = subject_for_report(subject, actor)
    except NotFound:
        raise NotFound(SUBJECT_GONE) from None
    if site_ids is not None and found.site_id not in site_ids:
        raise NotFound(SUBJECT_GONE)
    if progress is not None:
        progress(0, 1)
    rendered = render_casebook(current_study(), found, actor=actor)
    out.write_bytes(rendered.pdf)
    db.session.commit()
    if progress is not None:
        progress(1, 1)
    return out


def write_site_casebooks(
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Progress | None = None,
) -> Path:
    """The investigator's copy: every casebook of the sites ``site_ids`` (None: all) in the
    folder ``out`` (a folder per site), with a manifest, SHA256SUMS and a README. Records one
    report event for the batch and commits.

    Each subject is read and rendered in turn and its PDF written before the next: memory
    holds one casebook at a time (the session keeps no reference to objects no longer used).
    """
    query = sa.select(Subject.id, Site.code).join(Site).order_by(Site.code, Subject.number)
    if site_ids is not None:
        query = query.where(Subject.site_id.in_(list(site_ids)))
    subjects = db.session.execute(query).all()
    study = current_study()
    checkpoint = write_checkpoint()
    out.mkdir(parents=True, exist_ok=True)
    files = []
    if progress is not None:
        progress(0, len(subjects))
    for done, (subject_id, site_code) in enumerate(subjects, start=1):
        subject = db.session.get(Subject, subject_id)
        rendered = render_casebook(study, subject, actor=actor, audit=False, checkpoint=checkpoint)
        path = out / site_code / rendered.filename
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(rendered.pdf)
        files.append(
            {
                "file": path.relative_to(out).as_posix(),
                "site": site_code,
                "subject": subject.identifier,
                "status": subject.status.value,
                "bytes": len(rendered.pdf),
                "sha256": hashlib.sha256(rendered.pdf).hexdigest(),
                "odm_sha256": rendered.odm_sha256,
            }
        )
        if progress is not None:
            progress(done, len(subjects))
    generated_at = utcnow()
    generated_by = actor.username if actor is not None else cli_actor()
    codes = sorted({file["site"] for file in files})
    _write_manifest(out, files, codes, generated_at, generated_by, checkpoint)
    record_event(
        "report",
        "extract",
        "casebooks",
        actor=actor,
        site_id=_single_site(site_ids),
        new=f"{len(files)} casebooks of {', '.join(codes) or 'no site'}",
        definition_version=current_study().version,
    )
    db.session.commit()
    return out


def _write_manifest(out: Path, files, codes, generated_at, generated_by, checkpoint) -> None:
    manifest = {
        "study": current_study().study.oid,
        "definition_version": current_study().version,
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
        "sites": codes,
        "audit_checkpoint": {"seq": checkpoint.seq, "hash": checkpoint.hash},
        "files": files,
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    sums = "".join(f"{file['sha256']}  {file['file']}\n" for file in files)
    (out / SUMS_NAME).write_text(sums, encoding="utf-8")
    readme = README.format(
        at=f"{generated_at:%Y-%m-%d %H:%M:%S} UTC",
        by=generated_by,
        seq=checkpoint.seq,
        checkpoint=checkpoint.hash,
        sums=SUMS_NAME,
        manifest=MANIFEST_NAME,
    )
    (out / README_NAME).write_text(readme, encoding="utf-8")


def _single_site(site_ids: Collection[int] | None) -> int | None:
    if site_ids is None or len(site_ids) != 1:
        return None
    return next(iter(site_ids))
