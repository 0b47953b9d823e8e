"""Fixtures of the unit tests that capture data, on the mini study (tests/definitions): a
study, two sites, staff, an investigator, a monitor, a registered subject, and ``save``
(the write path as a view calls it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.crf import services
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import Site, Subject
from ecrf.study import subjects
from tests.capture import entry_of


@pytest.fixture
def study(app_ctx) -> LoadedStudy:
    return current_study()


@pytest.fixture
def sites(create_site, app_ctx) -> dict[str, Site]:
    create_site("BDX")
    create_site("TLS")
    return {s.code: s for s in db.session.scalars(sa.select(Site))}


@pytest.fixture
def staff(sites, create_user) -> User:
    """Site staff at BDX: may enter data there."""
    return db.session.get(User, create_user("bdx.nurse", Role.SITE_STAFF, "BDX"))


@pytest.fixture
def other_staff(sites, create_user) -> User:
    """Site staff at TLS: may enter data there only."""
    return db.session.get(User, create_user("tls.nurse", Role.SITE_STAFF, "TLS"))


@pytest.fixture
def investigator(sites, create_user) -> User:
    """The investigator at BDX: enters data and decides inclusion and withdrawal there."""
    return db.session.get(User, create_user("bdx.investigator", Role.INVESTIGATOR, "BDX"))


@pytest.fixture
def monitor(sites, create_user) -> User:
    """A monitor at BDX: sees the data but may not enter it."""
    return db.session.get(User, create_user("bdx.monitor", Role.MONITOR, "BDX"))


@pytest.fixture
def subject(sites, staff) -> Subject:
    """BDX-001, registered and committed."""
    registered = subjects.register_subject(sites["BDX"], actor=staff)
    db.session.commit()
    return registered


@pytest.fixture
def save(study, staff) -> Callable[..., services.SaveResult]:
    """save_form as a view calls it (from the entry's current version), then commit."""

    def do(
        subject: Subject,
        visit_oid: str,
        form_oid: str,
        rows: services.Submitted,
        *,
        actor: User | None = staff,
        version: int | None = None,
        visit_repeat: int = 1,
        **options: Any,
    ) -> services.SaveResult:
        if version is None:
            entry = entry_of(subject, visit_oid, form_oid, visit_repeat)
            version = entry.version if entry else 0
        result = services.save_form(
            study,
            subject,
            visit_oid,
            form_oid,
            rows,
            actor=actor,
            expected_version=version,
            visit_repeat=visit_repeat,
            **options,
        )
        db.session.commit()
        return result

    return do


@pytest.fixture
def slow_reads(monkeypatch):
    """Pause after each read of a subject's data, so that racing writers overlap for sure."""
    load = SubjectData.load.__func__

    def slow_load(cls, study, subject, **options):
        data = load(cls, study, subject, **options)
        time.sleep(0.2)
        return data

    monkeypatch.setattr(SubjectData, "load", classmethod(slow_load))
