"""No accepted value may break a page: a trial subject holding the most extreme values the
write path accepts (earliest and latest dates, partial dates, the largest and smallest
numbers, the longest texts with markup and emoji, the largest row keys), then every page
as every role: never a server error, and each role gets what it may see."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ecrf.auth.models import User
from ecrf.auth.permissions import can
from ecrf.auth.roles import Perm, Role
from ecrf.converters import MAX_INTEGER
from ecrf.crf import services, visits
from ecrf.db import utcnow
from ecrf.extensions import db
from ecrf.records import dates
from ecrf.records.loader import LoadedStudy, current_study
from ecrf.records.models import ItemValue, Site, Subject
from ecrf.study import subjects
from forms.language import DataType, Item, Timing, VisitKind
from tests.capture import entry_of

#: Markup, quotes, an entity, right-to-left text and emoji: shown as text, never as HTML.
TEXT = '<script>alert("x")</script> &amp; «é» مرحبا 🙂 '
#: Largest magnitude NUMERIC(28, 10) holds before the point (fields._LIMIT is 10**18).
BIGGEST = 10**18 - 1


def extreme_number(item: Item, high: bool) -> str:
    hard = item.hard or (item.standard_unit.hard if item.multi_unit else None)
    bound = hard.high if high else hard.low if hard else None
    if bound is not None:
        return str(bound)
    if item.type is DataType.INTEGER:
        return str(BIGGEST if high else -BIGGEST)
    places = item.precision if item.precision is not None else 10
    if high:
        return f"{BIGGEST}.{'9' * places}" if places else str(BIGGEST)
    return f"0.{'0' * (places - 1)}1" if places else "0"  # the smallest above zero


def extreme_date(item: Item, timing: Timing, high: bool, today: date) -> str:
    if not high:
        return f"{dates.FIRST_YEAR}-01-01" if item.type is DataType.DATE else "1900"
    if timing is Timing.PLANNED:
        return f"{today.year + dates.YEARS_AHEAD}-12-31"
    return today.isoformat() if item.type is DataType.DATE else today.isoformat()[:7]


def extreme_row(study: LoadedStudy, visit, group, high: bool, today: date) -> dict:
    row: dict = {}
    for item in group.items:
        if item.derived:
            continue
        if item.type in (DataType.INTEGER, DataType.DECIMAL):
            row[item.oid] = extreme_number(item, high)
        elif item.type in (DataType.DATE, DataType.PARTIAL_DATE):
            row[item.oid] = extreme_date(item, dates.timing_of(item, visit), high, today)
        elif item.type is DataType.TEXT:
            length = item.max_length or 5000
            row[item.oid] = (TEXT * (length // len(TEXT) + 1))[:length]
        elif item.type is DataType.TIME:
            row[item.oid] = "23:59" if high else "00:00"
        elif item.type is DataType.YES_NO:
            row[item.oid] = "Y"  # shows the items that depend on it
        elif item.type is DataType.CHOICE:
            codes = study.codelist_for(item).codes
            row[item.oid] = codes[-1 if high else 0][0]
        elif item.type is DataType.MULTI_CHOICE:
            row[item.oid] = [code for code, _ in study.codelist_for(item).codes]
    return row


def seed(study: LoadedStudy, subject: Subject, *, high: bool, today: date) -> dict[str, int]:
    """Every form of every visit saved with extreme values; items an edit check refuses in
    combination are left out, one by one. Returns the counts of saved and refused items."""
    counts = {"saved": 0, "refused": 0}
    order = sorted(study.study.visits, key=lambda v: v.oid != "SCR")  # consent first
    for visit in order:
        repeat = 1
        if visit.kind is VisitKind.UNSCHEDULED:  # opens once consent is recorded
            visits.add_unscheduled_visit(study, subject, visit.oid, today, actor=None)
            db.session.commit()
        for form_oid in visit.forms:
            form = study.forms[form_oid]
            submitted = {}
            for group in form.groups:
                row = extreme_row(study, visit, group, high, today)
                if group.repeating:  # the first row and the largest key a row may have
                    submitted[(group.oid, 1)] = dict(row)
                    submitted[(group.oid, MAX_INTEGER)] = dict(row)
                else:
                    submitted[(group.oid, 1)] = row
            for _ in range(20):
                try:
                    services.save_form(
                        study,
                        subject,
                        visit.oid,
                        form_oid,
                        submitted,
                        actor=None,
                        expected_version=_version(subject, visit.oid, form_oid),
                        visit_repeat=repeat,
                        today=today,
                    )
                except services.ValidationFailed as refused:
                    db.session.rollback()
                    counts["refused"] += drop_refused(form, submitted, refused.issues)
                    continue
                db.session.commit()
                counts["saved"] += 1
                break
            else:
                pytest.fail(f"{visit.oid}.{form_oid} could not be saved")
    return counts


def drop_refused(form, submitted: dict, issues) -> int:
    """Leave out what a refusal names: the item; for a check on another item, the check's
    inputs; failing that, the whole row. Returns how many entries were left out."""
    dropped = 0
    for issue in issues:
        if issue.severity != "error":
            continue
        key = (issue.group_oid, issue.row_key)
        row = submitted.get(key)
        if row is None:
            continue
        if issue.item_oid is not None and row.pop(issue.item_oid, None) is not None:
            dropped += 1
            continue
        inputs = {
            ref
            for check in form.checks
            if check.target == issue.item_oid
            for ref in check.inputs
            if ref in row
        }
        for ref in inputs:
            row.pop(ref)
        dropped += len(inputs) or len(submitted.pop(key))
    return dropped


def _version(subject, visit_oid, form_oid) -> int:
    entry = entry_of(subject, visit_oid, form_oid)
    return entry.version if entry else 0


def date_visits(study: LoadedStudy, subject: Subject, *, high: bool, today: date) -> None:
    """Each scheduled visit dated at the earliest or latest day it may have."""
    for visit in study.study.visits:
        if visit.kind is not VisitKind.SCHEDULED:
            continue
        try:
            visits.set_visit_date(
                study,
                subject,
                visit.oid,
                today if high else date(dates.FIRST_YEAR, 1, 1),
                actor=None,
                deviation_reason="extreme test",
                today=today,
            )
        except services.RuleViolation:  # e.g. a visit of a sub-group the subject is not in
            db.session.rollback()
            continue
        db.session.commit()


@pytest.fixture
def app(make_app):
    return make_app(STUDY_DEFINITION="forms.iahprrt:STUDY")


@pytest.fixture
def world(app, create_site, create_user):
    create_site("BDX")
    create_site("TLS")
    users = {
        Role.SITE_STAFF: create_user("staff", Role.SITE_STAFF, "BDX"),
        Role.INVESTIGATOR: create_user("investigator", Role.INVESTIGATOR, "BDX"),
        Role.MONITOR: create_user("monitor", Role.MONITOR, "BDX"),
        Role.DATA_MANAGER: create_user("datamanager", Role.DATA_MANAGER),
        Role.SPONSOR: create_user("sponsor", Role.SPONSOR),
        Role.ADMIN: create_user("admin", Role.ADMIN),
        "other site": create_user("tls.staff", Role.SITE_STAFF, "TLS"),
    }
    today = utcnow().date()
    with app.app_context():
        study = current_study()
        site = db.session.scalar(sa.select(Site).where(Site.code == "BDX"))
        made = {}
        for high in (False, True):
            subject = subjects.register_subject(site, actor=None)
            db.session.commit()
            counts = seed(study, subject, high=high, today=today)
            date_visits(study, subject, high=high, today=today)
            made[subject.identifier] = counts
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(ItemValue))
    return users, made, stored


def pages(app, identifier: str, *, every_form: bool) -> list[str]:
    """The subject's page, and every form of every visit with its history (or, with
    ``every_form`` false, the first form of each visit)."""
    with app.app_context():
        study = current_study()
        urls = [f"/subjects/{identifier}"]
        for visit in study.study.visits:
            for form_oid in visit.forms if every_form else visit.forms[:1]:
                url = f"/subjects/{identifier}/visits/{visit.oid}/1/forms/{form_oid}"
                group = study.forms[form_oid].groups[0]
                key = MAX_INTEGER if group.repeating else 1
                urls += [url, f"{url}/history?field={group.oid}[{key}].{group.items[0].oid}"]
                if every_form:
                    urls.append(url + "/history")
    return urls


GENERAL = ["/", "/sites/", "/sites/BDX", "/sites/TLS", "/account"]
MATRIX = [
    "/subjects",
    "/subjects?site=BDX",
    "/subjects?status=screening",
    "/subjects?site=BDX&status=screening&page=1",
    "/subjects?page=2",
]
ADMIN = ["/admin/sites", "/admin/users", "/admin/users/new", "/admin/users/staff"]


def allowed(url: str, sees: bool, sees_elsewhere: bool, admin_users: bool) -> set[int]:
    """The statuses a page may answer: what the role may see, or a refusal; never a 5xx.
    Another site's subject answers like a missing one."""
    if url.startswith("/subjects/"):
        return {200 if sees else 404 if sees_elsewhere else 403}
    if url.startswith("/admin/users"):
        return {200 if admin_users else 403}
    return {200, 403, 404}


