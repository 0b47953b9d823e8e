"""`ecrf export queries`: a row per query (where, state, opened by and at, last answer,
closed at), all sites or one, the export audited; refused to roles that see no free text."""

from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa

from ecrf.audit.models import AuditEvent
from ecrf.auth.models import User
from ecrf.auth.roles import Role
from ecrf.errors import PermissionDenied
from ecrf.exports.queries_csv import COLUMNS, write_queries
from ecrf.extensions import db
from ecrf.queries import services as queries
from ecrf.queries.services import QueryTarget
from ecrf.records.loader import current_study
from ecrf.study import subjects


@pytest.fixture
def asked(app, create_site, create_user, create_subject):
    create_site("BDX")
    create_site("TLS")
    create_user("monitor", Role.MONITOR)
    create_user("staff.bdx", Role.SITE_STAFF, "BDX")
    create_user("sponsor", Role.SPONSOR)
    bdx = create_subject("BDX", {("SCR", "DM"): {("DM", 1): {"SEX": "M"}}})
    tls = create_subject("TLS", {("SCR", "DM"): {("DM", 1): {"SEX": "F"}}})
    with app.app_context():
        study = current_study()
        monitor = db.session.scalar(sa.select(User).where(User.username == "monitor"))
        staff = db.session.scalar(sa.select(User).where(User.username == "staff.bdx"))
        sex = QueryTarget("SCR", 1, "DM", item_oid="SEX")
        first = queries.open_query(
            study, subjects.get_subject(bdx), sex, "Sex, as on the ID?", actor=monitor
        )
        queries.answer_query(first, "Male, checked.", actor=staff)
        queries.close_query(first, actor=monitor)
        queries.open_query(
            study, subjects.get_subject(tls), QueryTarget("SCR", 1), "Visit letter?", actor=monitor
        )
        db.session.commit()


def rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_query_is_a_row_and_the_export_is_audited(app, runner, asked, tmp_path):
    out = tmp_path / "queries.csv"
    result = runner.invoke(args=["export", "queries", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote 2 queries (all sites) to {out}." in result.output
    first, second = rows(out)
    assert tuple(first) == COLUMNS
    assert {
        k: first[k]
        for k in ("site", "subject", "visit", "form", "item_group", "row", "item", "level", "state")
    } == {
        "site": "BDX",
        "subject": "BDX-001",
        "visit": "SCR",
        "form": "DM",
        "item_group": "DM",
        "row": "1",
        "item": "SEX",
        "level": "item",
        "state": "closed",
    }
    assert (
        first["question"],
        first["opened_by"],
        first["last_answer"],
        first["last_answer_by"],
    ) == (
        "Sex, as on the ID?",
        "monitor",
        "Male, checked.",
        "staff.bdx",
    )
    assert first["opened_at_utc"].endswith("+00:00") and first["closed_at_utc"].endswith("+00:00")
    assert (second["subject"], second["level"], second["state"], second["form"]) == (
        "TLS-001",
        "visit",
        "open",
        "",
    )
    assert (second["last_answer"], second["closed_at_utc"]) == ("", "")
    with app.app_context():
        last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (last.action, last.entity, last.entity_id, last.new) == (
            "export",
            "extract",
            "queries",
            "2 queries",
        )


def test_one_sites_queries(runner, asked, tmp_path):
    out = tmp_path / "tls.csv"
    result = runner.invoke(args=["export", "queries", "--out", str(out), "--site", "tls"])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 query (TLS)" in result.output
    assert [r["subject"] for r in rows(out)] == ["TLS-001"]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--site", "XX"], "There is no site XX."), ([], "is a folder: give the CSV file's path.")],
)
def test_bad_options_are_named(runner, asked, tmp_path, args, message):
    out = tmp_path / "x.csv" if args else tmp_path
    result = runner.invoke(args=["export", "queries", "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_role_that_sees_no_free_text_gets_no_queries(app, asked, tmp_path):
    with app.app_context():
        sponsor = db.session.scalar(sa.select(User).where(User.username == "sponsor"))
        with pytest.raises(PermissionDenied):
            write_queries(tmp_path / "q.csv", site_ids=None, actor=sponsor)
