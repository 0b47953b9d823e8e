"""``write_odm``: the study's metadata, its people and places, and its clinical data as one
CDISC ODM 1.3.2 snapshot, streamed subject by subject (constant memory)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from io import BytesIO
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from lxml import etree

from ecrf.audit.models import AuditEvent
from ecrf.audit.services import record_event
from ecrf.auth.models import User
from ecrf.auth.permissions import can_everywhere, require_permission
from ecrf.auth.roles import Perm
from ecrf.db import utcnow
from ecrf.errors import PermissionDenied
from ecrf.exports.odm import oids, xmltext
from ecrf.exports.odm.clinical import ClinicalWriter
from ecrf.exports.odm.metadata import _e, study_element
from ecrf.exports.privacy import withholds_free_text
from ecrf.exports.stream import iter_rows
from ecrf.extensions import db
from ecrf.records.loader import LoadedStudy
from ecrf.records.models import Site, Subject

Progress = Callable[[int, int], None]

ORIGINATOR = "IAH-PRRT eCRF"

ALL_SITES_REFUSED = "You are not allowed to export the data of every site."


def write_odm(
    study: LoadedStudy,
    out: Path,
    *,
    site_ids: Collection[int] | None,
    actor: User | None,
    progress: Progress | None = None,
) -> Path:
    """Write an ODM 1.3.2 snapshot of ``study`` and the data of the sites ``site_ids``
    (None: all) to the file ``out``.

    Free text is withheld from readers who may not see it (``withholds_free_text``), and
    with it every free-text reason (for a change, a status, a deviation). Records the
    export in the audit trail and commits it.

    :param progress: called with (subjects written, subjects in scope) after each subject.
    :returns: ``out``.
    :raises PermissionDenied: ``actor`` may not export the data of every site asked for
        (checked here too, before anything is written, whoever the caller is).
    """
    _check_scope(actor, site_ids)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed when whole: a failure never leaves half a file as the result.
    partial = out.with_name(out.name + ".part")
    try:
        total, written = write_snapshot(
            study,
            str(partial),
            site_ids=site_ids,
            withhold=withholds_free_text(actor),
            progress=progress,
        )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    record_event(
        "export",
        "extract",
        "odm",
        actor=actor,
        new=f"{out.name}: {written} subjects",
        definition_version=study.version,
    )
    db.session.commit()
    if progress is not None:
        progress(max(total, written), max(total, written))
    return out


def write_snapshot(
    study: LoadedStudy,
    target: str | BinaryIO,
    *,
    site_ids: Collection[int] | None,
    withhold: bool,
    subject: str | None = None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Write the ODM snapshot of ``study`` (all subjects of ``site_ids``, or the one
    ``subject``) to a file name or a binary stream; no permission check and no audit event
    (callers do both).

    :returns: (subjects in scope, subjects written).
    """
    context = _Context(study, site_ids)
    count = _scoped(sa.select(sa.func.count(Subject.id)), site_ids)
    if subject is not None:
        count = count.where(Subject.identifier == subject)
    total = db.session.scalar(count) or 0
    written = 0
    now = utcnow().replace(microsecond=0)
    root_attrs = {
        "FileType": "Snapshot",
        "Granularity": "All" if subject is None else "SingleSubject",
        "FileOID": f"ODM.{study.study.oid}.{now:%Y%m%dT%H%M%SZ}",
        "CreationDateTime": now.isoformat(),
        "ODMVersion": oids.ODM_VERSION,
        "Originator": ORIGINATOR,
        "SourceSystem": "ecrf",
        "SourceSystemVersion": _version(),
    }
    clinical = ClinicalWriter(
        study,
        db.session.connection(),
        withhold=withhold,
        site_codes=context.site_codes,
        usernames={uid: user.username for uid, user in context.users.items()},
    )
    with _opened(target) as out:
        # The bytes lxml's incremental writer (etree.xmlfile) gave, pretty-printed.
        out.write(b"<?xml version='1.0' encoding='utf-8'?>\n")
        out.write(_start_tag("ODM", {"xmlns": oids.NS, **root_attrs}))
        out.write(_tree(study_element(study)))
        out.write(_tree(context.admin_data()))
        clinical_attrs = {
            "StudyOID": oids.study_oid(study.study.oid),
            "MetaDataVersionOID": oids.mdv_oid(study.version),
        }
        out.write(_start_tag("ClinicalData", clinical_attrs) + b"\n")
        rows = iter_rows(site_ids, subject=subject)
        for identifier, subject_rows in groupby(rows, attrgetter("subject")):
            out.write(clinical.subject_data(identifier, subject_rows).encode())
            written += 1
            if progress is not None:
                out.flush()
                progress(written, max(total, written))
        out.write(b"</ClinicalData></ODM>")
    return total, written


