"""The form page and its save issue a bounded number of SQL statements, whatever the number
of forms the subject has, and read as ORM objects only the values of the form at hand.

Counted on the engine (``before_cursor_execute``) around one request of the test client,
on the seeded trial (demo patients through the write path): deterministic, unlike times.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa

from ecrf.auth.roles import Role
from ecrf.crf import web_forms
from ecrf.demo import DEMO_USERS
from ecrf.extensions import db
from ecrf.records.data import SubjectData
from ecrf.records.loader import current_study
from ecrf.records.models import EntryStatus, ItemValue, Subject
from forms.language import DataType

#: The bound of the issue: a save that changes a few values.
SAVE_STATEMENTS = 20
LAB_FORM = "LBCHEM"
#: The trial form with about 20 fields: haematology (18 items, 5 of them derived).
WIDE_FORM = "LBHEM"
STAFF = {site: name for name, _, role, site in DEMO_USERS if role is Role.SITE_STAFF}


@pytest.fixture(scope="module")
def subjects(seeded) -> dict[str, tuple[str, int]]:
    """Per form: the staff site's subjects with that form, the fewest and most documented:
    {"few"/"many": (identifier, number of entries)} for the site that has both."""
    with seeded.app.app_context():
        study = current_study()
        by_site: dict[str, list[tuple[int, str]]] = {}
        for subject in db.session.scalars(sa.select(Subject).order_by(Subject.id)):
            site = subject.identifier.split("-")[0]
            if site not in STAFF:
                continue
            data = SubjectData.load(study, subject)
            if any(key[2] == LAB_FORM for key in data.entries):
                by_site.setdefault(site, []).append((len(data.entries), subject.identifier))
        db.session.remove()
    site, found = max(by_site.items(), key=lambda kv: max(kv[1])[0] - min(kv[1])[0])
    (few, few_id), (many, many_id) = min(found), max(found)
    assert many >= 2 * few, f"the seeded patients at {site} differ too little: {found}"
    return {"few": (few_id, few), "many": (many_id, many)}


@contextmanager
def counted(app) -> Iterator[dict[str, int]]:
    """Statements issued and ItemValue objects loaded inside the block."""
    counts = {"statements": 0, "values": 0}

    def statement(*_args) -> None:
        counts["statements"] += 1

    def loaded(*_args) -> None:
        counts["values"] += 1

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(ItemValue, "load", loaded)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(ItemValue, "load", loaded)


def signed_in(seeded, identifier: str):
    client = seeded.app.test_client()
    user = STAFF[identifier.split("-")[0]]
    client.post("/login", data={"username": user, "password": seeded.passwords[user]})
    return client


def form_post(seeded, identifier: str, form_oid: str, changed: int):
    """The path of the subject's first ``form_oid`` entry, the page's fields with
    ``changed`` entered decimal values moved by one step, and how many values it holds."""
    with seeded.app.app_context():
        study = current_study()
        subject = db.session.scalar(sa.select(Subject).filter_by(identifier=identifier))
        data = SubjectData.load(study, subject)
        key = min(k for k in data.entries if k[2] == form_oid)
        entry = data.entries[key]
        form = study.forms[form_oid]
        row_keys = web_forms.row_keys_for(form, entry)
        body = web_forms.initial_data(study, form, entry, row_keys)
        moved = 0
        for group in form.groups:
            row = entry.rows.get((group.oid, 1))
            for item in group.items:
                if moved == changed or row is None or item.derived:
                    continue
                if item.type is DataType.DECIMAL and row.values.get(item.oid) is not None:
                    name = web_forms.field_name(group.oid, 1, item.oid)
                    body[name] = str(
                        Decimal(body[name]) + Decimal(1).scaleb(-(item.precision or 0))
                    )
                    moved += 1
        assert moved == changed
        body["version"] = str(entry.entry.version)
        if entry.entry.status is EntryStatus.COMPLETE:
            body.update(action="complete", reason="Corrected from the source.")
        values = sum(len(r.values) for r in entry.rows.values())
        db.session.remove()
    path = f"/subjects/{identifier}/visits/{key[0]}/{key[1]}/forms/{form_oid}"
    return path, body, values


def test_a_save_that_changes_a_few_values_of_a_20_field_form_issues_at_most_20_statements(
    seeded, subjects
):
    identifier = subjects["many"][0]
    client = signed_in(seeded, identifier)
    path, body, _ = form_post(seeded, identifier, WIDE_FORM, changed=3)
    with counted(seeded.app) as counts:
        response = client.post(path, data=body)
    assert response.status_code == 302, response.text
    assert counts["statements"] <= SAVE_STATEMENTS


@pytest.mark.parametrize("form_oid", [LAB_FORM, WIDE_FORM])
def test_a_form_save_issues_as_many_statements_for_a_subject_with_many_forms_as_with_few(
    seeded, subjects, form_oid
):
    counts = {}
    for which in ("few", "many"):
        identifier = subjects[which][0]
        client = signed_in(seeded, identifier)
        path, body, values = form_post(seeded, identifier, form_oid, changed=1)
        with counted(seeded.app) as counts[which]:
            response = client.post(path, data=body)
        assert response.status_code == 302, response.text
        # Only the saved form's values are read as objects (the others as plain rows).
        assert counts[which]["values"] <= values
    assert counts["many"]["statements"] == counts["few"]["statements"] <= SAVE_STATEMENTS


def test_a_form_page_issues_as_many_statements_for_a_subject_with_many_forms_as_with_few(
    seeded, subjects
):
    counts = {}
    for which in ("few", "many"):
        identifier = subjects[which][0]
        client = signed_in(seeded, identifier)
        path, _, values = form_post(seeded, identifier, LAB_FORM, changed=0)
        with counted(seeded.app) as counts[which]:
            response = client.get(path)
        assert response.status_code == 200
        assert counts[which]["values"] <= values
    assert counts["many"]["statements"] == counts["few"]["statements"]