def test_extreme_values_break_no_page_for_any_role(app, client, auth, world):
    users, made, stored = world
    for identifier, counts in made.items():
        # Nearly everything went in: only combinations an edit check forbids were left out.
        assert counts["saved"] >= 60 and counts["refused"] <= counts["saved"], (identifier, counts)
    assert stored > 1000

    low, high = sorted(made)
    # Every form as a role that edits and as one that only reads; the others see each
    # visit's first form (the same templates, with their own rights).
    every = {
        Role.SITE_STAFF: [low, high],
        Role.MONITOR: [low],
    }
    failures = []
    for role, user_id in users.items():
        with app.app_context():
            user = db.session.get(User, user_id)
            site_id = db.session.scalar(sa.select(Site.id).where(Site.code == "BDX"))
            sees = can(user, Perm.VIEW_SUBJECTS, site_id)
            sees_elsewhere = can(user, Perm.VIEW_SUBJECTS)
            admin_users = can(user, Perm.MANAGE_USERS, None)
            username = user.username
        auth.login(username)
        urls = GENERAL + MATRIX + ADMIN
        for identifier in (low, high):
            urls += pages(app, identifier, every_form=identifier in every.get(role, ()))
        for url in urls:
            status = client.get(url).status_code
            if status not in allowed(url, sees, sees_elsewhere, admin_users):
                failures.append((role, url, status))
        auth.logout()
    assert failures == []

    # The values are on the pages, as text.
    auth.login("staff")
    page = client.get(f"/subjects/{high}/visits/SCR/1/forms/DM").get_data(as_text=True)
    assert "<script>alert" not in page
    vs = client.get(f"/subjects/{low}/visits/SCR/1/forms/VS").get_data(as_text=True)
    assert 'value="1900-01-01"' in vs
    lesions = client.get(f"/subjects/{high}/visits/SCR/1/forms/TUBL").get_data(as_text=True)
    assert f"-{MAX_INTEGER}-" in lesions  # the row with the largest key is on the page
