"""The API's reads: site scope, free text withheld, pagination, bad input, audit events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.exports.privacy import is_free_text
from ecrf.exports.stream import iter_values
from ecrf.extensions import db
from ecrf.integrity import verify_trail
from ecrf.queries.models import Query
from ecrf.records.loader import current_study
from ecrf.records.models import Site, Subject
from tests.exports.api_helpers import bearer, issue_token


@pytest.fixture(scope="module")
def tokens(seeded) -> dict[str, str]:
    names = ("staff.bdx", "sponsor", "datamanager", "admin", "monitor")
    return {name: issue_token(seeded.app, name) for name in names}


def _get(seeded, tokens, who: str, path: str, **params):
    return seeded.app.test_client().get(path, headers=bearer(tokens[who]), query_string=params)


def _identifiers(seeded, site: str | None = None) -> list[str]:
    with seeded.app.app_context():
        query = sa.select(Subject.identifier).join(Site).order_by(Site.code, Subject.number)
        if site:
            query = query.where(Site.code == site)
        return list(db.session.scalars(query))


def _api_reads(seeded) -> list[AuditEvent]:
    with seeded.app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "api_read").order_by(AuditEvent.seq)
        ).all()
        db.session.expunge_all()
        return list(events)


def _free_text_visit(seeded) -> tuple[str, str, int, str]:
    """A visit holding a free-text value: (subject, visit, repeat, item)."""
    with seeded.app.app_context():
        study = current_study()
        for record in iter_values():
            _, item = study.item(record.form_oid, record.item_oid)
            if is_free_text(item) and record.value:
                return record.subject, record.visit_oid, record.visit_repeat, record.item_oid
    raise AssertionError("the seeded patients hold no free text")


def test_site_staff_token_sees_only_its_site(seeded, tokens):
    listed = _get(seeded, tokens, "staff.bdx", "/api/v1/subjects", per_page=100).json
    bdx = _identifiers(seeded, "BDX")
    assert [s["identifier"] for s in listed["items"]] == bdx and listed["total"] == len(bdx)
    other = next(i for i in _identifiers(seeded) if not i.startswith("BDX"))
    assert _get(seeded, tokens, "staff.bdx", "/api/v1/subjects", site="TLS").json["total"] == 0
    elsewhere = _get(seeded, tokens, "staff.bdx", f"/api/v1/subjects/{other}")
    missing = _get(seeded, tokens, "staff.bdx", "/api/v1/subjects/BDX-999")
    assert elsewhere.status_code == missing.status_code == 404
    assert elsewhere.json == missing.json
    for path in (f"/api/v1/subjects/{other}/findings", f"/api/v1/subjects/{other}/visits/SCR/1"):
        assert _get(seeded, tokens, "staff.bdx", path).status_code == 404
    # The all-site data manager sees that subject.
    assert _get(seeded, tokens, "datamanager", f"/api/v1/subjects/{other}").status_code == 200


def test_admin_token_sees_no_clinical_data(seeded, tokens):
    identifier = _identifiers(seeded)[0]
    for path in ("/api/v1/subjects", f"/api/v1/subjects/{identifier}"):
        response = _get(seeded, tokens, "admin", path)
        assert response.status_code == 403 and response.json["error"]["status"] == 403
    me = _get(seeded, tokens, "admin", "/api/v1/me").json
    assert me["subject_sites"] == [] and me["roles"] == [{"role": "admin", "site": None}]


def test_sponsor_gets_no_free_text_and_the_data_manager_does(seeded, tokens):
    subject, visit, repeat, item_oid = _free_text_visit(seeded)
    path = f"/api/v1/subjects/{subject}/visits/{visit}/{repeat}"

    def values(who: str) -> list[dict]:
        response = _get(seeded, tokens, who, path)
        assert response.status_code == 200
        return [
            value
            for form in response.json["forms"]
            for row in form["rows"]
            for value in row["items"]
        ]

    sponsor = [v for v in values("sponsor") if v["item_oid"] == item_oid]
    manager = [v for v in values("datamanager") if v["item_oid"] == item_oid]
    assert sponsor and all(v["withheld"] and v["value"] is None for v in sponsor)
    assert manager and any(v["value"] for v in manager) and not any(v["withheld"] for v in manager)
    with seeded.app.app_context():
        study = current_study()
        for value in values("sponsor"):
            form_items = [
                f for f in study.forms.values() if study.has_item(f.oid, value["item_oid"])
            ]
            assert value["withheld"] == is_free_text(
                study.item(form_items[0].oid, value["item_oid"])[1]
            )
    assert _get(seeded, tokens, "sponsor", "/api/v1/me").json["free_text_withheld"] is True


def test_visit_values_are_the_stored_codes_with_missing_codes_and_derived_flags(seeded, tokens):
    with seeded.app.app_context():
        records = list(iter_values())
    derived = next(r for r in records if r.derived)
    response = _get(
        seeded,
        tokens,
        "datamanager",
        f"/api/v1/subjects/{derived.subject}/visits/{derived.visit_oid}/{derived.visit_repeat}",
    ).json
    got = {
        (form["form_oid"], row["group_oid"], row["repeat_key"], v["item_oid"]): v
        for form in response["forms"]
        for row in form["rows"]
        for v in row["items"]
    }
    expected = [
        r
        for r in records
        if (r.subject, r.visit_oid, r.visit_repeat)
        == (derived.subject, derived.visit_oid, derived.visit_repeat)
    ]
    assert len(got) == len(expected)
    for r in expected:
        value = got[(r.form_oid, r.group_oid, r.repeat_key, r.item_oid)]
        assert (value["value"], value["missing_code"], value["derived"]) == (
            r.value,
            r.missing_code,
            r.derived,
        )
    assert any(v["derived"] for v in got.values())
    assert any(v["decode"] for v in got.values()), "coded items carry their label"


def test_pagination_walks_every_subject_once_by_links(seeded, tokens):
    everyone = _identifiers(seeded)
    client = seeded.app.test_client()
    url, seen, pages = "/api/v1/subjects?per_page=3", [], 0
    while url:
        body = client.get(url, headers=bearer(tokens["monitor"])).json
        assert len(body["items"]) <= 3 and body["total"] == len(everyone)
        seen += [s["identifier"] for s in body["items"]]
        url, pages = body["links"]["next"], pages + 1
    assert seen == everyone and pages == body["pages"] == -(-len(everyone) // 3)
    assert body["links"]["prev"] is not None and body["links"]["last"] == body["links"]["self"]
    beyond = _get(seeded, tokens, "monitor", "/api/v1/subjects", page=pages + 5, per_page=3)
    assert beyond.status_code == 200 and beyond.json["items"] == []
    included = _get(seeded, tokens, "monitor", "/api/v1/subjects", status="included").json
    assert all(s["status"] == "included" for s in included["items"])
    bdx = _get(seeded, tokens, "monitor", "/api/v1/subjects", site="bdx", per_page=100).json
    assert [s["identifier"] for s in bdx["items"]] == _identifiers(seeded, "BDX")
    assert "site=BDX" in bdx["links"]["self"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "0"}, "per_page"),
        ({"page": "0"}, "page must"),
        ({"page": "abc"}, "page must"),
        ({"page": "99999999999999999999"}, "page must"),
        ({"status": "dead"}, "Unknown subject status"),
        ({"site": "X" * 300}, "site must be a site code"),
        ({"site": "B-X"}, "site must be a site code"),
    ],
)
def test_bad_query_parameters_get_a_json_400_naming_them(seeded, tokens, params, fragment):
    before = len(_api_reads(seeded))
    response = _get(seeded, tokens, "sponsor", "/api/v1/subjects", **params)
    assert response.status_code == 400 and fragment in response.json["error"]["message"]
    assert len(_api_reads(seeded)) == before


def test_errors_under_the_api_are_json_never_html(seeded, tokens):
    client = seeded.app.test_client()
    identifier = _identifiers(seeded)[0]
    cases = [
        (client.get("/api/v1/nowhere", headers=bearer(tokens["sponsor"])), 404),
        (client.post("/api/v1/subjects", headers=bearer(tokens["sponsor"])), 405),
        (client.get("/api/v1/subjects?site=%00", headers=bearer(tokens["sponsor"])), 400),
        (_get(seeded, tokens, "sponsor", f"/api/v1/subjects/{identifier}/visits/NOPE/1"), 404),
        (
            _get(
                seeded, tokens, "sponsor", f"/api/v1/subjects/{identifier}/visits/SCR/99999999999"
            ),
            404,
        ),
        (
            _get(seeded, tokens, "sponsor", f"/api/v1/subjects/{identifier}/findings", status="x"),
            400,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, response.get_data(as_text=True)[:200]
        assert response.is_json and response.json["error"]["status"] == status


def test_every_read_of_clinical_data_leaves_one_audit_event(seeded, tokens):
    identifier = _identifiers(seeded, "BDX")[0]
    with seeded.app.app_context():
        visit = db.session.scalar(
            sa.select(Subject).where(Subject.identifier == identifier)
        ).visits[0]
        visit_path = f"/api/v1/subjects/{identifier}/visits/{visit.visit_oid}/{visit.repeat_key}"
    reads = [
        ("/api/v1/subjects?per_page=2&site=BDX", "subject_list", "page 1 of 2"),
        (f"/api/v1/subjects/{identifier}", "subject", identifier),
        (visit_path, "visit", f"{identifier}/{visit.visit_oid}/{visit.repeat_key}"),
        (f"/api/v1/subjects/{identifier}/findings", "findings", identifier),
    ]
    for path, entity, entity_id in reads:
        before = _api_reads(seeded)
        response = seeded.app.test_client().get(path, headers=bearer(tokens["staff.bdx"]))
        assert response.status_code == 200
        after = _api_reads(seeded)
        assert len(after) == len(before) + 1, path
        event = after[-1]
        assert (event.entity, event.entity_id, event.actor) == (entity, entity_id, "staff.bdx")
    assert after[-4].new == " ".join(_identifiers(seeded, "BDX")[:2])
    assert after[-4].field == "site=BDX status=*"
    before = len(_api_reads(seeded))
    _get(seeded, tokens, "staff.bdx", "/api/v1/me")
    _get(seeded, tokens, "admin", "/api/v1/subjects")
    _get(seeded, tokens, "staff.bdx", "/api/v1/subjects/TLS-001")
    assert len(_api_reads(seeded)) == before, "no clinical data read, no event"
    with seeded.app.app_context():
        verification = verify_trail()
        assert verification.intact, verification.problems.shown


def test_reasons_typed_by_the_sites_are_withheld_from_the_sponsor(seeded, tokens):
    with seeded.app.app_context():
        identifier = db.session.scalar(
            sa.select(Subject.identifier).where(Subject.status_reason.is_not(None)).limit(1)
        )
    assert identifier, "the seeded patients include a screen failure or a withdrawal"
    path = f"/api/v1/subjects/{identifier}"
    assert _get(seeded, tokens, "datamanager", path).json["status_reason"]
    assert _get(seeded, tokens, "sponsor", path).json["status_reason"] is None


def test_verification_passes_over_event_kinds_no_reconciler_knows(seeded):
    from ecrf.audit.services import record_event

    with seeded.app.app_context():
        record_event("api_read", "subject", "BDX-001", actor=None)
        record_event("export", "extract", "csv", actor=None, new="rows=42")
        record_event("a_kind_added_later", "something", "1", actor=None)
        db.session.commit()
        verification = verify_trail()
        assert verification.intact, verification.problems.shown
        assert verification.chain.events > 3


def _subject_with_a_query(seeded) -> str:
    with seeded.app.app_context():
        identifier = db.session.scalar(
            sa.select(Subject.identifier)
            .join(Query, Query.subject_id == Subject.id)
            .order_by(Query.id)
            .limit(1)
        )
    assert identifier, "the seeded patients' warnings opened no query"
    return identifier


def test_a_subjects_queries_come_with_their_thread_and_free_text_only_to_who_sees_it(
    seeded, tokens
):
    identifier = _subject_with_a_query(seeded)
    path = f"/api/v1/subjects/{identifier}/queries"
    manager = _get(seeded, tokens, "datamanager", path)
    assert manager.status_code == 200
    first = manager.json["items"][0]
    assert manager.json["total"] == len(manager.json["items"]) >= 1
    assert first["check"] and first["level"] == "item" and first["item_oid"]
    opened = first["messages"][0]
    assert (opened["kind"], opened["author"]) == ("opened", None)  # the system asked
    assert opened["text"]
    sponsor = _get(seeded, tokens, "sponsor", path).json["items"][0]
    assert sponsor["id"] == first["id"] and sponsor["state"] == first["state"]
    assert {m["text"] for m in sponsor["messages"]} == {None}
    reads = [e for e in _api_reads(seeded) if e.entity == "queries"]
    assert [e.entity_id for e in reads[-2:]] == [identifier, identifier]