def subject_odm(study: LoadedStudy, identifier: str, site_id: int, *, withhold: bool) -> bytes:
    """One subject's ODM 1.3.2 file (the metadata of ``study``, its site and the people who
    recorded its data, its clinical data and their audit records), e.g. to attach to its
    casebook. No permission check, no audit event."""
    buffer = BytesIO()
    write_snapshot(study, buffer, site_ids=[site_id], withhold=withhold, subject=identifier)
    return buffer.getvalue()


def _check_scope(actor: User | None, site_ids: Collection[int] | None) -> None:
    if actor is None:
        return
    if site_ids is None:
        if not can_everywhere(actor, Perm.EXPORT_DATA):
            raise PermissionDenied(ALL_SITES_REFUSED)
        return
    for site_id in site_ids:
        require_permission(actor, Perm.EXPORT_DATA, site_id)


def _version() -> str:
    try:
        return version("ecrf")
    except PackageNotFoundError:
        return "unknown"


def _scoped(query, site_ids: Collection[int] | None):
    return query if site_ids is None else query.where(Subject.site_id.in_(list(site_ids)))


@contextmanager
def _opened(target: str | BinaryIO) -> Iterator[BinaryIO]:
    if not isinstance(target, str):
        yield target
        return
    with open(target, "wb") as handle:
        yield handle


def _start_tag(tag: str, attrs: dict[str, str]) -> bytes:
    pairs = "".join(f' {name}="{xmltext.attribute(value)}"' for name, value in attrs.items())
    return f"<{tag}{pairs}>".encode()


def _tree(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8", xml_declaration=False, pretty_print=True)


class _Context:
    """The sites in scope and the users of their audit records (AdminData)."""

    def __init__(self, study: LoadedStudy, site_ids: Collection[int] | None):
        self.study = study
        site_query = sa.select(Site).order_by(Site.code)
        if site_ids is not None:
            site_query = site_query.where(Site.id.in_(list(site_ids)))
        self.sites = list(db.session.scalars(site_query))
        self.site_codes = {site.id: site.code for site in self.sites}
        self.site_ids = site_ids
        self.users = self._users()

    def _users(self) -> dict[int, User]:
        query = sa.select(AuditEvent.actor_id).where(
            AuditEvent.entity.in_(("form_entry", "subject", "visit")),
            AuditEvent.actor_id.is_not(None),
        )
        if self.site_ids is not None:
            query = query.where(AuditEvent.site_id.in_(list(self.site_ids)))
        ids = set(db.session.scalars(query.distinct()))
        users = db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.username))
        return {user.id: user for user in users}

    def admin_data(self) -> etree._Element:
        admin = _e("AdminData", {"StudyOID": oids.study_oid(self.study.study.oid)})
        operator = _e("User", {"OID": oids.OPERATOR_USER, "UserType": "Other"}, parent=admin)
        _e("DisplayName", parent=operator, text="Command-line operator")
        for user in self.users.values():
            node = _e("User", {"OID": oids.user_oid(user.username)}, parent=admin)
            _e("LoginName", parent=node, text=user.username)
            _e("DisplayName", parent=node, text=user.full_name)
        for site in self.sites:
            location = _e(
                "Location",
                {"OID": oids.location_oid(site.code), "Name": site.name, "LocationType": "Site"},
                parent=admin,
            )
            _e(
                "MetaDataVersionRef",
                {
                    "StudyOID": oids.study_oid(self.study.study.oid),
                    "MetaDataVersionOID": oids.mdv_oid(self.study.version),
                    "EffectiveDate": site.created_at.date().isoformat(),
                },
                parent=location,
            )
        return admin
